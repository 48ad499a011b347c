"""Wildcard matching is escape-safe and segment-wise for ARNs; templates keep variable text literal."""

from __future__ import annotations

import pytest

from keystead.policy.patterns import compile_glob, parse_template


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("kms:*", "kms:Encrypt", True),
        ("kms:*", "kmsx:Encrypt", False),
        ("kms:Generate*", "kms:GenerateDataKeyPair", True),
        ("kms:Generate*", "kms:Generate", True),
        ("kms:Describe?ey", "kms:DescribeKey", True),
        ("kms:Describe?ey", "kms:DescribeMyKey", False),
        ("*", "", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXbYY", False),
        ("exact", "exact", True),
        ("exact", "exactly", False),
    ],
)
def test_glob_matches_star_and_question_mark_over_the_whole_string(
    pattern: str, value: str, expected: bool
) -> None:
    assert compile_glob(pattern)(value) is expected


@pytest.mark.parametrize("pattern", ["a.b", "(x)+", "[abc]", "a\\d", "^$", "a|b", "{1,2}"])
def test_regex_metacharacters_in_a_pattern_are_literal(pattern: str) -> None:
    match = compile_glob(pattern + "*")
    assert match(pattern + "tail")
    assert not match("z" + pattern)


def test_regex_metacharacters_never_act_as_regex() -> None:
    assert not compile_glob("a.c")("abc")
    assert not compile_glob("[ab]")("a")


def test_ignore_case_lowers_both_sides() -> None:
    assert compile_glob("KMS:Gen*", ignore_case=True)("kms:GENERATEDATAKEY")


def test_arn_wildcards_do_not_cross_the_first_five_colons() -> None:
    # The IAM guide's own example of ArnLike against StringLike.
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert compile_glob(pattern)(value)
    assert not compile_glob(pattern, arn=True)(value)


def test_arn_wildcards_in_the_resource_field_span_colons_and_slashes() -> None:
    match = compile_glob("arn:aws:kms:*:111122223333:key/*", arn=True)
    assert match("arn:aws:kms:us-east-1:111122223333:key/a/b:c")
    assert not match("arn:aws:kms:us-east-1:444455556666:key/a")


def test_arn_question_mark_in_a_fixed_field_matches_one_non_colon_character() -> None:
    match = compile_glob("arn:aws:kms:us-east-?:111122223333:*", arn=True)
    assert match("arn:aws:kms:us-east-1:111122223333:alias/x")
    assert not match("arn:aws:kms:us-east-10:111122223333:alias/x")


def test_an_arn_pattern_without_five_colons_matches_as_a_plain_pattern() -> None:
    assert compile_glob("*", arn=True)("arn:aws:kms:us-east-1:111122223333:key/x")


def test_template_without_variables_is_static() -> None:
    template = parse_template("arn:aws:s3:::bucket/*", variables=True)
    assert template.static == (("arn:aws:s3:::bucket/*", True),)


def test_template_substitutes_a_variable_as_literal_text() -> None:
    template = parse_template("home/${aws:username}/*", variables=True)
    assert template.resolve({"aws:username": ("b*b",)}, []) == (("home/", True), ("b*b", False), ("/*", True))


def test_template_variable_names_are_case_insensitive() -> None:
    template = parse_template("${AWS:UserName}", variables=True)
    assert template.resolve({"aws:username": ("bob",)}, []) == (("bob", False),)


def test_template_uses_the_default_when_the_key_is_absent() -> None:
    template = parse_template("${aws:userid, 'anonymous'}", variables=True)
    assert template.resolve({}, []) == (("anonymous", False),)


def test_template_reports_an_unresolvable_variable_as_missing() -> None:
    missing: list[str] = []
    assert parse_template("${aws:PrincipalTag/team}", variables=True).resolve({}, missing) is None
    assert missing == ["aws:PrincipalTag/team"]


def test_template_does_not_resolve_a_multi_valued_key() -> None:
    assert parse_template("${aws:TagKeys}", variables=True).resolve({"aws:tagkeys": ("a", "b")}, []) is None


@pytest.mark.parametrize(("escape", "char"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")])
def test_special_variables_are_literal_characters(escape: str, char: str) -> None:
    template = parse_template(f"a{escape}b", variables=True)
    assert template.static == (("a", True), (char, False), ("b", True))


def test_without_variables_dollar_brace_is_literal() -> None:
    template = parse_template("${aws:username}", variables=False)
    assert template.static == (("${aws:username}", True),)


def test_a_pattern_of_many_stars_is_matched_exactly_without_backtracking_blowup() -> None:
    pattern = "*a" * 60 + "*b"
    assert not compile_glob(pattern)("a" * 3000)
    assert compile_glob(pattern)("a" * 3000 + "b")


def test_consecutive_stars_are_one_star() -> None:
    assert compile_glob("a**b")("ab")
    assert compile_glob("a***")("a")


def test_question_marks_between_stars_are_placed_leftmost_first() -> None:
    match = compile_glob("*a?c*x?z")
    assert match("__abc__xyz")
    assert match("abcxyz")
    assert not match("abxyz")


def test_literal_star_from_an_escape_is_not_a_wildcard_inside_an_arn() -> None:
    template = parse_template("arn:aws:s3:::bucket/${*}/*", variables=True)
    assert template.static is not None
    from keystead.policy.patterns import compile_chunks

    match = compile_chunks(template.static, True)
    assert match("arn:aws:s3:::bucket/*/x")
    assert not match("arn:aws:s3:::bucket/y/x")
