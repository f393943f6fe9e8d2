"""Tests of tools/katex.py's MathML: spaced as TeX spaces it, everything else as KaTeX wrote it."""

from __future__ import annotations

import pytest

from tools.katex import tex_spacing

MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML"{}><semantics><mrow>{}</mrow><annotation encoding="application/x-tex">{}</annotation></semantics></math>'
NONE = ' lspace="0" rspace="0"'


def spaced(row: str, display: str = "") -> str:
    return tex_spacing(MATH.format(display, row, "tex"))


def test_operators_below_a_script_position_take_no_space_and_others_keep_theirs():
    row = ('<msub><mi>X</mi><mrow><mi>i</mi><mo>+</mo><mi>a</mi></mrow></msub><mo>=</mo>'
           '<munderover><mo>∑</mo><mrow><mi>a</mi><mo>=</mo><mn>0</mn></mrow><mi>n</mi></munderover>')
    tight = ('<msub><mi>X</mi><mrow><mi>i</mi><mo{0}>+</mo><mi>a</mi></mrow></msub><mo>=</mo>'
             '<munderover><mo>∑</mo><mrow><mi>a</mi><mo{0}>=</mo><mn>0</mn></mrow><mi>n</mi></munderover>').format(NONE)
    assert spaced(row, ' display="block"') == MATH.format(' display="block"', tight, "tex")


@pytest.mark.parametrize("before", ["", '<mo stretchy="false">[</mo>', '<mn>1</mn><mo separator="true">,</mo>', "<mi>x</mi><mo>=</mo>"])
def test_a_minus_with_no_operand_before_it_is_a_sign(before):
    assert spaced(f"{before}<mo>−</mo><mn>1</mn>") == MATH.format("", f"{before}<mo{NONE}>−</mo><mn>1</mn>", "tex")


@pytest.mark.parametrize("before", ["<mi>x</mi>", "<mn>2</mn>", '<mo stretchy="false">)</mo>', '<mi>d</mi><mo stretchy="false">!</mo>'])
def test_a_minus_after_an_operand_is_binary_and_keeps_its_space(before):
    row = f"{before}<mo>−</mo><mn>1</mn>"
    assert spaced(row) == MATH.format("", row, "tex")


def test_an_ellipsis_takes_a_thin_space_but_none_in_a_script():
    row = '<mn>0</mn><mo separator="true">,</mo><mo>…</mo><msub><mi>c</mi><mrow><mn>1</mn><mo>…</mo><mn>2</mn></mrow></msub>'
    out = ('<mn>0</mn><mo separator="true">,</mo><mo lspace="0.1667em" rspace="0.1667em">…</mo>'
           f'<msub><mi>c</mi><mrow><mn>1</mn><mo{NONE}>…</mo><mn>2</mn></mrow></msub>')
    assert spaced(row) == MATH.format("", out, "tex")


def test_math_with_nothing_to_respace_comes_back_unchanged():
    math = MATH.format("", "<mi>x</mi><mo>&lt;</mo><mtext>a &amp; b</mtext>", "x &lt; \\text{a \\&amp; b}")
    assert tex_spacing(math) == math


def test_katex_that_cannot_run_says_so_and_blames_no_formula(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from mkdocs.exceptions import PluginError

    from tools import katex

    monkeypatch.setattr(katex, "RENDERER", tmp_path / "missing.cjs")  # as without `make setup`
    math = katex.Math()
    math.rendered = {}
    math.pages.append(SimpleNamespace(content='<span class="arithmatex">\\(x^2\\)</span>', file=SimpleNamespace(src_uri="a.md")))
    with pytest.raises(PluginError, match=r"^KaTeX could not run \(run `make setup`\)"):
        math.render_all()
