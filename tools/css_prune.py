"""Style sheets cut down to the rules a page can use.

nbconvert's template inlines JupyterLab's whole style sheet, about 570 KB, into every notebook
page, though a static notebook uses a few dozen of its classes; parsing and matching it is most
of what such a page costs a phone. `prune_styles` keeps a rule when every class its selector needs
(outside functional pseudo-classes such as `:not()`) occurs in the page's markup, keeps at-rules
that hold such rules, and then drops custom properties (``--x: ...``) that nothing kept reads,
directly or through other properties.

The sheets are read with tinycss2, so strings, escapes, comments and attribute selectors such as
``[data-mime-type="application/vnd.jupyter.stderr"]`` are tokenised as a browser would.
"""

from __future__ import annotations

import functools
import re

import tinycss2
from tinycss2.serializer import serialize_identifier

_VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")  # in the markup's inline styles
_GROUPS = frozenset({"media", "supports", "layer", "container"})
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
_END_STYLE = re.compile(r"</(?=style)", re.I)
_BLOCKS = frozenset({"() block", "[] block", "{} block"})

# A sheet is parsed into a list of rules, each a tuple tagged by its first item:
#   (_RULE, selectors, declarations): a style rule whose selectors (texts) the page can match; its
#       declarations as (custom property name or None, text, custom properties the value reads)
#   (_GROUP, prelude, rules): @media, @supports, @layer or @container and the rules it keeps
#   (_OTHER, text, reads): any other at-rule (@font-face, @keyframes, @import ...), kept whole
_RULE, _GROUP, _OTHER = range(3)


def _trim(tokens: list) -> list:
    """tokens without whitespace at either end."""
    start, end = 0, len(tokens)
    while start < end and tokens[start].type == "whitespace":
        start += 1
    while end > start and tokens[end - 1].type == "whitespace":
        end -= 1
    return tokens[start:end]


def _selectors(prelude: list) -> list[list]:
    """A selector list's selectors: its tokens split at top-level commas (those of :is(a, b) are
    inside a function token)."""
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    selectors.append(current)
    return [s for s in map(_trim, selectors) if s]


def _needs(selector: list) -> set[str]:
    """Classes the page must have for the selector to match: a `.` then a name at the selector's
    top level. Those inside :not(), :is(), :where() and the like (function tokens) count as none:
    they may match without them (keeping too much is harmless). A `.` in an attribute selector
    ([] block) or a string is no class."""
    return {
        name.value
        for dot, name in zip(selector, selector[1:])
        if name.type == "ident" and dot.type == "literal" and dot.value == "."
    }


def _reads(tokens: list, out: set[str]) -> set[str]:
    """out, plus the custom properties that var() calls among tokens read, however deep."""
    for token in tokens:
        kind = token.type
        if kind == "function":
            if token.lower_name == "var":
                first = _trim(token.arguments)[:1]
                if first and first[0].type == "ident" and first[0].value.startswith("--"):
                    out.add(first[0].value)
            _reads(token.arguments, out)
        elif kind in _BLOCKS:
            _reads(token.content, out)
    return out


def _rule_reads(node) -> set[str]:
    """The custom properties a rule kept whole reads, in its prelude or anywhere in its block."""
    return _reads(node.content or [], _reads(node.prelude, set()))


def _declarations(content: list) -> list[tuple]:
    """A style rule's declarations as (custom property name or None, text, reads). Nested rules
    are kept whole; invalid declarations, which browsers ignore, go."""
    out = []
    for node in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if node.type == "declaration":
            value = _trim(node.value)
            text = f"{serialize_identifier(node.name)}:{tinycss2.serialize(value)}"
            if node.important:
                text += "!important"
            custom = node.name if node.name.startswith("--") else None
            out.append((custom, text, _reads(value, set())))
        elif node.type in ("qualified-rule", "at-rule"):
            out.append((None, tinycss2.serialize([node]), _rule_reads(node)))
    return out


def _keep(nodes: list, classes: frozenset[str]) -> list[tuple]:
    """The rules among nodes (parsed by tinycss2) that the page can use."""
    kept = []
    for node in nodes:
        if node.type == "qualified-rule":
            selectors = [tinycss2.serialize(s) for s in _selectors(node.prelude) if _needs(s) <= classes]
            if selectors:
                kept.append((_RULE, selectors, _declarations(node.content)))
        elif node.type == "at-rule":
            if node.lower_at_keyword in _GROUPS and node.content is not None:
                rules = _keep(tinycss2.parse_rule_list(node.content, skip_whitespace=True), classes)
                if rules:
                    prelude = node.prelude  # keeping the space after the keyword, if any
                    while prelude and prelude[-1].type == "whitespace":
                        prelude = prelude[:-1]
                    at = f"@{serialize_identifier(node.at_keyword)}{tinycss2.serialize(prelude)}"
                    kept.append((_GROUP, at, rules))
            else:
                kept.append((_OTHER, tinycss2.serialize([node]), _rule_reads(node)))
        # and parse errors (a selector that the sheet's end cuts off) go, as in a browser
    return kept


def _used_properties(sheets: list[list], markup_uses: frozenset[str]) -> set[str]:
    """Custom properties read by the kept rules of all sheets or by the markup's inline styles,
    and those that their values read in turn."""
    values: dict[str, list[set[str]]] = {}
    used = set(markup_uses)

    def visit(rules: list) -> None:
        for kind, first, second in rules:
            if kind == _RULE:
                for custom, _, reads in second:
                    if custom:
                        values.setdefault(custom, []).append(reads)
                    else:
                        used.update(reads)
            elif kind == _GROUP:
                visit(second)
            else:
                used.update(second)

    for rules in sheets:
        visit(rules)
    todo = list(used)
    while todo:
        for reads in values.get(todo.pop(), ()):
            for name in reads - used:
                used.add(name)
                todo.append(name)
    return used


def _dump(rules: list, used: set[str]) -> str:
    """Rules as CSS, without the custom properties nobody reads (and rules left empty)."""
    out = []
    for kind, first, second in rules:
        if kind == _RULE:
            body = ";".join(text for custom, text, _ in second if not custom or custom in used)
            if body:
                out.append(f"{','.join(first)}{{{body}}}")
        elif kind == _GROUP:
            body = _dump(second, used)
            if body:
                out.append(f"{first}{{{body}}}")
        else:
            out.append(first)
    return "".join(out)


def prune_styles(html: str) -> str:
    """html whose <style> elements keep only the rules its markup can use (see the module)."""
    markup = _markup(html)
    classes = {c for value in re.findall(r'class="([^"]*)"', markup) for c in value.split()}
    styles = [m[2] for m in _STYLE.finditer(html)]
    pruned = _pruned(tuple(styles), frozenset(classes), frozenset(_VAR_USE.findall(markup)))
    parts = iter(pruned)
    return _STYLE.sub(lambda m: f"{m[1]}{css}{m[3]}" if (css := next(parts)) else "", html)


@functools.lru_cache(maxsize=16)  # serve: an edited chapter's notebook has the same styles and classes
def _pruned(styles: tuple[str, ...], classes: frozenset[str], markup_uses: frozenset[str]) -> list[str]:
    sheets = [_keep(_parsed(css), classes) for css in styles]
    used = _used_properties(sheets, markup_uses)
    # Strings come back unescaped: one holding "<\/style>" must not end the <style> element.
    return [_END_STYLE.sub(r"<\\/", _dump(rules, used)) for rules in sheets]


@functools.lru_cache(maxsize=8)  # every notebook page inlines the same JupyterLab sheet: parsed once
def _parsed(css: str) -> tuple:
    return tuple(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def _markup(html: str) -> str:
    return re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
