"""Privacy gate for disclosures: nothing becomes public before it has passed through here.

The 行政执法公示 rules (国办发〔2018〕118号 and the provincial implementations) require that, for natural
persons, ID numbers, home addresses, phone numbers and bank accounts are not published and that the party's
name is shown masked. This module masks what can be recognised reliably in free text: ID numbers, mobile and
landline numbers, bank cards and e-mail addresses, plus the party's own name wherever it appears. A home address
cannot be told apart from a shop's or an agency's address in free text, so it is not detected here: fields that
hold one must not be handed in as public text. Whether a case may be published at all (minors, confidential
cases) is decided by the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

KINDS = ("id_number", "mobile", "landline", "bank_card", "email", "person_name")

_SUBJECT_TYPES = ("person", "organization")

# GB 11643-1999 / ISO 7064 MOD 11-2: the weight of each of the 17 body digits, and the check character
# indexed by the weighted sum modulo 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)

# Compound surnames (复姓) keep both characters. Left out on purpose are pairs such as 单于, 宗政 and 乐正 whose
# first character is a common surname of its own and whose second is a common given-name character: reading them
# as one surname would publish a character of the given name, while reading them as a single surname only hides
# one character too many.
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "独孤",
        "南宫",
        "西门",
        "端木",
        "申屠",
        "司空",
        "钟离",
        "闻人",
        "赫连",
        "澹台",
        "公冶",
        "濮阳",
        "淳于",
        "太叔",
        "公羊",
        "仲孙",
        "鲜于",
        "闾丘",
        "亓官",
        "司寇",
        "子车",
        "颛孙",
        "巫马",
        "公西",
        "漆雕",
        "壤驷",
        "拓跋",
        "宰父",
        "段干",
        "百里",
        "东郭",
        "南门",
        "呼延",
        "羊舌",
        "微生",
        "梁丘",
        "左丘",
        "东门",
        "第五",
        "太史",
        "万俟",
    }
)
_CHINESE_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·•‧・]+")
# Minority names written in characters separate their parts with a middle dot; the dot itself hides nothing.
_NAME_SEPARATORS = "·•‧・"
_MASK_CHAR = "某"

# Chinese documents often write numbers, parentheses, '+', '-' and ':' in full width. Detection runs on a copy in
# which those are folded to ASCII one character for one character, so positions found in the copy are positions
# in the original text and a full-width phone number is masked like any other.
_FOLD_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# Letters and digits on either side make a number part of a code (统一社会信用代码, document numbers) rather
# than an ID or a card. Python's \w would also match Chinese characters, which routinely touch these numbers.
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])(?P<local>[A-Za-z0-9._%+-]+)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_ID_18 = re.compile(_NOT_ALNUM_BEFORE + r"[1-9][0-9]{16}[0-9Xx]" + _NOT_ALNUM_AFTER)
_ID_15 = re.compile(_NOT_ALNUM_BEFORE + r"[1-9][0-9]{14}" + _NOT_ALNUM_AFTER)
# A bare 15-digit number is as likely an order or case number as an old-style ID, so it needs a label close by.
_ID_LABEL = re.compile(r"身份证|身份号码|证件号")
_ID_LABEL_WINDOW = 12
_MOBILE = re.compile(
    r"(?<![0-9])(?P<prefix>(?:\+86|0086|86)[ -]?)?"
    r"(?P<head>1[3-9][0-9])[ -]?[0-9]{4}[ -]?(?P<tail>[0-9]{4})(?![0-9])"
)
# Cards are written either as one run of digits or in groups of four with one consistent separator;
# the length (13-19 digits) is checked after matching.
_BANK_CARD = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:[0-9]{13,19}|[0-9]{4}(?P<sep>[ -])[0-9]{4}(?:(?P=sep)[0-9]{4}){1,3}(?:(?P=sep)[0-9]{1,3})?)"
    + _NOT_ALNUM_AFTER
)
_EXTENSION = r"(?:-[0-9]{1,6}|转[0-9]{1,6})?"
# Area codes start with 0 followed by a non-zero digit (00 begins an international prefix). Local numbers have
# 7-8 digits, so the 12345 hotline and other 5-6 digit service numbers never match.
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\((?P<paren_area>0[1-9][0-9]{1,2})\)[ -]?|(?P<area>0[1-9][0-9]{1,2})[ -]?)"
    r"(?P<number>[0-9]{7,8})" + _EXTENSION + r"(?![0-9])"
)
# Without an area code, 7-8 digits are just as often money amounts or dates (罚款 20000000 元, 20250930),
# so a bare number counts as a phone number only right after a phone label.
_BARE_LANDLINE = re.compile(r"(?<![0-9])(?P<number>[0-9]{7,8})" + _EXTENSION + r"(?![0-9])")
_PHONE_LABEL = re.compile(r"电话|座机|固话|tel", re.IGNORECASE)
_PHONE_LABEL_WINDOW = 8


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character resident ID number (GB 11643-1999) with a correct check character and a real
    birth date between 1900-01-01 and today."""
    if not _ID_SHAPE.fullmatch(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17].upper():
        return False
    return _birth_date_ok(value[6:10], value[10:12], value[12:14])


def luhn_valid(digits: str) -> bool:
    """True when a string of ASCII digits passes the Luhn check used by bank card numbers."""
    if not _ASCII_DIGITS.fullmatch(digits):
        return False
    total = 0
    # Every second digit counted from the right (the check digit itself being the first) is doubled.
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def mask_person_name(name: str) -> str:
    """The public form of a natural person's name: the surname followed by one 某 per hidden character.

    张三 -> 张某, 张三丰 -> 张某某, 欧阳修 -> 欧阳某; a one-character or empty name -> 某; a name not written in
    Chinese characters -> its first character + 某 (John Smith -> J某).
    """
    name = name.strip()
    if len(name) <= 1:
        return _MASK_CHAR
    if not _CHINESE_NAME.fullmatch(name):
        # Foreign names have no fixed surname position; the initial alone is what can be published safely.
        return name[0] + _MASK_CHAR
    # A two-character name is a single surname plus a given name even when it spells a compound surname (欧阳).
    surname_length = 2 if len(name) > 2 and name[:2] in _COMPOUND_SURNAMES else 1
    given = "".join(char if char in _NAME_SEPARATORS else _MASK_CHAR for char in name[surname_length:])
    return name[:surname_length] + given


@dataclass(frozen=True)
class MaskResult:
    text: str
    report: dict[str, int]


class _Hit(NamedTuple):
    start: int
    end: int
    kind: str
    replacement: str


def _emails(text: str) -> Iterator[_Hit]:
    for match in _EMAIL.finditer(text):
        yield _Hit(match.start(), match.end(), "email", f"{match['local'][0]}***@{match['domain']}")


def _id_numbers(text: str) -> Iterator[_Hit]:
    for match in _ID_18.finditer(text):
        if is_valid_id_number(match[0]):
            yield _Hit(match.start(), match.end(), "id_number", match[0][:6] + "*" * 12)


def _old_id_numbers(text: str) -> Iterator[_Hit]:
    # First-generation IDs (before 1999) have no check digit and a two-digit year in the 1900s.
    for match in _ID_15.finditer(text):
        number = match[0]
        if _birth_date_ok("19" + number[6:8], number[8:10], number[10:12]) and _labelled(
            text, match.start(), _ID_LABEL, _ID_LABEL_WINDOW
        ):
            yield _Hit(match.start(), match.end(), "id_number", number[:6] + "*" * 9)


def _mobiles(text: str) -> Iterator[_Hit]:
    for match in _MOBILE.finditer(text):
        masked = f"{match['prefix'] or ''}{match['head']}****{match['tail']}"
        yield _Hit(match.start(), match.end(), "mobile", masked)


def _bank_cards(text: str) -> Iterator[_Hit]:
    for match in _BANK_CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match[0])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield _Hit(match.start(), match.end(), "bank_card", "**** **** **** " + digits[-4:])


def _landlines(text: str) -> Iterator[_Hit]:
    # The extension is swallowed with the number: on its own it only identifies a desk, and publishing it
    # next to a masked number would add nothing.
    for match in _LANDLINE.finditer(text):
        area = match["area"] or match["paren_area"]
        yield _Hit(match.start(), match.end(), "landline", f"{area}-****{match['number'][-4:]}")


def _labelled_landlines(text: str) -> Iterator[_Hit]:
    for match in _BARE_LANDLINE.finditer(text):
        if _labelled(text, match.start(), _PHONE_LABEL, _PHONE_LABEL_WINDOW):
            yield _Hit(match.start(), match.end(), "landline", "****" + match["number"][-4:])


# Most specific first: a span claimed by an earlier detector is never offered to a later one, so an e-mail
# address made of a mobile number stays one e-mail, an ID number is never also read as a bank card, and no
# character is masked twice.
_DETECTORS: tuple[Callable[[str], Iterator[_Hit]], ...] = (
    _emails,
    _id_numbers,
    _old_id_numbers,
    _mobiles,
    _bank_cards,
    _landlines,
    _labelled_landlines,
)

# Fast paths (the gate runs on every field of every item; most text holds no number at all):
# - Every pattern above is made of ASCII digits, letters, "._%+-@() " and Chinese labels, so only the full-width
#   forms of those characters need folding; other full-width characters (，。：) can stay, as no pattern and no
#   look-around can tell them apart from their ASCII forms.
# - Each detector needs something a single search can rule out: an e-mail an "@"; ID numbers, landlines and
#   one-run bank cards 7 digits in a row; a grouped bank card two groups of four; a mobile number 3 digits.
_DETECTED_ASCII = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._%+-@() ")
_FOLDABLE = re.compile(
    "[" + "".join(re.escape(chr(c)) for c, a in _FOLD_FULL_WIDTH.items() if chr(a) in _DETECTED_ASCII) + "]+"
)
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_SEVEN_DIGITS = re.compile(r"[0-9]{7}")
_FOUR_AND_FOUR = re.compile(r"[0-9]{4}[ -][0-9]{4}")
_NEEDS_SEVEN = (_id_numbers, _old_id_numbers, _landlines, _labelled_landlines)


def _fold(match: re.Match[str]) -> str:
    return match[0].translate(_FOLD_FULL_WIDTH)


def _detectors(folded: str) -> list[Callable[[str], Iterator[_Hit]]]:
    """The detectors that could find something in the folded text, in _DETECTORS order."""
    detectors = []
    has_at = "@" in folded
    if _THREE_DIGITS.search(folded):
        seven = _SEVEN_DIGITS.search(folded) is not None
        for detect in _DETECTORS:
            if detect is _emails:
                if has_at:
                    detectors.append(detect)
            elif detect is _bank_cards:
                if seven or _FOUR_AND_FOUR.search(folded):
                    detectors.append(detect)
            elif seven or detect not in _NEEDS_SEVEN:
                detectors.append(detect)
    elif has_at:
        detectors.append(_emails)
    return detectors


def mask_text(text: str | None) -> MaskResult:
    """Mask ID numbers, mobile and landline numbers, bank cards and e-mail addresses anywhere in text.

    None gives an empty text. Kept digits come out in ASCII even where the input wrote them in full width. The
    report counts the masked items by kind, listing only kinds that occurred.
    """
    if not text:
        return MaskResult("", {})
    folded = _FOLDABLE.sub(_fold, text)
    detectors = _detectors(folded)
    if not detectors:
        return MaskResult(text, {})
    hits: list[_Hit] = []
    # One flag per character keeps the overlap check linear in the text length however many numbers it holds.
    claimed = bytearray(len(text))
    for detect in detectors:
        for hit in detect(folded):
            if not any(claimed[hit.start : hit.end]):
                claimed[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
                hits.append(hit)
    hits.sort()
    pieces = []
    cursor = 0
    for hit in hits:
        pieces += [text[cursor : hit.start], hit.replacement]
        cursor = hit.end
    pieces.append(text[cursor:])
    return MaskResult("".join(pieces), _report(Counter(hit.kind for hit in hits)))


@dataclass(frozen=True)
class PrivacyResult:
    public: dict[str, str | None]
    public_subject_name: str | None
    report: dict[str, int]


def apply_privacy(
    fields: Mapping[str, str | None], *, subject_type: str | None, subject_name: str | None
) -> PrivacyResult:
    """The public form of a disclosure's text fields and of its subject's name.

    Every field is masked with mask_text (None stays None). For a natural person (subject_type "person") the
    name is published masked and every occurrence of the full name in the fields is replaced by the masked form;
    for "organization" or None the name is public as given. Any other subject_type is a ValueError.
    """
    if subject_type is not None and subject_type not in _SUBJECT_TYPES:
        # Guessing would risk publishing a person's name in full; the caller has to say what the subject is.
        raise ValueError(f"subject_type must be one of {', '.join(_SUBJECT_TYPES)} or None, not {subject_type!r}")
    name = (subject_name or "").strip() if subject_type == "person" else ""
    masked_name = mask_person_name(name) if name else None
    counts: Counter[str] = Counter()
    public: dict[str, str | None] = {}
    for field, value in fields.items():
        if value is None:
            public[field] = None
            continue
        result = mask_text(value)
        counts.update(result.report)
        masked = result.text
        if masked_name is not None:
            counts["person_name"] += masked.count(name)
            masked = masked.replace(name, masked_name)
        public[field] = masked
    if masked_name is None:
        # A blank name of a person has nothing to hide, so it is passed on as given like an organization's.
        return PrivacyResult(public, subject_name, _report(counts))
    counts["person_name"] += 1
    return PrivacyResult(public, masked_name, _report(counts))


def _birth_date_ok(year: str, month: str, day: str) -> bool:
    try:
        born = dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= dt.date.today()


def _labelled(text: str, start: int, label: re.Pattern[str], window: int) -> bool:
    """True when a whole label lies within the window characters before start."""
    return label.search(text, max(0, start - window), start) is not None


def _report(counts: Counter[str]) -> dict[str, int]:
    return {kind: counts[kind] for kind in KINDS if counts[kind]}
