"""Tests of tools/math_font.py: the math font keeps what the math draws, and only that."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont

from tools import math_font
from tools.cache import Store

SUM = "\u2211"  # N-ARY SUMMATION, which a display formula draws larger


def served(chars: str) -> TTFont:
    return TTFont(io.BytesIO(math_font.subset(frozenset(chars), math_font.SOURCE.read_bytes())))


def test_one_letter_identifiers_are_drawn_in_italic_as_mathml_core_draws_them():
    assert [math_font.italic(c) for c in "xXh\u03b1\u2202"] == ["\U0001d465", "\U0001d44b", "\u210e", "\U0001d6fc", "\U0001d715"]
    assert math_font.italic("1") == "1" and math_font.italic("+") == "+"


def test_characters_are_what_the_browser_draws():
    mathml = ('<math><semantics><mrow><msub><mi>X</mi><mi>h</mi></msub><mo>&lt;</mo><mi>sin</mi>'
              '<mi mathvariant="normal">d</mi><mn>12</mn><mtext>in out</mtext></mrow>'
              '<annotation encoding="application/x-tex">Q_h</annotation></semantics></math>')
    assert math_font.characters(mathml) == {"\U0001d44b", "\u210e", "<", "s", "i", "n", "d", "1", "2", "o", "u", "t"}


def test_the_subset_has_the_characters_and_the_math_table_reaches_the_larger_sum():
    font = served("x+" + SUM)
    assert set(map(chr, font.getBestCmap())) == {"x", "+", SUM}
    assert "MATH" in font and font.flavor == "woff"
    sum_glyph = font.getBestCmap()[ord(SUM)]
    variants = font["MATH"].table.MathVariants
    vertical = dict(zip(variants.VertGlyphCoverage.glyphs, variants.VertGlyphConstruction))
    sizes = [v.VariantGlyph for v in vertical[sum_glyph].MathGlyphVariantRecord]
    assert len(sizes) > 1 and set(sizes) <= set(font.getGlyphOrder())


def test_the_subset_is_small_and_deterministic():
    first = math_font.subset(frozenset("abc" + SUM), math_font.SOURCE.read_bytes())
    math_font.subset.cache_clear()
    assert math_font.subset(frozenset("abc" + SUM), math_font.SOURCE.read_bytes()) == first  # no timestamp of the build in it
    assert len(first) < 20_000 < math_font.SOURCE.stat().st_size


def test_characters_the_font_lacks_are_named():
    assert "U+1F600" in math_font.describe(["\U0001f600"])


def test_a_build_gets_its_font_from_the_cache_when_the_characters_are_the_same(tmp_path, monkeypatch):
    store = Store(tmp_path)
    drawn = {"a.md": {"x", SUM}, "b.md": {"y", "\U0001f600"}}
    font, lacking = math_font.build(store, "site", drawn)
    assert lacking == {"b.md": ["\U0001f600"]}
    assert set(map(chr, TTFont(io.BytesIO(font)).getBestCmap())) == {"x", "y", SUM}

    def no_subsetting(chars, source):
        raise AssertionError("subset again")

    monkeypatch.setattr(math_font, "subset", no_subsetting)
    assert math_font.build(Store(tmp_path), "site", drawn) == (font, lacking)
    with pytest.raises(AssertionError, match="subset again"):  # other characters: another font
        math_font.build(Store(tmp_path), "site", {"a.md": {"z"}})
