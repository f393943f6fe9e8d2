"""The chapter docs/chapters/padding-and-strides.md, run block by block as the site build runs it."""

from __future__ import annotations

import re


from tests.test_tutorial.reading import assert_reads_as_a_lesson, everything, printed_fixture, read

MODEL = read("padding-and-strides")


printed = printed_fixture(MODEL)


def test_the_books_examples_and_numbers(printed):
    text = everything(printed)
    assert "after 10 layers: 200 x 200" in text
    assert "input (3, 3) padded (5, 5) output (4, 4)" in text
    assert "(8, 8)\n(8, 8)\n" in text and "(4, 4) (2, 2)" in text  # the book's four nn.Conv2d shapes
    assert "0×0 + 0×1 + 0×2 + 0×3 = 0" in text  # the padding figure's first entry
    assert 'data-sum="0×0 + 0×1 + 1×2 + 2×3 = 8"' in text and 'data-sum="0×0 + 6×1 + 0×2 + 0×3 = 6"' in text
    assert "formula: (2, 2)  nn.Conv2d: (2, 2)" in text


def test_checked_against_conv2d_on_the_page_and_every_check_holds(printed):
    text = everything(printed)
    assert "False" not in text and text.count("True") >= 5
    assert any("F.conv2d" in block.code and "allclose" in block.code for block, _ in printed)


def test_it_reads_as_a_lesson(printed):
    assert_reads_as_a_lesson(MODEL, printed)
    assert re.findall(r"^### (\d)\.", MODEL.text, re.M) == ["1", "2", "3", "4"]  # the book's four exercises
