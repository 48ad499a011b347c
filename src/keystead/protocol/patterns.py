"""Compile the `pattern` trait of botocore's models, which is written in Java regex syntax.

AWS validates these patterns with `java.util.regex` against the whole value (`Matcher.matches`),
so three differences from Python's `re` matter:

- Java's `\\w`, `\\d` and `\\s` are ASCII-only by default: we compile with `re.ASCII`.
- `\\p{L}`, `\\p{Z}`, `\\p{N}` (Unicode general categories) do not exist in `re`; we expand them
  into explicit code-point ranges built once from `unicodedata`.
- Java strings are UTF-16, so the models write supplementary characters as surrogate pairs
  (`\\uD800\\uDC00-\\uDBFF\\uDFFF`); we fold such pairs into one code point.

The original pattern text is kept for error messages, which quote it verbatim.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_CATEGORY = re.compile(r"\\p\{(?P<name>[A-Za-z]{1,2})\}")
_SURROGATE_PAIR = re.compile(r"\\u(?P<hi>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<lo>[dD][c-fC-F][0-9a-fA-F]{2})")


@functools.cache
def _major_category_ranges() -> dict[str, list[tuple[int, int]]]:
    """Code-point ranges of every one-letter general category, from a single pass (~0.15 s)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    current = ""
    start = 0
    for code_point in range(sys.maxunicode + 1):
        major = unicodedata.category(chr(code_point))[0]
        if major != current:
            if current:
                ranges.setdefault(current, []).append((start, code_point - 1))
            current, start = major, code_point
    ranges.setdefault(current, []).append((start, sys.maxunicode))
    return ranges


@functools.cache
def _category_class(name: str) -> str:
    """The body of a character class (no brackets) for a general category like `L` or `Nd`."""
    if len(name) == 1:
        ranges = _major_category_ranges().get(name, [])
    else:
        ranges = []
        start = -1
        for code_point in range(sys.maxunicode + 2):
            inside = code_point <= sys.maxunicode and unicodedata.category(chr(code_point)) == name
            if inside and start < 0:
                start = code_point
            elif not inside and start >= 0:
                ranges.append((start, code_point - 1))
                start = -1
    return "".join(
        _escape_code_point(lo) if lo == hi else f"{_escape_code_point(lo)}-{_escape_code_point(hi)}"
        for lo, hi in ranges
    )


def _escape_code_point(code_point: int) -> str:
    return f"\\U{code_point:08x}"


def _fold_surrogates(match: re.Match[str]) -> str:
    high = int(match.group("hi"), 16)
    low = int(match.group("lo"), 16)
    return _escape_code_point(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _expand_category(match: re.Match[str], pattern: str) -> str:
    body = _category_class(match.group("name"))
    if _inside_class(pattern, match.start()):
        return body
    return f"[{body}]"


def _inside_class(pattern: str, position: int) -> bool:
    """Whether `position` lies inside a `[...]` character class (escape-aware, no nesting)."""
    inside = False
    index = 0
    while index < position:
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[" and not inside:
            inside = True
        elif char == "]" and inside:
            inside = False
        index += 1
    return inside


def translate(java_pattern: str) -> str:
    """Rewrite a Java regex from a botocore model into an equivalent Python `re` pattern."""
    translated = _SURROGATE_PAIR.sub(_fold_surrogates, java_pattern)
    return _CATEGORY.sub(lambda match: _expand_category(match, translated), translated)


def compile_pattern(java_pattern: str) -> re.Pattern[str]:
    """Compile a model pattern for full-value matching.

    Raises:
        re.error: the pattern uses Java syntax we do not translate (a load-time failure).
    """
    return re.compile(translate(java_pattern), re.ASCII)
