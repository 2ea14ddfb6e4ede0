"""The character table search folds traditional text with (search_index/analysis.py), from OpenCC."""

from __future__ import annotations

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
