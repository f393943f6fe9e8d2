"""Math turned into MathML at build time by KaTeX (the pinned npm package): pages need no math script.

KaTeX runs on the Node.js of the project's own environment (`tools.node`), not on the machine's.
The browser typesets the MathML itself (MathML Core), in the site's math font (`tools.math_font`):
a formula is a few elements, where KaTeX's HTML output made dozens of absolutely placed spans, each
with its own inline style, that a phone spent a third of a second styling on the chapter page.

pymdownx.arithmatex leaves ``\\(...\\)`` and ``\\[...\\]`` in ``<span class="arithmatex">`` (or a
``div``). `Math.collect` notes each page's formulas as the page is rendered; `Math.render_all`
then renders every formula the cache does not hold in one Node process for the whole build, and
puts the MathML into the pages. Rendered formulas are cached by their TeX, display mode and the
KaTeX version, in memory across `mkdocs serve` rebuilds and on disk in the build's cache.
`Math.drawn` is what each page's math draws: the characters the math font must have.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from mkdocs.exceptions import PluginError

from tools import math_font, node
from tools.cache import Store, digest

ROOT = Path(__file__).resolve().parents[1]
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = ROOT / "tools" / "katex_render.cjs"
KIND = "math"
_MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S)
# A displayed formula scrolls sideways where it is wider than a phone: reachable by keyboard.
_SCROLLS = ' tabindex="0"'
_memory: dict[str, dict[str, str]] = {}  # KaTeX version -> {formula key: MathML}, across serve rebuilds


def katex_version() -> str:
    try:
        return json.loads((KATEX_DIST.parent / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `make setup` (it runs `npm ci`)") from None


MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)  # written back as KaTeX wrote it: <math xmlns="...">
_SCRIPTED = {f"{{{MATHML}}}{tag}" for tag in ("msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts")}


def tight_scripts(mathml: str) -> str:
    """Operators in a subscript or superscript set without their spaces, as TeX sets them.

    MathML Core spaces an operator by its dictionary entry wherever it stands, so the limits of a
    sum read `a = 0` where TeX, and KaTeX's HTML before, gave `a=0`. KaTeX's MathML leaves that to
    the browser; here each operator below a script position gets `lspace="0" rspace="0"`.
    """
    root = ET.fromstring(mathml)
    for scripted in (e for e in root.iter() if e.tag in _SCRIPTED):
        for script in list(scripted)[1:]:
            for operator in script.iter(f"{{{MATHML}}}mo"):
                operator.set("lspace", "0")
                operator.set("rspace", "0")
    return ET.tostring(root, encoding="unicode")


def _formula(match: re.Match) -> dict:
    tex = html_lib.unescape(match["tex"]).strip()
    return {"tex": tex[2:-2].strip(), "display": tex.startswith("\\[")}


class Math:
    """The math of one build: formulas collected per page, rendered together, cached by content."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = katex_version()
        self.key = digest({"katex": self.version, "renderer": RENDERER.read_text(encoding="utf-8")})
        self.rendered = _memory.setdefault(self.key, {}) if store.enabled else {}
        if store.enabled and not self.rendered:
            self.rendered.update(store.load(KIND, "katex", self.key) or {})
        self.pending: dict[str, object] = {}  # src_uri -> page
        self.drawn: dict[str, set[str]] = {}  # src_uri -> the characters its math draws
        self.new = 0

    @staticmethod
    def _key(formula: dict) -> str:
        return digest(formula)

    def collect(self, page, html: str) -> None:
        """Note the formulas of a rendered page; they are put in place by render_all."""
        if _MATH.search(html):
            self.pending[page.file.src_uri] = page

    def render_all(self) -> None:
        """Render every collected formula not in the cache (one Node run), then fill in the pages."""
        missing: dict[str, tuple[dict, str]] = {}
        for src_uri, page in self.pending.items():
            for match in _MATH.finditer(page.content):
                formula = _formula(match)
                key = self._key(formula)
                if key not in self.rendered and key not in missing:
                    missing[key] = (formula, src_uri)
        if missing:
            self._render(missing)
        placed: dict[str, str] = {}  # formula key -> its MathML as the pages get it

        def mathml(match: re.Match) -> str:
            key = self._key(_formula(match))
            if key not in placed:
                placed[key] = tight_scripts(self.rendered[key])
            return placed[key]

        for src_uri, page in self.pending.items():
            self.drawn[src_uri] = set().union(*(math_font.characters(mathml(m)) for m in _MATH.finditer(page.content)))
            page.content = _MATH.sub(
                lambda m: f'<{m["tag"]} class="arithmatex"{_SCROLLS if m["tag"] == "div" else ""}>{mathml(m)}</{m["tag"]}>',
                page.content,
            )
        self.pending.clear()

    def _render(self, missing: dict[str, tuple[dict, str]]) -> None:
        items = [formula for formula, _ in missing.values()]
        try:
            command = node.command("node", [str(RENDERER), str(KATEX_DIST.parent)])
        except node.NodeMissing as error:
            raise PluginError(str(error)) from None
        result = subprocess.run(command, input=json.dumps(items), capture_output=True, text=True, check=False,
                                env=node.environment())
        if result.returncode != 0:
            bad = re.search(r'cannot render ("(?:[^"\\]|\\.)*")', result.stderr)
            pages = sorted({src for formula, src in missing.values() if bad and json.dumps(formula["tex"]) == bad[1]})
            where = ", ".join(pages) or ", ".join(sorted({src for _, src in missing.values()}))
            raise PluginError(f"{where}: math that KaTeX cannot render: {result.stderr.strip()}")
        for key, mathml in zip(missing, json.loads(result.stdout)):
            self.rendered[key] = mathml
        self.new += len(missing)

    def save(self) -> None:
        if self.new:
            self.store.save(KIND, "katex", self.key, self.rendered)
