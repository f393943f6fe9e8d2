"""Tests of tools/css_prune.py: notebook pages keep exactly the style rules their markup can use."""

from __future__ import annotations

import re

import pytest
import tinycss2

from tools.css_prune import prune_styles


def page(css: str, markup: str) -> str:
    return prune_styles(f"<style>{css}</style>{markup}")


def test_rules_for_classes_the_page_lacks_are_dropped():
    out = page(".a .b{color:red}.a .zz{color:blue}.a:not(.zz) .b{margin:0}", '<div class="a"><p class="b">x</p></div>')
    assert ".a .b{color:red}" in out and ".zz{" not in out
    assert ".a:not(.zz) .b{margin:0}" in out  # :not() of an absent class still matches


def test_selector_lists_are_split_outside_parentheses():
    out = page(":is(.a, .zz) .b,.zz .b{color:red}", '<div class="a"><p class="b">x</p></div>')
    assert out.startswith("<style>:is(.a, .zz) .b{color:red}</style>")


def test_custom_properties_are_kept_when_read_even_through_others_and_other_blocks():
    css = (".a{--used:var(--base);--base:1px;--unused:2px;--icon:url(data:image/svg+xml;base64,AA==)}"
           "@media (min-width:1px){.a{padding:var(--used)}}")
    out = prune_styles(f"<style>{css}</style><style>.b{{margin:var(--from-elsewhere)}}</style>"
                       '<style>.a{--from-elsewhere:0}</style><div class="a b">x</div>')
    assert "--used:var(--base)" in out and "--base:1px" in out and "--from-elsewhere:0" in out
    assert "--unused" not in out and "--icon" not in out and "base64" not in out
    assert "@media (min-width:1px){.a{padding:var(--used)}}" in out


def test_an_empty_block_goes_and_the_markup_stays():
    markup = '<p class="kept">text</p><script>var s = ".gone{}";</script>'
    assert page(".gone{color:red}", markup) == markup


def test_a_dot_inside_an_attribute_selector_is_no_class():
    stderr = '.jupyter-wrapper .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]{background:pink}'
    css = stderr + ".a[title='see .zz'],.a[lang|=en]{color:red}.zz[data-x=\"a.b\"]{color:blue}"
    out = page(css, '<div class="jupyter-wrapper a"><pre class="jp-RenderedText">x</pre></div>')
    assert stderr in out
    assert ".a[title=" in out and "see .zz" in out and ".a[lang|=en]" in out
    assert "blue" not in out  # the class outside the brackets still counts


def test_a_brace_inside_a_string_or_comment_ends_no_rule():
    css = ('.a::after{content:"}";color:red}.zz{color:blue}.a::before{content:"{"}'
           '.a[title="}"]{margin:0}.b{padding:0 /* } */}@media print{.a{content:"}"}.b{margin:1px}}')
    out = page(css, '<div class="a"><p class="b">x</p></div>')
    assert _style(out) == ('.a::after{content:"}";color:red}.a::before{content:"{"}.a[title="}"]{margin:0}'
                           '.b{padding:0}@media print{.a{content:"}"}.b{margin:1px}}')


def test_a_string_cannot_end_the_style_element():
    out = page(r'.a::after{content:"<\/style>"}', '<p class="a">x</p>')
    assert out.count("</style") == 1 and out.endswith('</style><p class="a">x</p>')


_SHEET = """@charset "utf-8";
@import url("fonts.css") screen;
/* a comment with { and } in it */
:root{--brand:#1976d2;--space:calc(var(--unit) * 2);--unit:4px;--icon:url("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'>{}</svg>")}
@font-face{font-family:"Icons";src:url(icons.woff2) format("woff2");unicode-range:U+E000-E0FF}
@keyframes spin{from{transform:rotate(0deg)}to{transform:rotate(360deg)}}
@layer base, theme;
.jp-Cell{padding:var(--space) !important;background-image:var(--icon)}
.jp-Cell:not(.jp-mod-hidden) > .jp-InputArea,.jp-Cell .jp-OutputArea{color:var(--brand)}
.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]{background:#fdd}
.jp-RenderedText pre::after{content:"}  ;  {";font-family:'Icons'}
a[href$=".pdf"]::before{content:"\\e001"}
@media (max-width: 760px) and (min-width:1px){.jp-Cell{padding:0}@supports (display:grid){.jp-OutputArea{display:grid;grid-template:"a b" 1fr / auto}}}
@layer theme{.jp-InputArea:is(.a, .b){animation:spin 1s infinite}}
@container sidebar (min-width: 400px){.jp-Cell .jp-InputArea{margin:0}}
"""


_GROUPS = {"media", "supports", "layer", "container"}


def _style(html: str) -> str:
    return "".join(re.findall(r"<style>(.*?)</style>", html, re.S))


def _rules(css: str) -> list:
    """The rules of css in order, those in @media and the like too: a style rule as ("rule", its
    number of declarations), a group as (its keyword, its number of rules), another at-rule as
    (its keyword, prelude, block)."""
    def walk(nodes):
        out = []
        for node in nodes:
            if node.type == "qualified-rule":
                contents = tinycss2.parse_blocks_contents(node.content, skip_whitespace=True)
                out.append(("rule", sum(d.type == "declaration" for d in contents)))
            elif node.type == "at-rule" and node.lower_at_keyword in _GROUPS and node.content is not None:
                children = walk(tinycss2.parse_rule_list(node.content, skip_whitespace=True))
                out += [(node.lower_at_keyword, len(children)), *children]
            elif node.type == "at-rule":
                out.append((node.lower_at_keyword, tinycss2.serialize(node.prelude).strip(),
                            node.content and tinycss2.serialize(node.content)))
            else:
                out.append(node.type)  # a parse error: there should be none
        return out
    return walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def _every_class_and_property(css: str) -> str:
    """Markup with every class css names (in :not() too) and reading every custom property."""
    classes, properties = set(), set()

    def walk(tokens):
        for previous, token in zip([None, *tokens], tokens):
            if token.type == "ident":
                if previous is not None and previous.type == "literal" and previous.value == ".":
                    classes.add(token.value)
                if token.value.startswith("--"):
                    properties.add(token.value)
            walk(getattr(token, "content", None) or getattr(token, "arguments", None) or [])

    walk(tinycss2.parse_component_value_list(css, skip_comments=True))
    reads = ";".join(f"x:var({p})" for p in sorted(properties))
    return f'<div class="{" ".join(sorted(classes))}" style="{reads}">x</div>'


def test_a_sheet_keeps_every_rule_when_the_page_has_every_class_it_names():
    out = _style(page(_SHEET, _every_class_and_property(_SHEET)))
    assert _rules(out) == _rules(_SHEET) and len(_rules(_SHEET)) == 19
    assert _rules(_style(page(out, _every_class_and_property(_SHEET)))) == _rules(_SHEET)  # and again
    out = _style(page(_SHEET, '<p class="jp-Cell">x</p>'))
    assert "--brand" not in out and ":root{--space:calc(var(--unit) * 2);--unit:4px;--icon:url(" in out
    assert [r[:2] for r in _rules(out)] == [  # without the rules for other classes, and --brand
        ("charset", '"utf-8"'), ("import", 'url("fonts.css") screen'), ("rule", 3), ("font-face", ""),
        ("keyframes", "spin"), ("layer", "base, theme"), ("rule", 2), ("rule", 1), ("media", 1), ("rule", 1)]


def test_jupyterlabs_sheet_keeps_every_rule_when_the_page_has_every_class_and_property():
    nbformat = pytest.importorskip("nbformat")
    exporters = pytest.importorskip("nbconvert.exporters")
    html, _ = exporters.HTMLExporter(template_name="lab").from_notebook_node(nbformat.v4.new_notebook())
    css = _style(re.sub(r"<style[^>]*>", "<style>", html))
    out = _style(page(css, _every_class_and_property(css)))
    assert len(_rules(css)) > 1000 and _rules(out) == _rules(css)
