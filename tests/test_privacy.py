"""The privacy gate: ID numbers, phones, bank cards and e-mails are masked; a natural person's name is masked."""

import datetime as dt
import re
from types import MappingProxyType

import pytest

from backend.disclosures.privacy import (
    KINDS,
    MaskResult,
    PrivacyResult,
    apply_privacy,
    is_valid_id_number,
    looks_like_id_number,
    luhn_valid,
    mask_person_name,
    mask_text,
)

# --- independent helpers: computed here from the definitions, not with the code under test ---


def id_check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 from its definition: the digit at position i (counted from the right, the check
    character being position 1) weighs 2**(i-1) mod 11, and the check value brings the total to 1 mod 11."""
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(region: str = "350502", birth: str = "19900101", sequence: str = "123") -> str:
    body = region + birth + sequence
    return body + id_check_char(body)


def wrong_check(number: str) -> str:
    """The same ID body with a wrong check character that also fails Luhn, so no rule may mask it."""
    body = number[:17]
    return next(body + char for char in "0123456789X" if char != number[17] and not is_luhn(body + char))


def luhn_check_digit(payload: str) -> str:
    total = 0
    for index, digit in enumerate(int(char) for char in reversed(payload)):
        # The rightmost payload digit sits next to the check digit, so it is the first one doubled.
        total += sum(int(char) for char in str(digit * 2)) if index % 2 == 0 else digit
    return str(-total % 10)


def make_card(payload: str) -> str:
    return payload + luhn_check_digit(payload)


def is_luhn(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def assert_no_card_in(text: str) -> None:
    """Guards test data meant to stay untouched: no stand-alone run of 13-19 digits in it may pass Luhn by chance."""
    runs = re.findall(r"[0-9A-Za-z]+", text)
    assert not any(is_luhn(run) for run in runs if 13 <= len(run) <= 19)


VALID_ID = make_id()  # 350502 19900101 123 + check
CARD_16 = make_card("622202123456789")
CARD_19 = make_card("621700123456789012")
TODAY = dt.date.today()


# --- the independent helpers agree with known values ---


def test_helpers_agree_with_published_examples():
    assert id_check_char("11010519491231002") == "X"
    assert luhn_check_digit("7992739871") == "3"  # the textbook Luhn example
    assert len(CARD_16) == 16 and len(CARD_19) == 19


# --- is_valid_id_number ---


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        "11010519491231002x",
        VALID_ID,
        make_id("110105", "19000101", "001"),
        make_id("440305", "20000229", "456"),
        make_id("650102", TODAY.strftime("%Y%m%d"), "789"),
        make_id("350503", "19851231", "000"),
    ],
)
def test_valid_id_numbers(number):
    assert is_valid_id_number(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        (wrong_check(VALID_ID), "wrong check character"),
        ("110105194912310021", "wrong check character for a known X number"),
        (make_id(birth="19990231"), "31 February"),
        (make_id(birth="19000229"), "1900 was not a leap year"),
        (make_id(birth="19991301"), "month 13"),
        (make_id(birth="18991231"), "born before 1900"),
        (make_id(birth=(TODAY + dt.timedelta(days=1)).strftime("%Y%m%d")), "born tomorrow"),
        (make_id("050502"), "first digit 0"),
        (VALID_ID[:17], "17 characters"),
        (VALID_ID + "1", "19 characters"),
        ("91350500MA2XYZ1234", "unified social credit code"),
        ("X" + VALID_ID[1:], "letter in the body"),
        ("".join(chr(ord(c) + 0xFEE0) for c in VALID_ID), "full-width digits"),
        ("", "empty"),
    ],
)
def test_invalid_id_numbers(number, why):
    assert not is_valid_id_number(number), why


# --- luhn_valid ---


@pytest.mark.parametrize("number", [CARD_16, CARD_19, "79927398713", "4111111111111111"])
def test_luhn_valid(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    [CARD_16[:-1] + str((int(CARD_16[-1]) + 1) % 10), "79927398710", "", "6222 0212 3456 7894", "12a4", "１２３"],
)
def test_luhn_invalid(number):
    assert not luhn_valid(number)


# --- ID numbers in text ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证号：{VALID_ID}。", "身份证号：350502************。"),
        (VALID_ID, "350502************"),
        (f"张三{VALID_ID}男", "张三350502************男"),
        ("公民身份号码11010519491231002X，", "公民身份号码110105************，"),
        ("证件号码 11010519491231002x", "证件号码 110105************"),
        (f"{VALID_ID}、{make_id('110105', '19800101', '888')}", "350502************、110105************"),
    ],
)
def test_id_numbers_are_masked(text, expected):
    result = mask_text(text)
    assert result.text == expected
    assert result.report == {"id_number": expected.count("************")}


@pytest.mark.parametrize(
    "text",
    [
        f"身份证号：{make_id(birth='19990231')}",
        f"身份证号：{make_id(birth='20991231')}",
        "统一社会信用代码：91350500MA2XYZ1234",
        "统一社会信用代码91350502MA31ABCD9X，",
        f"文书编号QSJ{VALID_ID}",
        f"编号{VALID_ID}A",
    ],
)
def test_what_is_not_an_id_number_is_untouched(text):
    assert_no_card_in(text)
    assert mask_text(text) == MaskResult(text, {})


def test_an_id_number_that_also_passes_luhn_is_masked_once_as_id():
    number = next(n for n in (make_id(sequence=f"{s:03}") for s in range(1000)) if is_luhn(n))
    assert mask_text(f"账号{number}") == MaskResult(f"账号{number[:6]}{'*' * 12}", {"id_number": 1})


OLD_ID = "350502900101125"  # born 1990-01-01


@pytest.mark.parametrize(
    "label",
    [
        "身份证：",
        "身份证号",
        "身份证号码：",
        "公民身份号码",
        "证件号码: ",
        "身份证（旧）号码：",
        "身份证已收回，案卷编号为",  # the label starts exactly 12 characters before the number
    ],
)
def test_labelled_15_digit_id_is_masked(label):
    assert mask_text(f"{label}{OLD_ID}") == MaskResult(f"{label}350502*********", {"id_number": 1})


@pytest.mark.parametrize(
    "text",
    [
        f"编号{OLD_ID}",
        OLD_ID,
        f"身份证已依法收回，案卷编号为{OLD_ID}",  # the label starts 14 characters before the number
        "身份证号350502990231123",  # 1999-02-31 is not a date
        f"身份证号{OLD_ID}9",  # 16 digits
    ],
)
def test_unlabelled_or_impossible_15_digit_number_is_untouched(text):
    assert_no_card_in(text)
    assert mask_text(text) == MaskResult(text, {})


# --- mobile numbers ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "138****5678"),
        ("手机13812345678。", "手机138****5678。"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("+86-138-1234-5678", "+86-138****5678"),
        ("8613812345678", "86138****5678"),
        ("008613812345678", "0086138****5678"),
        ("0086 138 1234 5678", "0086 138****5678"),
        ("Tel13912345678", "Tel139****5678"),
        ("１３８１２３４５６７８", "138****5678"),
    ]
    + [(f"1{second}912345678", f"1{second}9****5678") for second in "3456789"],
)
def test_mobile_numbers_are_masked(text, expected):
    assert mask_text(text) == MaskResult(expected, {"mobile": 1})


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        "请拨打12345热线",
        "12812345678",
        "11012345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "99913812345678000000",  # inside a 20-digit run
        "2025138123456780001",  # inside a 19-digit run that fails Luhn
    ],
)
def test_numbers_that_are_not_mobiles_are_untouched(text):
    assert_no_card_in(text)
    assert mask_text(text) == MaskResult(text, {})


# --- landlines ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0595-22345678", "0595-****5678"),
        ("0595 22345678", "0595-****5678"),
        ("059522345678", "0595-****5678"),
        ("010-12345678", "010-****5678"),
        ("021-6234567", "021-****4567"),
        ("(0595)22345678", "0595-****5678"),
        ("(0595) 2234567", "0595-****4567"),
        ("（0595）22345678", "0595-****5678"),
        ("０５９５－２２３４５６７８", "0595-****5678"),
        ("0595-22345678-123", "0595-****5678"),
        ("0595-22345678转8001", "0595-****5678"),
        ("(0595)22345678转8001。", "0595-****5678。"),
        ("电话：22345678", "电话：****5678"),
        ("联系电话:2234567", "联系电话:****4567"),
        ("座机 22345678", "座机 ****5678"),
        ("固话22345678转12", "固话****5678"),
        ("Tel: 22345678", "Tel: ****5678"),
        ("TEL:22345678", "TEL:****5678"),
        ("办公电话（白天）：22345678", "办公电话（白天）：****5678"),
        ("电话（办公室）：22345678", "电话（办公室）：****5678"),  # the label starts exactly 8 characters before
    ],
)
def test_landlines_are_masked(text, expected):
    assert mask_text(text) == MaskResult(expected, {"landline": 1})


@pytest.mark.parametrize(
    "text",
    [
        "罚款 20000000 元",
        "没收违法所得2234567元",
        "20250930",
        "2025-09-30",
        "于2025年9月30日",
        "泉市监罚〔2025〕12号",
        "闽泉市监罚字〔2025〕第0012345号",
        "12345",
        "电话：12345",
        "请拨打0595-12345",
        "服务热线95598",
        "联系电话已登记在案，罚款20000000元",  # the label is more than 8 characters away
        "电话号码（办公）：22345678",  # the label starts 9 characters before the number
        "0086-22345678",
    ],
)
def test_numbers_that_are_not_landlines_are_untouched(text):
    assert mask_text(text) == MaskResult(text, {})


# --- bank cards ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CARD_16, f"**** **** **** {CARD_16[-4:]}"),
        (CARD_19, f"**** **** **** {CARD_19[-4:]}"),
        (f"卡号{CARD_16}。", f"卡号**** **** **** {CARD_16[-4:]}。"),
        (" ".join([CARD_16[i : i + 4] for i in range(0, 16, 4)]), f"**** **** **** {CARD_16[-4:]}"),
        ("-".join([CARD_16[i : i + 4] for i in range(0, 16, 4)]), f"**** **** **** {CARD_16[-4:]}"),
        (" ".join([CARD_19[i : i + 4] for i in range(0, 19, 4)]), f"**** **** **** {CARD_19[-4:]}"),
        (make_card("622588012345"), "**** **** **** " + make_card("622588012345")[-4:]),  # 13 digits
    ],
)
def test_bank_cards_are_masked(text, expected):
    assert mask_text(text) == MaskResult(expected, {"bank_card": 1})


def _bad_luhn(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "text",
    [
        _bad_luhn(CARD_16),
        _bad_luhn(CARD_19),
        " ".join([_bad_luhn(CARD_16)[i : i + 4] for i in range(0, 16, 4)]),
        CARD_16 + "0000",  # 20 digits
        "1" + CARD_19,  # 20 digits
        f"合同编号HT{CARD_16}",  # glued to letters: part of a code
        make_card("62220212345")[:12],  # 12 digits
    ],
)
def test_numbers_that_are_not_bank_cards_are_untouched(text):
    assert mask_text(text) == MaskResult(text, {})


# --- e-mail ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zhangsan@example.com", "z***@example.com"),
        ("邮箱：li.si+case@mail.gov.cn。", "邮箱：l***@mail.gov.cn。"),
        ("Email: Wang_Wu@Example.COM", "Email: W***@Example.COM"),
        ("13812345678@qq.com", "1***@qq.com"),  # one e-mail, not also a mobile
        ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "z***@example.com"),
    ],
)
def test_emails_are_masked(text, expected):
    assert mask_text(text) == MaskResult(expected, {"email": 1})


@pytest.mark.parametrize("text", ["张三@某公司", "a@b", "@example.com", "user@localhost"])
def test_what_is_not_an_email_is_untouched(text):
    assert mask_text(text) == MaskResult(text, {})


# --- names ---


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张某"),
        ("张三丰", "张某某"),
        (" 李四 ", "李某"),
        ("欧阳修", "欧阳某"),
        ("欧阳娜娜", "欧阳某某"),
        ("司马相如", "司马某某"),
        ("诸葛亮", "诸葛某"),
        ("上官婉儿", "上官某某"),
        ("夏侯惇", "夏侯某"),
        ("慕容复", "慕容某"),
        ("欧阳", "欧某"),  # two characters: a single surname and a given name
        ("单于强", "单某某"),  # 单 is a common surname on its own
        ("张", "某"),
        ("", "某"),
        ("   ", "某"),
        ("John Smith", "J某"),
        ("mary", "m某"),
        ("阿卜杜·热合曼", "阿某某·某某某"),
    ],
)
def test_mask_person_name(name, expected):
    assert mask_person_name(name) == expected


# --- reports, overlaps, empty input ---


def test_report_counts_each_kind_and_lists_only_kinds_found():
    text = (
        f"{VALID_ID}；13812345678；13912345678；0595-22345678；{CARD_16}；a@example.com；b@example.com；c@example.com"
    )
    result = mask_text(text)
    assert result.report == {"id_number": 1, "mobile": 2, "landline": 1, "bank_card": 1, "email": 3}
    assert list(result.report) == [kind for kind in KINDS if kind in result.report]


@pytest.mark.parametrize("text", [None, "", "本案无个人信息。"])
def test_nothing_to_mask(text):
    assert mask_text(text) == MaskResult(text or "", {})


@pytest.mark.parametrize(
    "text",
    [
        f"身份证{VALID_ID} 电话 22345678 卡号 {CARD_19} 邮箱 13812345678@qq.com",
        "（0595）22345678转123，+86 138 1234 5678，0086 13912345678",
    ],
)
def test_masking_twice_changes_nothing(text):
    once = mask_text(text).text
    assert mask_text(once) == MaskResult(once, {})


# --- apply_privacy ---


def test_person_name_is_masked_everywhere():
    result = apply_privacy(
        {
            "facts": "经查，当事人张三丰于2025年3月1日销售过期食品。张三丰手机13812345678。",
            "basis": None,
            "decision": "对张三丰罚款5000元。",
        },
        subject_type="person",
        subject_name="张三丰",
    )
    assert result == PrivacyResult(
        public={
            "facts": "经查，当事人张某某于2025年3月1日销售过期食品。张某某手机138****5678。",
            "basis": None,
            "decision": "对张某某罚款5000元。",
        },
        public_subject_name="张某某",
        report={"mobile": {"facts": 1}, "person_name": {"facts": 2, "decision": 1, "subject_name": 1}},
    )
    assert list(result.public) == ["facts", "basis", "decision"]


def test_person_name_is_stripped_before_matching():
    result = apply_privacy({"facts": "当事人欧阳修"}, subject_type="person", subject_name=" 欧阳修 ")
    assert result == PrivacyResult(
        {"facts": "当事人欧阳某"}, "欧阳某", {"person_name": {"facts": 1, "subject_name": 1}}
    )


def test_person_without_name_in_text_counts_the_name_once():
    result = apply_privacy({"facts": "无"}, subject_type="person", subject_name="李四")
    assert result == PrivacyResult({"facts": "无"}, "李某", {"person_name": {"subject_name": 1}})


@pytest.mark.parametrize("subject_type", ["organization", None])
def test_organization_name_is_public(subject_type):
    result = apply_privacy(
        MappingProxyType({"facts": "泉州市某某食品有限公司销售过期食品，联系电话0595-22345678。", "basis": None}),
        subject_type=subject_type,
        subject_name="泉州市某某食品有限公司",
    )
    assert result == PrivacyResult(
        public={"facts": "泉州市某某食品有限公司销售过期食品，联系电话0595-****5678。", "basis": None},
        public_subject_name="泉州市某某食品有限公司",
        report={"landline": {"facts": 1}},
    )


@pytest.mark.parametrize("subject_name", [None, "", "  "])
def test_person_without_a_name_has_nothing_to_mask(subject_name):
    result = apply_privacy({"facts": "13812345678"}, subject_type="person", subject_name=subject_name)
    assert result == PrivacyResult({"facts": "138****5678"}, subject_name, {"mobile": {"facts": 1}})


def test_reports_are_summed_over_fields():
    result = apply_privacy(
        {"a": "13812345678", "b": "13912345678，a@example.com", "c": None, "d": ""},
        subject_type=None,
        subject_name=None,
    )
    assert result.public == {"a": "138****5678", "b": "139****5678，a***@example.com", "c": None, "d": ""}
    assert result.report == {"mobile": {"a": 1, "b": 1}, "email": {"b": 1}}


def test_unknown_subject_type_is_refused():
    with pytest.raises(ValueError, match="subject_type"):
        apply_privacy({"facts": "张三"}, subject_type="individual", subject_name="张三")


# --- a whole penalty decision ---


def test_penalty_decision_paragraph():
    person_id = "350503198506123511"
    card = "6217001234567890122"
    assert is_valid_id_number(person_id) and id_check_char(person_id[:17]) == person_id[17]
    assert is_luhn(card)
    text = (
        "当事人张三丰，男，公民身份号码350503198506123511，联系电话13812345678，"
        "固定电话（0595）22345678转123，电子邮箱zhangsanfeng@example.com。"
        "经查，当事人通过其名下银行卡6217 0012 3456 7890 122收取货款共计20000000元。"
        "本机关依据《中华人民共和国食品安全法》第一百二十二条，决定对张三丰罚款20000000元。"
        "文书号：泉市监罚〔2025〕12号；统一社会信用代码91350500MA2XYZ1234；投诉举报请拨打12345。"
    )
    result = apply_privacy({"content": text}, subject_type="person", subject_name="张三丰")
    assert result.public["content"] == (
        "当事人张某某，男，公民身份号码350503************，联系电话138****5678，"
        "固定电话0595-****5678，电子邮箱z***@example.com。"
        "经查，当事人通过其名下银行卡**** **** **** 0122收取货款共计20000000元。"
        "本机关依据《中华人民共和国食品安全法》第一百二十二条，决定对张某某罚款20000000元。"
        "文书号：泉市监罚〔2025〕12号；统一社会信用代码91350500MA2XYZ1234；投诉举报请拨打12345。"
    )
    assert result.public_subject_name == "张某某"
    assert result.report == {
        "id_number": {"content": 1},
        "mobile": {"content": 1},
        "landline": {"content": 1},
        "bank_card": {"content": 1},
        "email": {"content": 1},
        "person_name": {"content": 2, "subject_name": 1},
    }


# --- ID numbers with a wrong check character ---

REPORTED_ID = "350502199001011234"  # went public in full: its check character should be X


@pytest.mark.parametrize(
    "number",
    [
        REPORTED_ID,
        wrong_check(VALID_ID),
        wrong_check("11010519491231002X"),
        wrong_check(make_id("810000", "19851231", "000")),  # a Hong Kong resident's residence permit, mistyped
    ],
)
def test_an_id_number_with_a_wrong_check_character_is_masked(number):
    assert not is_valid_id_number(number)
    assert looks_like_id_number(number)
    text = f"身份证号：{number}，"
    assert mask_text(text) == MaskResult(f"身份证号：{number[:6]}{'*' * 12}，", {"id_number": 1})


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("350502202513451234", "a case number: month 13 is no birth date"),
        ("350502199002301235", "30 February"),
        ("350502189912311234", "born before 1900"),
        (f"350502{(TODAY + dt.timedelta(days=1)):%Y%m%d}1234", "born tomorrow"),
        ("990502199001011234", "99 is no province"),
        ("200502199001011234", "20 is no province"),
        ("350502199001011A34", "a letter in the body"),
    ],
)
def test_an_18_digit_number_without_a_province_and_birth_date_is_no_id(number, why):
    assert not looks_like_id_number(number), why
    text = f"案号{number}"
    assert_no_card_in(text)
    assert mask_text(text) == MaskResult(text, {})


# --- names after role words ---


@pytest.mark.parametrize(
    ("text", "expected", "names"),
    [
        ("联系人王小明，电话13812345678", "联系人王某某，电话138****5678", 1),
        ("同住人王五在现场。", "同住人王某在现场。", 1),
        ("证人：欧阳小明证实", "证人：欧阳某某证实", 1),
        ("证人王五、李四均证实", "证人王某、李某均证实", 2),
        ("家属张三和李四到场", "家属张某和李某到场", 2),
        ("监护人为李明。", "监护人为李某。", 1),
        ("委托代理人林小红，福建某律师事务所律师", "委托代理人林某某，福建某律师事务所律师", 1),
        ("联系人姓名：王小明", "联系人姓名：王某某", 1),
        ("其配偶陈芳称", "其配偶陈某称", 1),
        ("见证人 赵六签字", "见证人 赵某签字", 1),
    ],
)
def test_a_name_after_a_role_word_is_masked(text, expected, names):
    result = mask_text(text)
    assert result.text == expected
    assert result.report.get("other_person_name") == names


@pytest.mark.parametrize(
    "text",
    [
        "联系人电话：请见送达回证",  # the role word is followed by what it is about, not by a name
        "证人证言、现场照片",
        "代理人陈述、申辩意见",
        "当事人提交亲属关系证明",
        "证人出庭作证",
        "举报人刘某某反映",  # already in its public form
        "执法人员王刚、李强出示执法证件",  # officers' names are public
        "联系人",
    ],
)
def test_a_role_word_without_a_name_after_it_leaves_the_text_alone(text):
    assert mask_text(text) == MaskResult(text, {})


def test_a_role_word_before_a_phone_number_masks_the_number_only():
    assert mask_text("联系人电话：0595-22345678") == MaskResult("联系人电话：0595-****5678", {"landline": 1})


@pytest.mark.parametrize(
    ("subject_type", "subject_name", "expected"),
    [
        ("organization", "泉州市某某食品有限公司", "法定代表人张三丰，负责人李四"),
        ("person", "王五", "法定代表人张某某，负责人李某"),
        (None, None, "法定代表人张某某，负责人李某"),
    ],
)
def test_a_legal_representative_is_public_only_with_an_organization(subject_type, subject_name, expected):
    result = apply_privacy(
        {"content": "法定代表人张三丰，负责人李四"}, subject_type=subject_type, subject_name=subject_name
    )
    assert result.public["content"] == expected


def test_the_report_names_each_masking_by_kind_and_field():
    result = apply_privacy(
        {
            "content": f"当事人张三丰（身份证号{REPORTED_ID}），同住人王五在场，联系人张三丰。",
            "details/witness": "证人李四，电话13812345678",
            "legal_basis": None,
        },
        subject_type="person",
        subject_name="张三丰",
    )
    assert result.public == {
        "content": "当事人张某某（身份证号350502************），同住人王某在场，联系人张某某。",
        "details/witness": "证人李某，电话138****5678",
        "legal_basis": None,
    }
    assert result.report == {
        "id_number": {"content": 1},
        "mobile": {"details/witness": 1},
        "person_name": {"content": 2, "subject_name": 1},  # 联系人张三丰 is the party: counted as the party's name
        "other_person_name": {"content": 1, "details/witness": 1},
    }


@pytest.mark.parametrize("text", ["联系人王小明，身份证号350502199001011234", "证人王五、李四，家属欧阳小明"])
def test_masking_names_and_mistyped_ids_twice_changes_nothing(text):
    once = mask_text(text).text
    assert once != text and mask_text(once) == MaskResult(once, {})
