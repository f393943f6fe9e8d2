"""The notebook pages: each chapter's notebook file, its rendering by mkdocs-jupyter, and its fixes.

Every chapter in ``docs/chapters/`` is also offered as ``notebooks/<name>.ipynb``, written from the
chapter and the outputs its page recorded in the same build (the chapter runs once per build).
mkdocs-jupyter renders it with nbconvert; that rendering is cached by the notebook's bytes, the
plugin's options and the environment, so an unchanged notebook is not converted again.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from tools.atomic import write_atomic
from tools.cache import Store, digest
from tools.chapter import Chapter
from tools.notebook import chapter_notebook, dumps

CHAPTERS = "chapters/"
NOTEBOOKS = "notebooks/"
KIND = "notebooks"
KATEX_SCRIPTS = ["assets/katex/katex.min.js", "assets/katex/contrib/auto-render.min.js", "assets/javascripts/katex-init.js"]
PREFACE = (
    "*This notebook is generated from the chapter `{source}` of the site, with the outputs of the "
    "site's build. It runs wherever PyTorch does (Colab, or your own Jupyter): its first cell "
    "installs the chapter's `literate` package from the site when it is missing.*"
)
# The first code cell: installs the package from the site where it cannot be imported, and does
# nothing where it can (a checkout, or a second run).
SETUP = """# Install this chapter's `literate` package from the site where it is missing (Colab, a fresh Jupyter).
import importlib.util, subprocess, sys
if importlib.util.find_spec("literate") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {requirement!r}], check=True)"""
INSTALL_MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- install-literate -->[ \t]*$", re.M)


def with_install_line(markdown: str, install: str) -> str:
    """Markdown with each `<!-- install-literate -->` line replaced by a block holding the install command."""
    return INSTALL_MARKER.sub(lambda m: "\n".join(m["indent"] + line for line in ["```bash", install, "```"]), markdown)


_written: dict[str, str] = {}


def is_chapter(src_uri: str) -> bool:
    return src_uri.startswith(CHAPTERS) and src_uri.endswith(".md")


def notebook_uri(chapter_uri: str) -> str:
    return NOTEBOOKS + Path(chapter_uri).stem + ".ipynb"


class Notebooks:
    """Where one build writes its notebooks, and the cache of their rendered pages."""

    def __init__(self, store: Store, environment_key: str) -> None:
        self.store = store
        self.environment_key = environment_key
        self.folder = Path(tempfile.mkdtemp(prefix="site-notebooks-"))
        self.install = ""  # the pip command that installs the package from the site (set with the wheel)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def add_files(self, files, config) -> None:
        """One notebook file per chapter; its content is written once the chapter has run."""
        for chapter in [f for f in files.documentation_pages() if is_chapter(f.src_uri)]:
            # A plain File rooted in this build's notebook folder: mkdocs-jupyter wraps it and reads
            # abs_src_path, which a File.generated would lose in the wrapper.
            files.append(File(notebook_uri(chapter.src_uri), str(self.folder), config.site_dir, config.use_directory_urls))

    def write(self, model: Chapter, name: str, src_uri: str, outputs: dict[int, str]) -> None:
        preface = PREFACE.format(source=name)
        requirement = self.install.split(" ", 2)[-1].strip('"')  # pip install "<requirement>"
        setup = SETUP.format(requirement=requirement)
        key = digest({"text": model.text, "offset": model.offset, "outputs": sorted(outputs.items()), "preface": preface,
                      "setup": setup, "install": self.install})
        if key not in _written:  # the same chapter and outputs make the same notebook: build it once per process
            if len(_written) >= 64:
                del _written[next(iter(_written))]  # the oldest
            notebook = chapter_notebook(model, outputs, preface, setup, lambda text: with_install_line(text, self.install))
            _written[key] = dumps(notebook)
        write_atomic(self.folder / notebook_uri(src_uri), _written[key])

    def cache_rendering(self, page, plugin_config: dict) -> None:
        """Wrap mkdocs-jupyter's render of a notebook page so an unchanged notebook is not converted again."""
        path = Path(page.file.abs_src_path)
        if not path.is_file():
            raise PluginError(f"{page.file.src_uri}: rendered before its chapter ran, so it has no outputs yet")
        render = page.render
        if not self.store.enabled or not callable(render):
            return
        name = page.file.src_uri
        options = {k: v for k, v in plugin_config.items() if k not in ("cache", "cache_dir")}
        key = digest({"notebook": digest(path.read_text(encoding="utf-8")), "options": repr(sorted(options.items())),
                      "environment": self.environment_key})
        cached = self.store.load(KIND, name, key)
        store = self.store

        def cached_render(config, files):
            if cached is not None:
                page.content = cached["content"]
                page.toc = get_toc(cached["toc"])
                if cached["title"] is not None:
                    page.title = cached["title"]
                return
            render(config, files)
            title = vars(page).get("title")  # the title mkdocs-jupyter set, if any (else MkDocs derives one)
            store.save(KIND, name, key, {"content": page.content, "toc": _toc_tokens(page.toc), "title": title})

        page.render = cached_render


def _toc_tokens(toc) -> list[dict]:
    return [{"level": a.level, "id": a.id, "name": a.title, "children": _toc_tokens(a.children)} for a in toc]


def fix_page(html: str, page) -> str:
    """A rendered notebook page made to fit the site: local math, keyboard access, edit link, search."""
    # nbconvert's template loads MathJax from a CDN; the site's own KaTeX renders the math.
    html = re.sub(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", "", html, flags=re.S)
    html += "".join(f'<script src="{get_relative_url(uri, page.url)}"></script>' for uri in KATEX_SCRIPTS)
    # Scrollable code must be reachable by keyboard: code cells, and code blocks in Markdown cells.
    html = html.replace('<div class="highlight-ipynb', '<div tabindex="0" class="highlight-ipynb')
    html = html.replace('<div class="highlight"><pre>', '<div class="highlight"><pre tabindex="0">')
    page.meta["search"] = {"exclude": True}  # the chapter page is the one to find
    if page.edit_url:  # the notebook is generated: edit its chapter
        page.edit_url = page.edit_url.replace(page.file.src_uri, CHAPTERS + Path(page.file.src_uri).stem + ".md")
    return html
