"""Round-trip laws: whatever botocore's client sends, we read back exactly; whatever we send, it reads."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystead.protocol import ServiceCodec
from keystead.protocol.xml_output import xml_text

# Text that XML 1.0 can carry (no surrogates, no C0 controls but tab and newline).
xml_safe_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_characters="".join(map(chr, range(0x20))) + "\r\ufffe\uffff"
    )
    | st.sampled_from("\t\n"),
    max_size=40,
)

PROPERTY = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)


@PROPERTY
@given(
    plaintext=st.binary(min_size=1, max_size=4096),
    context=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=20), max_size=5),
)
def test_any_encrypt_request_botocore_builds_parses_back_exactly(
    wire: Any, codecs: dict[str, ServiceCodec], plaintext: bytes, context: dict[str, str]
) -> None:
    request = wire.request(
        "kms", "Encrypt", {"KeyId": "alias/k", "Plaintext": plaintext, "EncryptionContext": context}
    )
    params = codecs["kms"].parse(request).params
    assert params["plaintext"] == plaintext
    assert params.get("encryption_context", {}) == context


@PROPERTY
@given(
    tags=st.lists(
        st.fixed_dictionaries(
            {
                "Key": st.text(
                    alphabet=st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=20
                ),
                "Value": st.text(alphabet=st.characters(whitelist_categories=("L", "N")), max_size=20),
            }
        ),
        max_size=5,
    )
)
def test_any_iam_tag_list_botocore_builds_parses_back_exactly(
    wire: Any, codecs: dict[str, ServiceCodec], tags: list[dict[str, str]]
) -> None:
    request = wire.request("iam", "CreateUser", {"UserName": "alice", "Tags": tags})
    params = codecs["iam"].parse(request).params
    assert params.get("tags", []) == [{"key": tag["Key"], "value": tag["Value"]} for tag in tags]


@PROPERTY
@given(description=xml_safe_text, name=xml_safe_text)
def test_any_xml_text_we_render_botocore_reads_back(
    wire: Any, codecs: dict[str, ServiceCodec], description: str, name: str
) -> None:
    result = {
        "role": {"role_name": name, "description": description, "path": "/", "arn": "a", "role_id": "r"}
    }
    parsed = wire.parse("iam", "GetRole", codecs["iam"].render_result("GetRole", result, "req"))
    # An empty element may come back as "" or not at all; both mean the empty string.
    assert parsed["Role"].get("RoleName", "") == name
    assert parsed["Role"].get("Description", "") == description


def test_characters_xml_cannot_carry_are_replaced_not_emitted() -> None:
    assert xml_text("a\x01b\ud800") == "a\ufffdb\ufffd"
