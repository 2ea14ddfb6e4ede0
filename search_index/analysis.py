"""Text analysis shared by both engines, so they agree on what matches.

Chinese has no spaces, so each Han character is a token (as Elasticsearch's standard
analyzer does), and every query term is matched as a phrase: "执法" matches the two
characters side by side, never 执 and 法 apart. Latin words and numbers stay whole.
Traditional characters fold to simplified ones before matching, on the text and on the query
alike, so 隨機抽查 and 随机抽查 find each other; the text is shown (and highlighted) as published.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import opencc

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF))
_HAN = "".join(f"{chr(first)}-{chr(last)}" for first, last in _HAN_RANGES)
_HAN_CHAR = re.compile(f"([{_HAN}])")
_TOKEN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
# A character of a token that is not Han (a letter or digit), and what may stand between two tokens.
_WORD_CHAR, _BETWEEN = re.compile(rf"[^\W_{_HAN}]"), r"[\W_]*"
# The full-width forms of ASCII (U+FF01-FF5E) and the ideographic space, as NFKC has them. Each decomposes to that
# one character, so replacing it before NFKC changes nothing in NFKC's result (both decompose alike).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FULL_WIDTH_CHAR = re.compile("[\uff01-\uff5e\u3000]")
_QUERY_TERM = re.compile(r'"([^"]+)"|(\S+)')

MAX_TERMS = 10
MAX_TERM_LENGTH = 50


def normalize(text: str) -> str:
    """NFKC folds full-width letters and digits (ＡＢＣ１２３) into their ASCII forms; then simplified().

    Most text is NFKC already, which the quick check (``is_normalized``) tells at a third of the cost. The full-width
    forms go first (_FULL_WIDTH), so Chinese punctuation (，：（）) no longer sends nearly every text the slow way."""
    text = _half_width(text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return simplified(text.lower())


def _aligned(text: str) -> str | None:
    """normalize(text) when it leaves every character in its place, one for one (nearly every text), else None:
    a match found on it is then where it is in ``text``."""
    text = _half_width(text)
    if not unicodedata.is_normalized("NFKC", text):
        return None
    lowered = text.lower()  # never shorter: of the same length, each character is still in its place
    return simplified(lowered) if len(lowered) == len(text) else None


def _half_width(text: str) -> str:
    """``text`` with the full-width forms of ASCII as NFKC has them (_FULL_WIDTH). Found in C and replaced one by
    one: a dozen in a text is the usual, and ``str.translate`` would look every character up (a third slower)."""
    return _FULL_WIDTH_CHAR.sub(_ascii, text) if _FULL_WIDTH_CHAR.search(text) else text


def _ascii(match: re.Match[str]) -> str:
    return chr(_FULL_WIDTH[ord(match.group())])


def simplified(text: str) -> str:
    """Traditional characters folded to simplified ones (隨機 to 随机), one for one: the length is kept. Most text
    has none, which a search in C tells at a twentieth of the cost of translating it."""
    return text.translate(_to_simplified()) if _traditional().search(text) else text


@functools.cache
def _traditional() -> re.Pattern[str]:
    """Any character ``simplified`` changes; any beyond the BMP too (the class is then a table, not a list of
    ranges, and such a character is rare enough to translate the text for)."""
    bmp = "".join(sorted(character for character in simplified_characters() if ord(character) < 0x10000))
    return re.compile(f"[{bmp}\U00010000-\U0010ffff]")


@functools.cache
def _to_simplified() -> dict[int, int]:
    return {ord(traditional): ord(simplified) for traditional, simplified in simplified_characters().items()}


@functools.cache
def simplified_characters() -> Mapping[str, str]:
    """Each traditional Han character whose simplified form is one other character: OpenCC's t2s,
    character by character (about 5,000 pairs, built once, in tens of milliseconds).

    One character for one keeps a token's place, so a match found on folded text is highlighted on
    the text as published. OpenCC's phrase tables are not needed: text and query fold alike, and a
    character that folds differently inside some word (乾隆, 乾 -> 干 elsewhere) only widens what
    matches. Changing this table changes every index's tokens: bump the versions in mappings.py.
    """
    characters = [chr(code) for first, last in _HAN_RANGES for code in range(first, last + 1)]
    # One conversion of every character on its own line: no line is a phrase, and a call per character
    # would take 5 times as long.
    converted = opencc.OpenCC("t2s").convert("\n".join(characters)).split("\n")
    pairs = {t: s for t, s in zip(characters, converted, strict=True) if len(s) == 1 and s != t}
    # Folding twice must change nothing (薴 -> 苧 -> 苎): follow each pair to its end.
    for traditional in pairs:
        seen = {traditional}
        while pairs[traditional] in pairs and pairs[traditional] not in seen:
            seen.add(pairs[traditional])
            pairs[traditional] = pairs[pairs[traditional]]
    return pairs


@functools.lru_cache(maxsize=16384)
def _normalized(token: str) -> str:
    """normalize() of one token; the same few thousand characters come back again and again."""
    return normalize(token)


def field_text(value: Any) -> str:
    """A document field's value as one text: a list's values side by side, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(field_text(v) for v in value)
    return str(value)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


def query_terms(text: str) -> list[str]:
    """Split a user's query into terms: whitespace-separated words and "quoted phrases".

    Each term must match as a phrase; terms without any token (punctuation) are dropped.
    """
    terms = []
    for quoted, bare in _QUERY_TERM.findall(text or ""):
        term = (quoted or bare).strip()[:MAX_TERM_LENGTH]
        if tokens(term):
            terms.append(term)
    return terms[:MAX_TERMS]


def approximate(count: float) -> int:
    """An estimated count as it is shown: three significant figures (483,217 -> 483,000)."""
    if count < 1:
        return 0
    return int(float(f"{count:.3g}"))


def highlight(text: str, terms: Sequence[str], fragment_size: int = 80, *, whole: bool = False) -> str | None:
    """An HTML-escaped fragment of ``text`` around the first match, matches in <em>; ``whole``: all of
    ``text``, every match marked (a title is never cut).

    Matching is on normalized text with the separators between tokens ignored, the same
    phrase semantics the engines use. Returns None when nothing matches.
    """
    if not text or not terms:
        return None
    spans = _match_spans(text, terms, None if whole else fragment_size)
    if not spans:
        return None
    if whole:
        start, end = 0, len(text)
    else:
        start = max(0, spans[0][0] - fragment_size // 4)
        end = min(len(text), start + fragment_size)
    pieces, cursor = [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        pieces.append(html.escape(text[cursor:span_start]))
        pieces.append(f"<em>{html.escape(text[span_start:span_end])}</em>")
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(pieces) + suffix


def _match_spans(text: str, terms: Sequence[str], reach: int | None = None) -> list[tuple[int, int]]:
    """Character spans in ``text`` where a term's token sequence occurs, overlapping ones merged; ``reach``: only
    those starting within that many characters of the first (a fragment of that many characters holds no later
    one).

    Nearly every text normalizes one character for one (``_aligned``): the terms are found on the normalized text
    by regular expressions, in C. Otherwise (NFKC changed its length somewhere) by ``_token_spans``."""
    aligned = _aligned(text)
    if aligned is None:
        return _token_spans(text, terms, reach)
    found: list[tuple[int, int]] = []
    for term in terms:
        compiled = _phrase_pattern(term)
        if compiled is not None:
            pattern, words = compiled
            found += [match.span(1) for match in pattern.finditer(aligned) if _whole(aligned, match, words)]
    if not found:
        return []
    found.sort()
    if reach is not None:
        found = [span for span in found if span[0] <= found[0][0] + reach]
    return _merged(found)


@functools.lru_cache(maxsize=1024)
def _phrase_pattern(term: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
    """A regular expression of a term's tokens in a row on normalized text, anything but a token's characters
    between two (as the engines match them), in a lookahead, so that overlapping matches (哈哈 in 哈哈哈) are each
    found; group 1 is the match, one group per token after it. With the groups of the tokens of letters or digits,
    which must be found whole (``_whole``): no Han class in the pattern, which takes milliseconds to compile.
    By term: a page's highlights ask for the same few terms dozens of times, analysed once."""
    needle = tokens(term)
    if not needle:
        return None
    parts = _BETWEEN.join(f"({re.escape(token)})" for token in needle)
    words = tuple(group for group, token in enumerate(needle, 2) if not _HAN_CHAR.fullmatch(token))
    return re.compile(f"(?=({parts}))"), words


def _whole(text: str, match: re.Match[str], words: tuple[int, ...]) -> bool:
    """Whether each token of letters or digits in ``match`` is a whole token: no letter or digit beside it."""
    for group in words:
        start, end = match.span(group)
        if (start and _WORD_CHAR.match(text, start - 1)) or _WORD_CHAR.match(text, end):
            return False
    return True


def _token_spans(text: str, terms: Sequence[str], reach: int | None) -> list[tuple[int, int]]:
    """``_match_spans`` for a text that normalizes to another length: its tokens one by one, each normalized, and
    the matches' spans found back in the text as published; ``reach`` in tokens (a token is a character at least)."""
    # normalize() can change length (NFKC): match on the tokens' normalized values, report the original's spans.
    values = list(map(_normalized, _TOKEN.findall(text)))
    found = []  # (first token, last token) of each match
    for term in terms:
        needle = tokens(term)
        width = len(needle)
        if not width:
            continue
        # list.index finds each candidate start at C speed; only those are compared in full.
        i, last = -1, len(values) - width
        while True:
            try:
                i = values.index(needle[0], i + 1, last + 1)
            except ValueError:
                break
            if values[i : i + width] == needle:
                found.append((i, i + width - 1))
    if not found:
        return []
    found.sort()
    if reach is not None:
        found = [match for match in found if match[0] <= found[0][0] + reach]
    # Where the tokens are, only as far as the last one a match ends on: most of a long text is never walked.
    needed = max(end for _, end in found)
    places = [m.span() for m in itertools.islice(_TOKEN.finditer(text), needed + 1)]
    return _merged(sorted((places[first][0], places[end][1]) for first, end in found))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, those that overlap or touch made one."""
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span[1]))
        else:
            merged.append(span)
    return merged
