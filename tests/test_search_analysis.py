"""The character table search folds traditional text with (search_index/analysis.py), from OpenCC."""

from __future__ import annotations

import random
import unicodedata

import opencc

from search_index import analysis

YANCHENG = "行政執法流程圖、隨機抽查事項清單，並經相關主管部門審核後予以公示。"


def test_known_traditional_characters_fold_to_simplified():
    pairs = analysis.simplified_characters()
    assert (pairs["隨"], pairs["機"], pairs["檢"], pairs["鹽"]) == ("随", "机", "检", "盐")
    assert analysis.normalize("檢查") == "检查"
    assert analysis.normalize("隨機抽查") == "随机抽查"


def test_simplified_text_is_left_as_it_is():
    text = "泉州市市场监督管理局随机抽查事项清单、双随机一公开检查结果。"
    assert analysis.normalize(text) == text
    assert not set(text) & set(analysis.simplified_characters())


def test_one_character_for_one_so_a_match_keeps_its_place():
    assert len(analysis.normalize(YANCHENG)) == len(YANCHENG)
    assert all(len(t) == len(s) == 1 for t, s in analysis.simplified_characters().items())
    assert analysis.tokens(YANCHENG) == analysis.tokens(analysis.normalize(YANCHENG))


def test_folding_twice_changes_nothing():
    pairs = analysis.simplified_characters()
    assert not set(pairs.values()) & set(pairs)
    assert analysis.normalize(analysis.normalize(YANCHENG)) == analysis.normalize(YANCHENG)


def test_the_table_is_opencc_character_by_character():
    converter = opencc.OpenCC("t2s")
    pairs = analysis.simplified_characters()
    assert len(pairs) > 4000
    for traditional in "隨機檢查鹽城執法圖單審核後發髮乾幹":
        assert pairs.get(traditional, traditional) == converter.convert(traditional)
    # Both 發 and 髮 are 发 in simplified text, so 发 finds either.
    assert pairs["發"] == pairs["髮"] == "发"


def test_full_width_letters_and_digits_still_fold():
    assert analysis.normalize("ＡＢＣ１２３號") == "abc123号"


def test_full_width_forms_are_replaced_as_nfkc_would_and_nfkc_still_decides_the_rest():
    for code, ascii_code in analysis._FULL_WIDTH.items():
        assert unicodedata.normalize("NFKC", chr(code)) == chr(ascii_code)
    rng = random.Random(7)
    alphabet = "ＡｅＥ１，：（）　＿aE1 ,執法\u0301\u0308\u20dd…ﬁİ①"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert analysis.normalize(text) == analysis.simplified(unicodedata.normalize("NFKC", text).lower())


def test_a_text_with_chinese_punctuation_is_normalized_in_place():
    text = "依据《行政處罰法》第三十二条：（一）主动消除违法行为危害后果的；　ＡＢＣ"
    assert analysis._aligned(text) == analysis.normalize(text)
    assert len(analysis.normalize(text)) == len(text)
    assert analysis._aligned("ﬁ执法") is None  # NFKC makes two characters of one
    assert analysis._aligned("İ执法") is None  # so does lower()


def test_highlights_are_the_same_whichever_way_the_matches_are_found(monkeypatch):
    """Texts that normalize in place are matched by regular expressions on the normalized text, the rest token
    by token; on the same text and terms both ways mark the same spans."""
    rng = random.Random(11)
    alphabet = [*"执法行政处罚哈隨機檢查發髮abcAB12ＡＢ１，：（）　 _-.,、。", "𠀀"]
    cases = []
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        terms = []
        for _ in range(rng.randint(1, 3)):
            if text and rng.random() < 0.8:
                start = rng.randrange(len(text))
                terms.append(text[start : start + rng.randint(1, 6)])
            else:
                terms.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))))
        cases.append((text, terms, rng.choice((5, 10, 80)), rng.random() < 0.5))
    assert sum(analysis._aligned(text) is not None for text, *_ in cases) == len(cases)
    fast = [analysis.highlight(text, terms, size, whole=whole) for text, terms, size, whole in cases]
    monkeypatch.setattr(analysis, "_aligned", lambda text: None)
    slow = [analysis.highlight(text, terms, size, whole=whole) for text, terms, size, whole in cases]
    assert fast == slow
    assert sum(found is not None for found in fast) > len(cases) // 2


def test_a_phrase_is_highlighted_across_punctuation_overlapping_and_never_inside_a_word():
    assert analysis.highlight("哈哈哈", ["哈哈"], whole=True) == "<em>哈哈哈</em>"
    assert analysis.highlight("依法作出行政，处罚决定", ["行政处罚"], whole=True) == "依法作出<em>行政，处罚</em>决定"
    assert analysis.highlight("隨機抽查", ["随机"], whole=True) == "<em>隨機</em>抽查"
    assert analysis.highlight("abcd 执法", ["abc"], whole=True) is None
    assert analysis.highlight("ＡＢＣ执法", ["abc执"], whole=True) == "<em>ＡＢＣ执</em>法"
    assert analysis.highlight("x_abc执法", ["abc"], whole=True) == "x_<em>abc</em>执法"
