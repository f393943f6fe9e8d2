"""The notebook pages: each chapter's notebook file, its rendering by mkdocs-jupyter, and its fixes.

Every chapter in ``docs/chapters/`` is also offered as ``notebooks/<name>.ipynb``, written from the
chapter and the outputs its page recorded in the same build (the chapter runs once per build).
mkdocs-jupyter renders it with nbconvert; that rendering is cached by the notebook's bytes, the
plugin's options, the environment and the build's code, so an unchanged notebook is not converted
again. A chapter's notebook page needs no line of its own in mkdocs.yml: `with_notebooks` lists
it under "Notebooks" in the navigation.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from mkdocs.structure.files import File

from tools import upstream
from tools.atomic import write_atomic
from tools import keys
from tools.cache import Store
from tools.chapter import Chapter
from tools.notebook import chapter_notebook
from tools.page_cache import cache_render
from tools.wheel import with_install_line


CHAPTERS = "chapters/"
NOTEBOOKS = "notebooks/"
KIND = "notebooks"
# nbconvert leaves a Markdown cell's math as $...$ and $$...$$ text; outside code, it becomes the
# markup pymdownx.arithmatex gives the chapters, so that tools.katex renders it at build time.
_CODE = re.compile(r"(<(pre|code|script|style)\b.*?</\2>)", re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_DISPLAY_PARAGRAPH = re.compile(r"<p>\s*\$\$(.+?)\$\$\s*</p>", re.S)  # a formula on lines of its own
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$<>]+?)(?<![\\$])\$")
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




def with_notebooks(nav: list | None) -> list | None:
    """The site's navigation with a "Notebooks" section listing every chapter's notebook, titled as
    its chapter is in the navigation."""
    if nav is None:
        return None
    chapters: list[tuple[str, str]] = []

    def visit(items) -> None:
        for item in items:
            title, target = next(iter(item.items())) if isinstance(item, dict) else (None, item)
            if isinstance(target, list):
                visit(target)
            elif isinstance(target, str) and is_chapter(target):
                chapters.append((title or Path(target).stem, target))

    visit(nav)
    notebooks = [{f"{title} (notebook)": notebook_uri(uri)} for title, uri in chapters]
    return nav + [{"Notebooks": notebooks}] if notebooks else nav


def is_chapter(src_uri: str) -> bool:
    return src_uri.startswith(CHAPTERS) and src_uri.endswith(".md")


def notebook_uri(chapter_uri: str) -> str:
    return NOTEBOOKS + Path(chapter_uri).stem + ".ipynb"


class Notebooks:
    """Where one build writes its notebooks, and the cache of their rendered pages."""

    def __init__(self, store: Store, site_key: str) -> None:
        self.store = store
        self.site_key = site_key
        self.folder = Path(tempfile.mkdtemp(prefix="site-notebooks-"))
        self.requirement = ""  # what pip installs the package from the site with (set with the wheel)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def add_files(self, files, config) -> None:
        """One notebook file per chapter; its content is written once the chapter has run."""
        for chapter in [f for f in files.documentation_pages() if is_chapter(f.src_uri)]:
            # A plain File rooted in this build's notebook folder: mkdocs-jupyter wraps it and reads
            # abs_src_path, which a File.generated would lose in the wrapper.
            files.append(File(notebook_uri(chapter.src_uri), str(self.folder), config.site_dir, config.use_directory_urls))

    def write(self, model: Chapter, name: str, src_uri: str, outputs: dict[int, str]) -> None:
        """Write the chapter's notebook, with the outputs its page showed."""
        notebook = chapter_notebook(model, outputs, PREFACE.format(source=name), SETUP.format(requirement=self.requirement),
                                    lambda text: with_install_line(text, self.requirement))
        write_atomic(self.folder / notebook_uri(src_uri), nbformat.writes(notebook) + "\n")

    def cache_rendering(self, page, plugin_config: dict) -> None:
        """Make mkdocs-jupyter's render of a notebook page fit the site (its cells alone, in the
        site's own look: the theme's code blocks and copy buttons, extra.css; its math rendered at
        build time by tools.katex), and cache the result by the notebook, the plugin's options, the
        environment and the build's code."""
        path = Path(page.file.abs_src_path)  # written when its chapter was converted, earlier in this build
        def fitted(render):
            def fitted_render(config, files) -> None:
                render(config, files)
                page.content = _math_markup(upstream.notebook_body(page.content))  # cached with the render

            return fitted_render

        upstream.replace_render(page, fitted)
        key = keys.notebook(self.site_key, path.read_text(encoding="utf-8"), plugin_config)
        cache_render(page, self.store, KIND, key)


def _math_markup(html: str) -> str:
    def convert(text: str) -> str:
        text = _DISPLAY_PARAGRAPH.sub(lambda m: f'<div class="arithmatex">\\[{m[1]}\\]</div>', text)
        text = _DISPLAY.sub(lambda m: f'<span class="arithmatex">\\[{m[1]}\\]</span>', text)
        return _INLINE.sub(lambda m: f'<span class="arithmatex">\\({m[1]}\\)</span>', text)

    parts = _CODE.split(html)  # [text, code, tag, text, code, tag, ...]
    return "".join(convert(part) if n % 3 == 0 else part for n, part in enumerate(parts) if n % 3 != 2)


def fix_page(page) -> None:
    """A notebook page's place on the site: out of search, and its edit link to its chapter."""
    page.meta["search"] = {"exclude": True}  # the chapter page is the one to find
    if page.edit_url:  # the notebook is generated: edit its chapter
        page.edit_url = page.edit_url.replace(page.file.src_uri, CHAPTERS + Path(page.file.src_uri).stem + ".md")
