"""Math turned into MathML at build time by KaTeX (the pinned npm package): pages need no math script.

KaTeX runs on the Node.js of the project's own environment (`tools.node`), not on the machine's.
The browser typesets the MathML itself (MathML Core), in the site's math font (`tools.math_font`):
a formula is a few elements, where KaTeX's HTML output made dozens of absolutely placed spans, each
with its own inline style, that a phone spent a third of a second styling on the chapter page.

pymdownx.arithmatex leaves ``\\(...\\)`` and ``\\[...\\]`` in ``<span class="arithmatex">`` (or a
``div``). Once every page is rendered, `Math.render_all` renders every formula of the pages that
the cache does not hold in one Node process for the whole build, and puts the MathML into the
pages. Rendered formulas are kept by their TeX, display mode and the KaTeX version, in memory
across `mkdocs serve` rebuilds.
`Math.drawn` is what each page's math draws: the characters the math font must have.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mkdocs.exceptions import PluginError

from tools import math_font, node

ROOT = Path(__file__).resolve().parents[1]
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = ROOT / "tools" / "katex_render.cjs"
_MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S)
# A displayed formula scrolls sideways where it is wider than a phone: reachable by keyboard.
_SCROLLS = ' tabindex="0"'
_memory: dict[str, dict[tuple[str, bool], str]] = {}  # KaTeX version -> {(TeX, display): MathML}, across serve rebuilds


def katex_version() -> str:
    try:
        return json.loads((KATEX_DIST.parent / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `make setup` (it runs `npm ci`)") from None


MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)  # written back as KaTeX wrote it: <math xmlns="...">
_MO = f"{{{MATHML}}}mo"
_SCRIPTED = {f"{{{MATHML}}}{tag}" for tag in ("msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts")}
_BINARY = set("+\u2212\u00b1\u2213\u00d7\u00f7\u22c5\u00b7\u2217\u2218")  # + − ± ∓ × ÷ ⋅ · ∗ ∘
_ENDS_OPERAND = set(")]}|!\u2016\u27e9\u230b\u2309")  # an operator after which an operand has ended
_ELLIPSES = {"\u2026", "\u22ef"}  # … ⋯


def _no_space(operator: ET.Element, space: str = "0") -> None:
    operator.set("lspace", space)
    operator.set("rspace", space)


def tex_spacing(mathml: str) -> str:
    """KaTeX's MathML, spaced as TeX spaces it where MathML Core spaces it otherwise.

    MathML Core spaces each operator by its dictionary entry, wherever it stands; TeX looks at its
    neighbours. Three of TeX's rules are written into the MathML here, as `lspace`/`rspace`:
    operators in a subscript or superscript take no space (`a=0` under a sum, not `a = 0`); a
    plus or minus with no operand before it is a sign, with no space (`[-1, 1]`, not `[ - 1, 1]`);
    an ellipsis takes a thin space either side, where Core, which does not list it, gives it a
    thick one.
    """
    root = ET.fromstring(mathml)
    for row in root.iter():
        before = None  # the previous element of the row
        for child in row:
            text = (child.text or "").strip() if child.tag == _MO else None
            if text in _BINARY and (before is None or before.tag == _MO and (before.text or "").strip() not in _ENDS_OPERAND):
                _no_space(child)
            elif text in _ELLIPSES:
                _no_space(child, "0.1667em")
            before = child
    for scripted in (e for e in root.iter() if e.tag in _SCRIPTED):  # last: scripts take no space at all
        for script in list(scripted)[1:]:
            for operator in script.iter(_MO):
                _no_space(operator)
    return ET.tostring(root, encoding="unicode")


def _formula(match: re.Match) -> tuple[str, bool]:  # its TeX, and whether it is displayed
    tex = html_lib.unescape(match["tex"]).strip()
    return tex[2:-2].strip(), tex.startswith("\\[")


class Math:
    """The math of one build: formulas collected per page, rendered together, cached by content."""

    def __init__(self) -> None:
        self.rendered = _memory.setdefault(katex_version(), {})
        self.pages: list = []  # the pages rendered in this build, in order
        self.drawn: dict[str, set[str]] = {}  # src_uri -> the characters its math draws

    def render_all(self) -> None:
        """Render every formula of the pages not in the cache (one Node run), then fill in the pages."""
        missing: dict[tuple[str, bool], str] = {}  # formula -> the first page that has it
        for page in self.pages:
            for match in _MATH.finditer(page.content):
                formula = _formula(match)
                if formula not in self.rendered:
                    missing.setdefault(formula, page.file.src_uri)
        if missing:
            self._render(missing)
        placed: dict[str, tuple[str, set[str]]] = {}  # formula key -> its MathML as placed, what it draws

        for page in self.pages:
            drawn = self.drawn[page.file.src_uri] = set()

            def place(match: re.Match) -> str:
                key = _formula(match)
                if key not in placed:
                    mathml = tex_spacing(self.rendered[key])
                    placed[key] = mathml, math_font.characters(mathml)
                mathml, chars = placed[key]
                drawn.update(chars)
                return f'<{match["tag"]} class="arithmatex"{_SCROLLS if match["tag"] == "div" else ""}>{mathml}</{match["tag"]}>'

            page.content = _MATH.sub(place, page.content)

    def _render(self, missing: dict[tuple[str, bool], str]) -> None:
        items = [{"tex": tex, "display": display} for tex, display in missing]
        result = node.run("node", [str(RENDERER), str(KATEX_DIST.parent)], input=json.dumps(items),
                          capture_output=True, text=True, check=False)
        if result.returncode != 0:
            bad = re.search(r'cannot render ("(?:[^"\\]|\\.)*")', result.stderr)
            if bad is None:  # not a formula: KaTeX itself could not run
                raise PluginError(f"KaTeX could not run (run `make setup`): {result.stderr.strip()}")
            pages = sorted({src for (tex, _), src in missing.items() if json.dumps(tex) == bad[1]})
            where = ", ".join(pages) or ", ".join(sorted(set(missing.values())))
            raise PluginError(f"{where}: math that KaTeX cannot render: {result.stderr.strip()}")
        for key, mathml in zip(missing, json.loads(result.stdout)):
            self.rendered[key] = mathml
