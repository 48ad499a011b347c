"""Escape-safe wildcard matching and policy-variable templates.

IAM wildcards are `*` (any run of characters, possibly empty) and `?` (exactly one character).
No pattern is ever handed to a regex engine: a matcher is an equality test, a prefix test, or a
segment matcher that splits the pattern at its stars and places the fixed-length pieces between
them greedily, leftmost first (which is exact for such pieces). That costs at most
O(len(pattern) * len(value)) whatever the pattern, so a policy author cannot write a `*a*a*a*...`
pattern that backtracks for seconds on every request.

ARN matching is segment-wise [IAM:reference_policies_elements_resource]: in the first five
colon-separated fields a wildcard stops at `:`; in the resource field it may span `:` and `/`.

A template is a policy string that may hold variables (`${aws:username}`, `${aws:PrincipalTag/k,
'default'}`) and the escapes `${*}`, `${?}`, `${$}` [IAM:reference_policies_variables]. Text that
came from a variable or an escape is always literal, never a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

Matcher = Callable[[str], bool]
# A resolved template: runs of text, each flagged True when its `*` and `?` are wildcards.
Chunks = tuple[tuple[str, bool], ...]
# A pattern as tokens: a character, or None for a wildcard `?`, or STAR for a wildcard `*`.
_Token = str | None
_STAR = "**"  # two characters, so it never equals a one-character literal token

_ARN_FIXED_FIELDS = 5  # partition, service, region, account... then the free-form resource


def _always(_: str) -> bool:
    return True


def _tokens(chunks: Chunks) -> list[_Token]:
    tokens: list[_Token] = []
    for text, wild in chunks:
        for ch in text:
            if wild and ch == "*":
                if not tokens or tokens[-1] != _STAR:  # "**" is "*"
                    tokens.append(_STAR)
            elif wild and ch == "?":
                tokens.append(None)
            else:
                tokens.append(ch)
    return tokens


@dataclass(frozen=True, slots=True)
class _Piece:
    """A fixed-length run between stars: plain text, or text with `?` positions."""

    text: str  # the characters, with "?" standing in for any-one positions when `any_one` is set
    any_one: tuple[int, ...]  # offsets of wildcard `?`

    @property
    def size(self) -> int:
        return len(self.text)

    def at(self, value: str, position: int) -> bool:
        if not self.any_one:
            return value.startswith(self.text, position)
        if position + self.size > len(value):
            return False
        return all(i in self.any_one or value[position + i] == ch for i, ch in enumerate(self.text))

    def find(self, value: str, start: int, end: int) -> int:
        """The leftmost position in [start, end - size] where the piece matches, or -1."""
        if not self.any_one:
            return value.find(self.text, start, end)
        for position in range(start, end - self.size + 1):
            if self.at(value, position):
                return position
        return -1


def _piece(tokens: list[_Token]) -> _Piece:
    return _Piece(
        "".join("?" if t is None else t for t in tokens), tuple(i for i, t in enumerate(tokens) if t is None)
    )


def _segment_matcher(tokens: list[_Token]) -> Matcher:
    """Match the whole value against tokens, with stars placed greedily between fixed pieces."""
    runs: list[list[_Token]] = [[]]
    for token in tokens:
        if token == _STAR:
            runs.append([])
        else:
            runs[-1].append(token)
    pieces = [_piece(run) for run in runs]
    if len(pieces) == 1:
        only = pieces[0]
        return lambda value: len(value) == only.size and only.at(value, 0)
    first, last = pieces[0], pieces[-1]
    middle = [p for p in pieces[1:-1] if p.size]
    minimum = sum(p.size for p in pieces)

    def match(value: str) -> bool:
        if len(value) < minimum or not first.at(value, 0):
            return False
        tail = len(value) - last.size
        if not last.at(value, tail):
            return False
        position = first.size
        for piece in middle:
            found = piece.find(value, position, tail)
            if found < 0:
                return False
            position = found + piece.size
        return True

    return match


def _simple_matcher(tokens: list[_Token]) -> Matcher | None:
    """A cheap test for a pattern with no wildcard, a lone star, or one trailing star; else None."""
    wildcards = sum(1 for t in tokens if t is None or t == _STAR)
    if not wildcards:
        return "".join(t for t in tokens if t is not None).__eq__
    if tokens == [_STAR]:
        return _always
    if wildcards == 1 and tokens[-1] == _STAR:
        prefix = "".join(t for t in tokens[:-1] if t is not None)
        return lambda value: value.startswith(prefix)
    return None


def _arn_matcher(tokens: list[_Token]) -> Matcher:
    """Field by field: the first five fields cannot hold a colon, so their stars cannot cross one."""
    fields: list[list[_Token]] = [[]]
    for token in tokens:
        if token == ":" and len(fields) <= _ARN_FIXED_FIELDS:
            fields.append([])
        else:
            fields[-1].append(token)
    # Fields that are a lone star match anything and are skipped; literal fields are compared first.
    literal = [
        (i, "".join(t for t in f if t is not None))
        for i, f in enumerate(fields)
        if _STAR not in f and None not in f
    ]
    checks = [
        (i, _simple_matcher(f) or _segment_matcher(f))
        for i, f in enumerate(fields)
        if f != [_STAR] and (_STAR in f or None in f)
    ]

    def match(value: str) -> bool:
        parts = value.split(":", _ARN_FIXED_FIELDS)
        if len(parts) != len(fields):
            return False
        for i, text in literal:
            if parts[i] != text:
                return False
        return all(check(parts[i]) for i, check in checks)

    return match


@lru_cache(maxsize=8192)
def compile_chunks(chunks: Chunks, arn: bool = False, ignore_case: bool = False) -> Matcher:
    """A predicate that tests a whole string against the wildcard pattern `chunks`."""
    if ignore_case:
        chunks = tuple((text.lower(), wild) for text, wild in chunks)
    tokens = _tokens(chunks)
    if arn and tokens.count(":") < _ARN_FIXED_FIELDS:
        arn = False  # not shaped like an ARN pattern (e.g. a bare "*"): a plain string pattern
    # In ARN mode a lone trailing star follows every colon, so it is in the resource field and the
    # prefix test is exact there too.
    matcher = _simple_matcher(tokens) or (_arn_matcher(tokens) if arn else _segment_matcher(tokens))
    if ignore_case:
        inner = matcher
        return lambda value: inner(value.lower())
    return matcher


def compile_glob(pattern: str, *, arn: bool = False, ignore_case: bool = False) -> Matcher:
    """A predicate for one wildcard pattern with no variables."""
    return compile_chunks(((pattern, True),), arn, ignore_case)


# --- Templates ------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # as written, for reports
    key_lower: str
    default: str | None


TemplatePart = tuple[str, bool] | Variable


@dataclass(frozen=True, slots=True)
class Template:
    """A policy string, split into literal/wildcard text and variables."""

    source: str
    parts: tuple[TemplatePart, ...]
    static: Chunks | None  # the chunks when no variable needs the request

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(p for p in self.parts if isinstance(p, Variable))

    def resolve(self, context: Mapping[str, tuple[str, ...]], missing: list[str]) -> Chunks | None:
        """The chunks with every variable substituted, or None if one cannot be resolved.

        A variable resolves when its key has exactly one value in the request context, else to
        its default. Keys that resolve neither way are appended to `missing`.
        """
        if self.static is not None:
            return self.static
        out: list[tuple[str, bool]] = []
        unresolved = False
        for part in self.parts:
            if isinstance(part, Variable):
                values = context.get(part.key_lower)
                if values is not None and len(values) == 1:
                    out.append((values[0], False))
                elif part.default is not None:
                    out.append((part.default, False))
                else:
                    missing.append(part.key)
                    unresolved = True
            else:
                out.append(part)
        return None if unresolved else tuple(out)


def parse_template(text: str, *, variables: bool) -> Template:
    """Split `text` into parts. With `variables` False (policy Version 2008-10-17) `${` is literal."""
    if not variables or "${" not in text:
        chunks: Chunks = ((text, True),)
        return Template(text, chunks, chunks)
    parts: list[TemplatePart] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > position:
            parts.append((text[position : found.start()], True))
        body = found.group(1)
        if body in _ESCAPES:
            parts.append((_ESCAPES[body], False))
        else:
            with_default = _WITH_DEFAULT.match(body)
            if with_default:
                key, default = with_default.group(1), with_default.group(2)
            else:
                key, default = body.strip(), None
            parts.append(Variable(key, key.lower(), default))
        position = found.end()
    if position < len(text):
        parts.append((text[position:], True))
    if any(isinstance(p, Variable) for p in parts):
        return Template(text, tuple(parts), None)
    static = tuple(p for p in parts if not isinstance(p, Variable))
    return Template(text, static, static)


def flatten(chunks: Chunks) -> str:
    """The resolved text of a template, wildcards taken literally (for the Equals operators)."""
    return "".join(text for text, _ in chunks)
