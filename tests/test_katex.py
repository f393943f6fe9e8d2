"""Tests of tools/katex.py's MathML: operators in scripts set tight, everything else as KaTeX wrote it."""

from __future__ import annotations

from tools.katex import tight_scripts

MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML"{}><semantics>{}<annotation encoding="application/x-tex">{}</annotation></semantics></math>'


def test_operators_below_a_script_position_lose_their_spaces_and_no_others():
    sum_ = ('<mrow><msub><mi>X</mi><mrow><mi>i</mi><mo>+</mo><mi>a</mi></mrow></msub><mo>=</mo>'
            '<munderover><mo>∑</mo><mrow><mi>a</mi><mo>=</mo><mn>0</mn></mrow><mi>n</mi></munderover></mrow>')
    tight = ('<mrow><msub><mi>X</mi><mrow><mi>i</mi><mo lspace="0" rspace="0">+</mo><mi>a</mi></mrow></msub><mo>=</mo>'
             '<munderover><mo>∑</mo><mrow><mi>a</mi><mo lspace="0" rspace="0">=</mo><mn>0</mn></mrow><mi>n</mi></munderover></mrow>')
    tex = r"X_{i+a} = \sum_{a=0}^n"
    assert tight_scripts(MATH.format(' display="block"', sum_, tex)) == MATH.format(' display="block"', tight, tex)


def test_math_without_scripts_comes_back_unchanged():
    math = MATH.format("", '<mrow><mi>x</mi><mo>&lt;</mo><mtext>a &amp; b</mtext></mrow>', "x &lt; \\text{a \\&amp; b}")
    assert tight_scripts(math) == math
