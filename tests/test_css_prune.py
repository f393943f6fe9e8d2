"""Tests of tools/css_prune.py: notebook pages keep exactly the style rules their markup can use."""

from __future__ import annotations

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
