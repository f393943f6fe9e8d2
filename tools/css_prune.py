"""Style sheets cut down to the rules a page can use.

nbconvert's template inlines JupyterLab's whole style sheet, about 570 KB, into every notebook
page, though a static notebook uses a few dozen of its classes; parsing and matching it is most
of what such a page costs a phone. `prune_styles` keeps a rule when every class its selector needs
(outside functional pseudo-classes such as `:not()`) occurs in the page's markup, keeps at-rules
that hold such rules, and then drops custom properties (``--x: ...``) that nothing kept reads,
directly or through other properties.
"""

from __future__ import annotations

import functools
import re

_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
_GROUPS = ("@media", "@supports", "@layer", "@container")
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)


def _parse(css: str, i: int = 0) -> tuple[list, int]:
    """Rules as (prelude, body) pairs: body is a string, a list of rules (groups) or None."""
    rules, start = [], i
    while i < len(css):
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            i = len(css) if end < 0 else end + 2
            start = i
            continue
        c = css[i]
        if c == "{":
            prelude = css[start:i].strip()
            if prelude.startswith(_GROUPS):
                children, i = _parse(css, i + 1)
                rules.append((prelude, children))
            else:
                end, depth = i + 1, 1
                while end < len(css) and depth:
                    depth += {"{": 1, "}": -1}.get(css[end], 0)
                    end += 1
                rules.append((prelude, css[i + 1:end - 1]))
                i = end
            start = i
            continue
        if c == "}":
            return rules, i + 1
        if c == ";" and css[start:i].strip().startswith("@"):
            rules.append((css[start:i].strip(), None))
            start = i + 1
        elif c in "\"'":  # skip strings, which may hold braces
            end = css.find(c, i + 1)
            i = len(css) if end < 0 else end
        i += 1
    return rules, i


def _needs(selector: str) -> set[str]:
    """Classes the page must have for the selector to match. Those inside :not(), :is(), :where()
    and the like count as none: they may match without them (keeping too much is harmless)."""
    return set(_CLASS.findall(re.sub(r":[\w-]+\((?:[^()]|\([^()]*\))*\)", "", selector)))


def _keep_selectors(rules: list, classes: set[str]) -> list:
    kept = []
    for prelude, body in rules:
        if isinstance(body, list):
            children = _keep_selectors(body, classes)
            if children:
                kept.append((prelude, children))
        elif body is None or prelude.startswith("@"):
            kept.append((prelude, body))
        else:
            selectors = [s for s in _split(prelude, ",") if _needs(s) <= classes]
            if selectors:
                kept.append((",".join(selectors), body))
    return kept


def _split(body: str, separator: str = ";") -> list[str]:
    """A rule's declarations (or a selector list's selectors, with separator ","): split outside
    parentheses and strings, which hold data URLs and :is(a, b)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(body):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == separator and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [d for d in parts if d.strip()]


def _declarations(rules: list):
    for prelude, body in rules:
        if isinstance(body, list):
            yield from _declarations(body)
        elif body and not prelude.startswith("@"):
            yield from _split(body)


def _used_properties(blocks: list[list], markup_uses: frozenset[str]) -> set[str]:
    """Custom properties read by the kept rules of all blocks or by the markup's inline styles,
    and those that their values read in turn."""
    values: dict[str, list[str]] = {}
    used = set(markup_uses)
    for rules in blocks:
        for declaration in _declarations(rules):
            name, _, value = declaration.partition(":")
            name = name.strip()
            if name.startswith("--"):
                values.setdefault(name, []).append(value)
            else:
                used.update(_VAR_USE.findall(value))
    todo = list(used)
    while todo:
        for value in values.get(todo.pop(), []):
            for name in _VAR_USE.findall(value):
                if name not in used:
                    used.add(name)
                    todo.append(name)
    return used


def _drop_properties(rules: list, used: set[str]) -> list:
    out = []
    for prelude, body in rules:
        if isinstance(body, list):
            body = _drop_properties(body, used)
        elif body and not prelude.startswith("@"):
            body = ";".join(d for d in _split(body)
                            if not (d.strip().startswith("--") and d.split(":")[0].strip() not in used))
            if not body.strip():
                continue
        out.append((prelude, body))
    return out


def _dump(rules: list) -> str:
    return "".join(
        f"{prelude};" if body is None else f"{prelude}{{{_dump(body) if isinstance(body, list) else body}}}"
        for prelude, body in rules
    )


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
    sheets = [_keep_selectors(_parse(css)[0], classes) for css in styles]
    used = _used_properties(sheets, markup_uses)
    return [_dump(_drop_properties(rules, used)) for rules in sheets]


def _markup(html: str) -> str:
    return re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
