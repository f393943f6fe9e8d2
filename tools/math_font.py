"""The site's math font: Noto Sans Math (the pinned npm package), cut down to what the math uses.

Browsers typeset the MathML that `tools.katex` puts in the pages with an OpenType math font, whose
MATH table holds the larger sizes of big operators such as a display sum and the pieces of tall
brackets. A system may have none (a Debian install with only its default fonts has none), and
each that has one draws the math in its own, so the site serves one, from its own host. `subset` keeps the glyphs of the characters the pages' math uses, and the
variants the MATH table reaches from them: a few kilobytes where the whole font is 256 KB.

A character is what the browser draws, not what the markup holds: MathML Core draws a one-letter
`<mi>` in its mathematical italic form (`x` as U+1D465), so `characters` counts that form.

`build` gives a build its font, cached in the build's cache by the characters, the source font,
fontTools' version and this module's code: a warm build neither imports fontTools nor subsets.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from mkdocs.exceptions import PluginError

from tools import keys
from tools.cache import Store

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "node_modules" / "@fontsource" / "noto-sans-math"
SOURCE = PACKAGE / "files" / "noto-sans-math-latin-400-normal.woff"  # the whole font, despite its name
URI = "assets/fonts/noto-sans-math.woff"  # where the site serves it; extra.css's @font-face loads it
LICENSE = PACKAGE / "LICENSE"  # the SIL Open Font License 1.1, served beside the font
LICENSE_URI = "assets/fonts/noto-sans-math.LICENSE.txt"
KIND = "fonts"  # the build cache's folder for it

_ANNOTATION = re.compile(r"<annotation\b.*?</annotation>", re.S)  # the TeX source, never drawn
_MI = re.compile(r"<mi(?P<attrs>\s[^>]*)?>(?P<text>[^<]*)</mi>")
_TAG = re.compile(r"<[^>]+>")
# MathML Core's automatic italic: Latin and Greek letters, dotless i and j, and a few symbols.
_ITALIC_EXCEPTIONS = {"h": "\u210e", "\u0131": "\U0001d6a4", "\u0237": "\U0001d6a5"}


def italic(char: str) -> str:
    """The character a browser draws for `<mi>char</mi>`: its mathematical italic form, if any."""
    if char in _ITALIC_EXCEPTIONS:
        return _ITALIC_EXCEPTIONS[char]
    name = unicodedata.name(char, "")  # "LATIN SMALL LETTER X", "GREEK PHI SYMBOL", "NABLA"...
    if name.startswith(("LATIN ", "GREEK ")):
        name = name.split(" ", 1)[1].replace("LETTER ", "")  # "SMALL X", "PHI SYMBOL"
    try:
        return unicodedata.lookup("MATHEMATICAL ITALIC " + name) if name else char
    except KeyError:
        return char


def characters(mathml: str) -> set[str]:
    """Every character the browser draws for this MathML (spaces and the TeX annotation aside)."""
    mathml = _ANNOTATION.sub("", mathml)
    drawn: set[str] = set()

    def one_letter(match: re.Match) -> str:
        text = html.unescape(match["text"]).strip()
        if len(text) == 1 and "mathvariant" not in (match["attrs"] or ""):
            drawn.add(italic(text))
            return ""
        return match[0]

    rest = _MI.sub(one_letter, mathml)
    drawn |= set(html.unescape(_TAG.sub("", rest)))
    return {c for c in drawn if not c.isspace()}


def _source_bytes() -> bytes:
    try:
        return SOURCE.read_bytes()
    except OSError:
        raise PluginError(f"the math font is not at {SOURCE}: run `make setup` (it runs `npm ci`)") from None


def _font(source: bytes):
    from fontTools.ttLib import TTFont  # imported only when a font is made: it takes 0.1 s

    return TTFont(io.BytesIO(source))


def build(store: Store, site_key: str, drawn: dict[str, set[str]]) -> tuple[bytes, dict[str, list[str]]]:
    """The font for the math of a build's pages (drawn: page -> characters), and for each page the
    characters the font cannot draw, if any. Cached by content in the build's cache."""
    chars = sorted(set().union(*drawn.values()))
    source = _source_bytes()
    key = keys.font(site_key, source, chars)
    entry = store.load(KIND, "noto-sans-math", key)
    if entry is None:
        entry = {"woff": base64.b64encode(subset(frozenset(chars), source)).decode("ascii"),
                 "lacking": sorted(set(chars) - coverage(source))}
        store.save(KIND, "noto-sans-math", key, entry)
    missing = set(entry["lacking"])
    return base64.b64decode(entry["woff"]), {page: sorted(c & missing) for page, c in drawn.items() if c & missing}


@functools.lru_cache(maxsize=1)
def coverage(source: bytes) -> frozenset[str]:
    """The characters the whole font (source: the font file's bytes) has."""
    return frozenset(map(chr, _font(source).getBestCmap()))


@functools.lru_cache(maxsize=8)  # serve's rebuilds mostly ask for the same characters again
def subset(chars: frozenset[str], source: bytes) -> bytes:
    """The font (source: the font file's bytes) cut down to these characters (with what the MATH table reaches), as WOFF bytes.

    The same characters give the same bytes: the font's timestamp is kept, not set to now. The
    name table stays whole, its copyright and licence address included; the licence's text is
    served beside the font (LICENSE_URI).
    """
    from fontTools import subset as _subset

    font = _font(source)
    font.recalcTimestamp = False
    options = _subset.Options()
    options.layout_features = ["*"]  # ssty (script-size forms) and the rest of what typesetting uses
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = _subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, chars & coverage(source))))
    subsetter.subset(font)
    font.flavor = "woff"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def describe(chars: Iterable[str]) -> str:
    return ", ".join(f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, '?')})" for c in chars)
