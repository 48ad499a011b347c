"""The KMS key lifecycle, driven through boto3 against a live server and checked against a model.

A hypothesis `RuleBasedStateMachine` creates keys (symmetric, ECC_NIST_P256 SIGN_VERIFY,
HMAC_256, and EXTERNAL without material), moves them between Enabled / Disabled /
PendingDeletion / PendingImport, points aliases at them, tags them, rotates them, and uses
them (encrypt, decrypt by key id / ARN / alias / no KeyId, sign/verify, MAC). After every step
the server must agree with `kms_lifecycle_model.KmsModel`: DescribeKey state, rotation status,
ListAliases and ListResourceTags, and every ciphertext produced so far decrypts to its
plaintext iff its key is Enabled, otherwise failing with exactly the kms.md §5 error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.property.kms_lifecycle_model import (
    CREATE_ARGS,
    ENABLED,
    KEY_SPEC,
    KEY_USAGE,
    KINDS,
    Ciphertext,
    KmsModel,
    ModelKey,
    Outcome,
    Refusal,
)
from tests.support import Account, Server

MAX_KEYS = 5
MAX_CIPHERTEXTS = 6
ALIAS_SUFFIXES = ("a", "b", "c")
TAG_KEYS = ("team", "env", "cost-center")
SIGNING_ALGORITHM = "ECDSA_SHA_256"
MAC_ALGORITHM = "HMAC_SHA_256"

texts = st.text(alphabet="abcxyz019-", min_size=1, max_size=8)
contexts = st.dictionaries(st.sampled_from(["purpose", "tenant", "app"]), texts, max_size=2)
messages = st.binary(min_size=1, max_size=64)


def expect(outcome: Outcome, call: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """Run one boto3 call and check it did what the model says: succeed, or fail exactly so."""
    if outcome is None:
        return call()
    with pytest.raises(ClientError) as exc:
        call()
    error = exc.value.response["Error"]
    assert error["Code"] == outcome.code, error
    if outcome.message is not None:
        assert error.get("Message") == outcome.message, error
    return None


class KeyLifecycleMachine(RuleBasedStateMachine):
    """Server vs model; `live` and `account` are set on the class by the test before it runs."""

    live: Server
    account: Account

    def __init__(self) -> None:
        super().__init__()
        self.kms = self.live.client("kms", self.account)
        self.model = KmsModel()
        # Each run owns the aliases under its own prefix, so runs sharing the account do not meet.
        self.prefix = f"alias/sm-{uuid.uuid4().hex[:10]}/"

    # -- helpers -----------------------------------------------------------------------------

    def _alias_arn(self, name: str) -> str:
        return f"arn:aws:kms:us-east-1:{self.account.account_id}:{name}"

    def _pick_key(self, data: st.DataObject, *kinds: str, prefer: str | None = None) -> ModelKey:
        """A key of one of `kinds`; with `prefer`, a key of that kind three times in four when there is one."""
        candidates = self.model.keys_of(*kinds)  # type: ignore[arg-type]
        preferred = self.model.keys_of(prefer) if prefer else []  # type: ignore[arg-type]
        if preferred and data.draw(st.integers(0, 3), label="prefer") > 0:
            candidates = preferred
        return self.model.keys[data.draw(st.sampled_from(candidates), label="key")]

    def _has(self, *kinds: str) -> bool:
        return bool(self.model.keys_of(*kinds))  # type: ignore[arg-type]

    # -- keys and their states ---------------------------------------------------------------

    @initialize(plaintext=messages, context=contexts)
    def start_with_a_symmetric_key_and_a_ciphertext(self, plaintext: bytes, context: dict[str, str]) -> None:
        # Every run then has a ciphertext whose fate the invariants follow through the steps.
        self.create_key("symmetric")
        key_id = self.model.keys_of("symmetric")[0]
        blob = self.kms.encrypt(KeyId=key_id, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
        self.model.ciphertexts.append(Ciphertext(blob, key_id, plaintext, context))

    @initialize(kind=st.sampled_from(KINDS))
    def start_with_another_key(self, kind: str) -> None:
        self.create_key(kind)

    @precondition(lambda self: len(self.model.keys) < MAX_KEYS)
    @rule(kind=st.sampled_from(KINDS))
    def create_key(self, kind: str) -> None:
        meta = self.kms.create_key(**CREATE_ARGS[kind])["KeyMetadata"]  # type: ignore[index]
        key = self.model.add_key(meta["KeyId"], meta["Arn"], kind)  # type: ignore[arg-type]
        assert meta["KeyState"] == key.state and meta["Enabled"] is (key.state == ENABLED)

    @rule(data=st.data())
    def enable(self, data: st.DataObject) -> None:
        key = self._pick_key(data, *KINDS)
        expect(self.model.set_enabled(key, True), lambda: self.kms.enable_key(KeyId=key.key_id))

    @rule(data=st.data())
    def disable(self, data: st.DataObject) -> None:
        key = self._pick_key(data, *KINDS)
        expect(self.model.set_enabled(key, False), lambda: self.kms.disable_key(KeyId=key.key_id))

    @rule(data=st.data(), days=st.integers(min_value=7, max_value=30))
    def schedule_deletion(self, data: st.DataObject, days: int) -> None:
        key = self._pick_key(data, *KINDS)
        response = expect(
            self.model.schedule_deletion(key),
            lambda: self.kms.schedule_key_deletion(KeyId=key.key_id, PendingWindowInDays=days),
        )
        if response is not None:
            assert (response["KeyId"], response["KeyState"]) == (key.arn, "PendingDeletion")
            assert response["PendingWindowInDays"] == days

    @rule(data=st.data())
    def cancel_deletion(self, data: st.DataObject) -> None:
        key = self._pick_key(data, *KINDS)
        response = expect(self.model.cancel_deletion(key), lambda: self.kms.cancel_key_deletion(KeyId=key.key_id))
        if response is not None:
            assert response["KeyId"] == key.arn

    @rule(data=st.data(), how=st.sampled_from(["id", "arn", "alias"]))
    def describe(self, data: st.DataObject, how: str) -> None:
        key = self._pick_key(data, *KINDS)
        if how == "alias":
            names = [n for n, target in self.model.aliases.items() if target == key.key_id]
            if not names:
                return
            handle = data.draw(st.sampled_from(sorted(names)), label="alias")
        else:
            handle = key.key_id if how == "id" else key.arn
        self._check_described(key, self.kms.describe_key(KeyId=handle)["KeyMetadata"])

    # -- aliases and tags --------------------------------------------------------------------

    @rule(data=st.data(), suffix=st.sampled_from(ALIAS_SUFFIXES))
    def create_alias(self, data: st.DataObject, suffix: str) -> None:
        key, name = self._pick_key(data, *KINDS), self.prefix + suffix
        expect(
            self.model.create_alias(name, self._alias_arn(name), key),
            lambda: self.kms.create_alias(AliasName=name, TargetKeyId=key.key_id),
        )

    @rule(data=st.data(), suffix=st.sampled_from(ALIAS_SUFFIXES))
    def update_alias(self, data: st.DataObject, suffix: str) -> None:
        key, name = self._pick_key(data, *KINDS), self.prefix + suffix
        expect(
            self.model.update_alias(name, self._alias_arn(name), key),
            lambda: self.kms.update_alias(AliasName=name, TargetKeyId=key.key_id),
        )

    @rule(suffix=st.sampled_from(ALIAS_SUFFIXES))
    def delete_alias(self, suffix: str) -> None:
        name = self.prefix + suffix
        expect(self.model.delete_alias(name, self._alias_arn(name)), lambda: self.kms.delete_alias(AliasName=name))

    @rule(data=st.data(), tag_key=st.sampled_from(TAG_KEYS), value=st.text(alphabet="abc 12", max_size=6))
    def tag(self, data: st.DataObject, tag_key: str, value: str) -> None:
        key = self._pick_key(data, *KINDS)
        expect(
            self.model.tag(key, tag_key, value),
            lambda: self.kms.tag_resource(KeyId=key.key_id, Tags=[{"TagKey": tag_key, "TagValue": value}]),
        )

    @rule(data=st.data(), tag_key=st.sampled_from(TAG_KEYS))
    def untag(self, data: st.DataObject, tag_key: str) -> None:
        key = self._pick_key(data, *KINDS)
        expect(self.model.untag(key, tag_key), lambda: self.kms.untag_resource(KeyId=key.key_id, TagKeys=[tag_key]))

    # -- rotation ----------------------------------------------------------------------------

    @rule(data=st.data(), enabled=st.booleans())
    def enable_or_disable_rotation(self, data: st.DataObject, enabled: bool) -> None:
        key = self._pick_key(data, *KINDS, prefer="symmetric")
        call = self.kms.enable_key_rotation if enabled else self.kms.disable_key_rotation
        expect(self.model.set_rotation(key, enabled), lambda: call(KeyId=key.key_id))

    @rule(data=st.data())
    def rotate_on_demand(self, data: st.DataObject) -> None:
        key = self._pick_key(data, *KINDS, prefer="symmetric")
        response = expect(self.model.rotate_on_demand(key), lambda: self.kms.rotate_key_on_demand(KeyId=key.key_id))
        if response is not None:
            assert response["KeyId"] == key.arn
            rotations = self.kms.list_key_rotations(KeyId=key.key_id)["Rotations"]
            assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"] * key.on_demand_rotations

    # -- using keys --------------------------------------------------------------------------

    @precondition(lambda self: self._has("symmetric", "external") and len(self.model.ciphertexts) < MAX_CIPHERTEXTS)
    @rule(data=st.data(), plaintext=messages, context=contexts)
    def encrypt(self, data: st.DataObject, plaintext: bytes, context: dict[str, str]) -> None:
        key = self._pick_key(data, "symmetric", "external", prefer="symmetric")
        response = expect(
            key.state_error(),
            lambda: self.kms.encrypt(KeyId=key.key_id, Plaintext=plaintext, EncryptionContext=context),
        )
        if response is not None:
            assert response["KeyId"] == key.arn
            self.model.ciphertexts.append(Ciphertext(response["CiphertextBlob"], key.key_id, plaintext, context))

    @precondition(lambda self: bool(self.model.ciphertexts))
    @rule(data=st.data(), how=st.sampled_from(["none", "id", "arn", "alias"]))
    def decrypt(self, data: st.DataObject, how: str) -> None:
        ciphertext = data.draw(st.sampled_from(self.model.ciphertexts), label="ciphertext")
        named: str | None = None
        kwargs: dict[str, Any] = {"CiphertextBlob": ciphertext.blob, "EncryptionContext": ciphertext.context}
        if how in ("id", "arn"):
            named = ciphertext.key_id
            kwargs["KeyId"] = named if how == "id" else self.model.keys[named].arn
        elif how == "alias" and self.model.aliases:
            # Any alias: one pointing elsewhere must give IncorrectKeyException.
            alias = data.draw(st.sampled_from(sorted(self.model.aliases)), label="alias")
            named, kwargs["KeyId"] = self.model.aliases[alias], alias
        response = expect(self.model.decrypt(ciphertext, named), lambda: self.kms.decrypt(**kwargs))
        if response is not None:
            assert response["Plaintext"] == ciphertext.plaintext
            assert response["KeyId"] == self.model.keys[ciphertext.key_id].arn

    @precondition(lambda self: bool(self.model.ciphertexts))
    @rule(data=st.data(), extra=texts)
    def decrypt_with_another_context(self, data: st.DataObject, extra: str) -> None:
        ciphertext = data.draw(st.sampled_from(self.model.ciphertexts), label="ciphertext")
        wrong = {**ciphertext.context, "other": extra}
        # The key state is checked before the blob is opened; a usable key gives the one opaque error.
        outcome = self.model.keys[ciphertext.key_id].state_error() or Refusal("InvalidCiphertextException")
        expect(outcome, lambda: self.kms.decrypt(CiphertextBlob=ciphertext.blob, EncryptionContext=wrong))

    @precondition(lambda self: self._has("sign"))
    @rule(data=st.data(), message=messages)
    def sign_and_verify(self, data: st.DataObject, message: bytes) -> None:
        key = self._pick_key(data, "sign")
        signed = expect(
            key.state_error(),
            lambda: self.kms.sign(KeyId=key.key_id, Message=message, SigningAlgorithm=SIGNING_ALGORITHM),
        )
        if signed is not None:
            verified = self.kms.verify(
                KeyId=key.key_id, Message=message, Signature=signed["Signature"], SigningAlgorithm=SIGNING_ALGORITHM
            )
            assert verified["SignatureValid"] is True

    @precondition(lambda self: self._has("hmac"))
    @rule(data=st.data(), message=messages)
    def generate_and_verify_mac(self, data: st.DataObject, message: bytes) -> None:
        key = self._pick_key(data, "hmac")
        made = expect(
            key.state_error(),
            lambda: self.kms.generate_mac(KeyId=key.key_id, Message=message, MacAlgorithm=MAC_ALGORITHM),
        )
        if made is not None:
            checked = self.kms.verify_mac(
                KeyId=key.key_id, Message=message, Mac=made["Mac"], MacAlgorithm=MAC_ALGORITHM
            )
            assert checked["MacValid"] is True

    @rule(data=st.data(), operation=st.sampled_from(["Encrypt", "Sign", "GenerateMac"]))
    def use_an_enabled_key_for_the_wrong_purpose(self, data: st.DataObject, operation: str) -> None:
        # Enabled keys only: whether usage or state is checked first differs between operations.
        wrong = {"Encrypt": ("sign", "hmac"), "Sign": ("symmetric", "hmac"), "GenerateMac": ("symmetric", "sign")}
        candidates = [k for k in self.model.keys_of(*wrong[operation]) if self.model.keys[k].state == ENABLED]
        if not candidates:
            return
        key = self.model.keys[data.draw(st.sampled_from(candidates), label="key")]
        calls: dict[str, Callable[[], dict[str, Any]]] = {
            "Encrypt": lambda: self.kms.encrypt(KeyId=key.key_id, Plaintext=b"x"),
            "Sign": lambda: self.kms.sign(KeyId=key.key_id, Message=b"x", SigningAlgorithm=SIGNING_ALGORITHM),
            "GenerateMac": lambda: self.kms.generate_mac(KeyId=key.key_id, Message=b"x", MacAlgorithm=MAC_ALGORITHM),
        }
        expect(Refusal("InvalidKeyUsageException"), calls[operation])

    # -- invariants --------------------------------------------------------------------------

    def _check_described(self, key: ModelKey, meta: dict[str, Any]) -> None:
        assert meta["KeyId"] == key.key_id and meta["Arn"] == key.arn
        assert (meta["KeyState"], meta["Enabled"]) == (key.state, key.state == ENABLED), key
        assert (meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == (
            KEY_SPEC[key.kind], KEY_USAGE[key.kind], key.origin
        )

    @invariant()
    def keys_are_described_as_modelled(self) -> None:
        for key in self.model.keys.values():
            self._check_described(key, self.kms.describe_key(KeyId=key.key_id)["KeyMetadata"])

    @invariant()
    def every_ciphertext_decrypts_iff_its_key_is_enabled(self) -> None:
        # Old ciphertexts must keep opening after rotations: the blob names its material version.
        for ciphertext in self.model.ciphertexts:
            response = expect(
                self.model.decrypt(ciphertext, None),
                lambda: self.kms.decrypt(CiphertextBlob=ciphertext.blob, EncryptionContext=ciphertext.context),
            )
            if response is not None:
                assert response["Plaintext"] == ciphertext.plaintext

    @invariant()
    def aliases_are_listed_as_modelled(self) -> None:
        listed: dict[str, str] = {}
        for page in self.kms.get_paginator("list_aliases").paginate():
            mine = [a for a in page["Aliases"] if a["AliasName"].startswith(self.prefix)]
            listed.update({a["AliasName"]: a["TargetKeyId"] for a in mine})
        assert listed == self.model.aliases
        # Filtered by key, the list comes from another query (and cache) than the full listing.
        for key in self.model.keys.values():
            by_key = self.kms.list_aliases(KeyId=key.key_id)["Aliases"]
            expected = sorted(name for name, target in self.model.aliases.items() if target == key.key_id)
            assert sorted(a["AliasName"] for a in by_key if a["AliasName"].startswith(self.prefix)) == expected

    @invariant()
    def tags_and_rotation_status_are_as_modelled(self) -> None:
        for key in self.model.keys.values():
            tags = self.kms.list_resource_tags(KeyId=key.key_id)["Tags"]
            assert {t["TagKey"]: t["TagValue"] for t in tags} == key.tags, key
            if key.kind == "symmetric":
                status = self.kms.get_key_rotation_status(KeyId=key.key_id)
                assert status["KeyRotationEnabled"] is key.rotation_enabled, key

    def teardown(self) -> None:
        # Keep the shared account's alias list short for the next run.
        for name in list(self.model.aliases):
            self.kms.delete_alias(AliasName=name)


@pytest.fixture(scope="module")
def lifecycle_account(server: Server) -> Account:
    return server.create_account("lifecycle-machine")


def test_key_lifecycle_matches_the_model(server: Server, lifecycle_account: Account) -> None:
    KeyLifecycleMachine.live = server
    KeyLifecycleMachine.account = lifecycle_account
    run_state_machine_as_test(
        KeyLifecycleMachine,
        settings=settings(
            max_examples=15, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
