"""Privacy gate for disclosures: nothing becomes public before it has passed through here.

The 行政执法公示 rules (国办发〔2018〕118号 and the provincial implementations) require that, for natural
persons, ID numbers, home addresses, phone numbers and bank accounts are not published, that the party's name
is shown masked and that names of people other than the party are hidden. This module masks what can be
recognised reliably in free text: ID numbers (a mistyped check character included), mobile and landline
numbers, bank cards and e-mail addresses, the party's own name wherever it appears, and a person's name written
after a word naming their role (联系人王小明, 同住人王五; see _ROLE_WORDS). A home address cannot be told apart
from a shop's or an agency's address in free text, so it is not detected here: fields that hold one must not be
handed in as public text. Whether a case may be published at all (minors, confidential cases) is decided by the
caller.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

# person_name: the party's own name; other_person_name: a name after a role word (a witness, a relative, ...).
KINDS = ("id_number", "mobile", "landline", "bank_card", "email", "person_name", "other_person_name")

_SUBJECT_TYPES = ("person", "organization")

# GB 11643-1999 / ISO 7064 MOD 11-2: the weight of each of the 17 body digits, and the check character
# indexed by the weighted sum modulo 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
# Province-level division codes (GB/T 2260) that begin a resident ID number: mainland provinces, plus 71 (Taiwan)
# and 81-83, which begin the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证).
_PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)

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
# Common single-character surnames: a name after a role word is recognised by its surname, which is what tells
# 联系人王小明 from 联系人电话. Left out are characters that are rare as surnames but common as words right after a
# role word (和, 及, 与, 对, 在): reading them as surnames would mask ordinary words.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康"
    "施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗"
    "谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝洪鞠"
)
# Words naming a person other than the party, after which a name is masked. The party's own name is masked
# wherever it appears (apply_privacy); officers' names are public, so 执法人员 and 经办人 are not here.
_ROLE_WORDS = (
    "联系人",
    "同住人",
    "共同居住人",
    "证人",
    "见证人",
    "监护人",
    "代理人",
    "委托代理人",
    "法定代理人",
    "诉讼代理人",
    "家属",
    "亲属",
    "近亲属",
    "配偶",
    "担保人",
    "举报人",
    "投诉人",
    "被害人",
    "受害人",
)
# An organization's legal representative (法定代表人) or person in charge (负责人) is public registration
# information and is published with the organization; for any other party these words name a private person.
_REPRESENTATIVE_WORDS = ("法定代表人", "负责人")


def _role_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so that 委托代理人 is one role rather than 委托 + 代理人; "姓名", a colon or "为" may come
    # between the role and the name (联系人姓名：王小明, 证人为王五).
    alternatives = "|".join(sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?:姓名)?[：:\s]*(?:为|是)?")


_ROLES = _role_pattern(_ROLE_WORDS + _REPRESENTATIVE_WORDS)
_ROLES_BUT_REPRESENTATIVES = _role_pattern(_ROLE_WORDS)
# Two characters after a role word that begin a word, not a name, although the first is a surname
# (代理人陈述, 代理人申辩, 亲属关系, 家属成员).
_NOT_NAMES = frozenset({"陈述", "申辩", "申请", "关系", "成员", "明确", "方式", "方面", "安排", "全部", "时间", "常住"})
# A third character that follows a two-character name rather than ends a three-character one (同住人王五在现场,
# 证人李四证实).
_AFTER_NAME = frozenset("在于称说系是为的等及和与到向对已未也均签证陈表作出现当则即因将把被让并又还曾所经供提反自告")
# Further names in a list after one role word (证人王五、李四).
_NAME_JOINERS = "、和及与"
_HAN = re.compile(r"[\u4e00-\u9fff]")
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


def looks_like_id_number(value: str) -> bool:
    """True for 18 characters shaped like a resident ID number, with a province code and a real birth date,
    whatever the check character: a mistyped ID is still its holder's ID and must not be published."""
    return (
        _ID_SHAPE.fullmatch(value) is not None
        and value[:2] in _PROVINCE_CODES
        and _birth_date_ok(value[6:10], value[10:12], value[12:14])
    )


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
        if is_valid_id_number(match[0]) or looks_like_id_number(match[0]):
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


def _name_end(text: str, start: int) -> int | None:
    """The end of a person's name written at start: a known surname and one or two more characters."""
    surname = 2 if text[start : start + 2] in _COMPOUND_SURNAMES else int(text[start : start + 1] in _SURNAMES)
    given = start + surname
    if not surname or not _HAN.match(text, given) or text[start : start + 2] in _NOT_NAMES:
        return None
    if _HAN.match(text, given + 1) and text[given + 1] not in _AFTER_NAME:
        return given + 2
    return given + 1


def _role_names(text: str, roles: re.Pattern[str]) -> Iterator[_Hit]:
    for match in roles.finditer(text):
        start = match.end()
        while (end := _name_end(text, start)) is not None:
            name = text[start:end]
            masked = mask_person_name(name)
            if masked != name:  # 联系人王某: already in its public form
                yield _Hit(start, end, "other_person_name", masked)
            if text[end : end + 1] == "" or text[end] not in _NAME_JOINERS:
                break
            start = end + 1


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


def _detectors(folded: str, roles: re.Pattern[str]) -> list[Callable[[str], Iterator[_Hit]]]:
    """The detectors that could find something in the folded text, in _DETECTORS order, then the names after
    role words (names and numbers never overlap)."""
    detectors = _number_detectors(folded)
    if roles.search(folded):
        detectors.append(partial(_role_names, roles=roles))
    return detectors


def _number_detectors(folded: str) -> list[Callable[[str], Iterator[_Hit]]]:
    detectors: list[Callable[[str], Iterator[_Hit]]] = []
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


def mask_text(text: str | None, *, representative_public: bool = False) -> MaskResult:
    """Mask ID numbers, mobile and landline numbers, bank cards, e-mail addresses and names after role words
    anywhere in text.

    representative_public: the party is an organization, whose 法定代表人/负责人 is published with it. None gives
    an empty text. Kept digits come out in ASCII even where the input wrote them in full width. The report counts
    the masked items by kind, listing only kinds that occurred.
    """
    if not text:
        return MaskResult("", {})
    folded = _FOLDABLE.sub(_fold, text)
    detectors = _detectors(folded, _ROLES_BUT_REPRESENTATIVES if representative_public else _ROLES)
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
    # kind -> field -> how many were masked there; the party's own masked name counts once as "subject_name".
    report: dict[str, dict[str, int]]


def apply_privacy(
    fields: Mapping[str, str | None], *, subject_type: str | None, subject_name: str | None
) -> PrivacyResult:
    """The public form of a disclosure's text fields and of its subject's name.

    Every field is masked with mask_text (None stays None). For a natural person (subject_type "person") the
    name is published masked and every occurrence of the full name in the fields is replaced by the masked form;
    for "organization" or None the name is public as given. An organization's 法定代表人/负责人 stays public with
    it; under any other party that name is masked like every other name after a role word. Any other
    subject_type is a ValueError. The report names each kind masked and the fields it was masked in.
    """
    if subject_type is not None and subject_type not in _SUBJECT_TYPES:
        # Guessing would risk publishing a person's name in full; the caller has to say what the subject is.
        raise ValueError(f"subject_type must be one of {', '.join(_SUBJECT_TYPES)} or None, not {subject_type!r}")
    name = (subject_name or "").strip() if subject_type == "person" else ""
    masked_name = mask_person_name(name) if name else None
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    public: dict[str, str | None] = {}
    for field, value in fields.items():
        if value is None:
            public[field] = None
            continue
        if masked_name is not None:
            # The party's name first, so that 联系人张三丰 naming the party counts as the party's name.
            counts["person_name"][field] += value.count(name)
            value = value.replace(name, masked_name)
        result = mask_text(value, representative_public=subject_type == "organization")
        for kind, found in result.report.items():
            counts[kind][field] += found
        public[field] = result.text
    if masked_name is None:
        # A blank name of a person has nothing to hide, so it is passed on as given like an organization's.
        return PrivacyResult(public, subject_name, _field_report(counts))
    counts["person_name"]["subject_name"] += 1
    return PrivacyResult(public, masked_name, _field_report(counts))


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


def _field_report(counts: Mapping[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {
        kind: {field: n for field, n in by_field.items() if n}
        for kind, by_field in counts.items()
        if any(by_field.values())
    }
