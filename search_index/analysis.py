"""Text analysis shared by both engines, so they agree on what matches.

Chinese has no spaces, so each Han character is a token (as Elasticsearch's standard
analyzer does), and every query term is matched as a phrase: "执法" matches the two
characters side by side, never 执 and 法 apart. Latin words and numbers stay whole.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Sequence

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_HAN_CHAR = re.compile(f"([{_HAN}])")
_TOKEN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
_QUERY_TERM = re.compile(r'"([^"]+)"|(\S+)')

MAX_TERMS = 10
MAX_TERM_LENGTH = 50


def normalize(text: str) -> str:
    """NFKC folds full-width letters and digits (ＡＢＣ１２３) into their ASCII forms."""
    return unicodedata.normalize("NFKC", text).lower()


@functools.lru_cache(maxsize=16384)
def _normalized(token: str) -> str:
    """normalize() of one token; the same few thousand characters come back again and again."""
    return normalize(token)


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


def highlight(text: str, terms: Sequence[str], fragment_size: int = 80, *, whole: bool = False) -> str | None:
    """An HTML-escaped fragment of ``text`` around the first match, matches in <em>; ``whole``: all of
    ``text``, every match marked (a title is never cut).

    Matching is on normalized text with the separators between tokens ignored, the same
    phrase semantics the engines use. Returns None when nothing matches.
    """
    if not text or not terms:
        return None
    spans = _match_spans(text, terms)
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


def _match_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans in ``text`` where a term's token sequence occurs."""
    found = list(_TOKEN.finditer(text))
    # normalize() can change length (NFKC); match on token values, report original spans.
    values = [_normalized(m.group()) for m in found]
    spans = []
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
                spans.append((found[i].start(), found[i + width - 1].end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span[1]))
        else:
            merged.append(span)
    return merged
