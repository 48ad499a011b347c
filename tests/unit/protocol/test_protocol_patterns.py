"""Java regexes from botocore's models behave in Python as they do in AWS's Java validators."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader

from keystead.protocol.patterns import compile_pattern


def test_word_class_is_ascii_only_as_in_java() -> None:
    pattern = compile_pattern(r"[\w+=,.@-]+")
    assert pattern.fullmatch("alice.smith@example")
    assert not pattern.fullmatch("zoë")


def test_unicode_categories_expand_to_letters_separators_and_numbers() -> None:
    pattern = compile_pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*")
    assert pattern.fullmatch("Grüße 日本 ٣ \u00a0 _.:/=+-@")
    assert not pattern.fullmatch("semi;colon")
    assert not pattern.fullmatch("emoji \U0001f600")


def test_category_outside_a_class_becomes_its_own_class() -> None:
    pattern = compile_pattern(r"\p{N}+x")
    assert pattern.fullmatch("12٣x")
    assert not pattern.fullmatch("ax")


def test_surrogate_pair_ranges_mean_supplementary_characters() -> None:
    pattern = compile_pattern(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*")
    assert pattern.fullmatch("tab\there \U0001f600")
    assert not pattern.fullmatch("bell\x07")


def test_patterns_match_the_whole_value_only() -> None:
    assert compile_pattern("[0-9]{12}").fullmatch("123456789012")
    assert not compile_pattern("[0-9]{12}").fullmatch("1234567890123")


@pytest.mark.parametrize("service", ["kms", "iam", "sts", "cloudtrail", "ec2"])
def test_every_pattern_in_the_models_compiles(service: str) -> None:
    shapes = Loader().load_service_model(service, "service-2")["shapes"]
    for shape in shapes.values():
        if "pattern" in shape:
            compile_pattern(shape["pattern"])
