"""MkDocs hooks of the site (listed under `hooks:` in mkdocs.yml).

- Executed Python blocks run through our own runner, registered with markdown-exec's public
  `formatters` table: every page gets a fresh session per build, a failing block is reported as
  ``docs/chapters/x.md:42`` with a traceback in the chapter's own line numbers, and each block's
  output is recorded.
- Notebooks: every chapter in ``docs/chapters/`` is also offered as ``notebooks/<name>.ipynb``, made
  from the chapter's Markdown and the outputs recorded while the page was built (the chapter runs
  once per build); mkdocs-jupyter renders it as a page.
- Math: KaTeX (the pinned npm package) renders the chapters' math to HTML at build time, so
  pages need no math JavaScript; its stylesheet and fonts are served by the site itself. Notebook
  pages, whose Markdown cells keep their TeX, get KaTeX's scripts from the site to render it.
- Accessibility fixes for markup that the theme and nbconvert generate.
"""

from __future__ import annotations

import ast
import contextlib
import html as html_lib
import io
import json
import os
import re
import subprocess
import shutil
import sys
import tempfile
import traceback
from functools import partial
from pathlib import Path
from types import ModuleType

from markdown_exec import ExecutionError, base_format, code_block, formatters
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # hooks are loaded by file path; make `tools` importable
    sys.path.insert(0, str(ROOT))

from tools.notebook import chapter_notebook, dumps, is_executed  # noqa: E402
from tools.tangle import ChapterError, parse_blocks, write_atomic  # noqa: E402

KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
KATEX_URI = "assets/katex"
KATEX_FILES = ["katex-swap.min.css", "katex.min.js", "contrib/auto-render.min.js"]
KATEX_SCRIPTS = [f"{KATEX_URI}/katex.min.js", f"{KATEX_URI}/contrib/auto-render.min.js", "assets/javascripts/katex-init.js"]
_MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S)
CHAPTERS = "chapters/"
NOTEBOOKS = "notebooks/"
NOTEBOOK_PREFACE = (
    "*This notebook is generated from the chapter `{source}` of the site, with the outputs of the "
    "site's build. To run it, install PyTorch, matplotlib and this project's `literate` package "
    "(`pip install .` in a checkout of the repository).*"
)


class _Build:
    """What one build run keeps: page sessions, recorded outputs, where notebooks are written."""

    def __init__(self) -> None:
        self.sessions: dict[str, ModuleType] = {}
        self.outputs: dict[str, str] = {}  # block id ("docs/x.md:12") -> printed text
        self.sources: dict[str, Path] = {}  # "docs/x.md" -> absolute path
        self.notebook_dir = Path(tempfile.mkdtemp(prefix="site-notebooks-"))

    def close(self) -> None:
        for module in self.sessions.values():
            sys.modules.pop(module.__name__, None)
        shutil.rmtree(self.notebook_dir, ignore_errors=True)


_build = _Build()


def on_config(config):
    runner = partial(base_format, language="python", run=_run_python)
    formatters["python"] = formatters["py"] = runner
    # "Edit this page" from REPO_URL. Only edit_uri is set: a repo_url would make the theme fetch
    # repository statistics from GitHub's API on every page, a request to another host.
    repo = os.environ.get("REPO_URL", "").strip().rstrip("/")
    branch = os.environ.get("REPO_BRANCH", "main").strip() or "main"
    config.repo_url = None
    docs = os.path.relpath(config.docs_dir, os.path.dirname(config.config_file_path)).replace(os.sep, "/")
    config.edit_uri = f"{repo}/edit/{branch}/{docs}/" if repo else None
    return config


def on_pre_build(config) -> None:
    global _build
    _build.close()
    _build = _Build()


def on_post_build(config) -> None:
    _build.close()


def on_build_error(error) -> None:
    _build.close()  # no temporary notebook folder left behind by a failed build


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Give each executed block the page's session and an id naming its file and line."""
    source = Path(page.file.abs_src_path)
    where = _relative(source, Path(config.config_file_path).parent)
    _build.sources[where] = source
    try:
        blocks = parse_blocks(markdown, source)
    except ChapterError as error:
        raise PluginError(str(error)) from None
    lines = markdown.split("\n")
    offset = _front_matter_lines(source, markdown)
    for block in blocks:
        if not is_executed(block):
            continue
        info = re.sub(r"""\s*\b(session|id)=(?:"[^"]*"|'[^']*'|\S+)""", "", block.info)
        line = lines[block.line - 1]
        fence_end = line.index(block.info) if block.info else len(line)
        lines[block.line - 1] = f'{line[:fence_end]}{info} session="{where}" id="{where}:{block.line + offset}"'
    return "\n".join(lines)


def _run_python(code: str, returncode=None, session=None, id=None, **extra) -> str:  # noqa: A002
    """Run one block in its page's session; return what it printed."""
    where, _, line = id.rpartition(":")
    filename = str(_build.sources.get(where, where))
    module = _build.sessions.get(session)
    if module is None:
        name = "chapter_" + re.sub(r"\W+", "_", session)
        module = _build.sessions[session] = ModuleType(name)
        sys.modules[name] = module  # classes defined in a block need their module (dataclasses, pickle)
    buffer = io.StringIO()
    try:
        tree = ast.parse(code, filename=filename)
        ast.increment_lineno(tree, int(line))  # tracebacks in the chapter's own line numbers
        with contextlib.redirect_stdout(buffer):
            exec(compile(tree, filename, "exec"), module.__dict__)  # noqa: S102
    except SyntaxError as error:
        error.lineno = (error.lineno or 1) + int(line)
        error.filename = filename
        raise ExecutionError(code_block("python", "".join(traceback.format_exception_only(error)))) from None
    except Exception as error:
        trace = traceback.TracebackException.from_exception(error)
        first = next((n for n, frame in enumerate(trace.stack) if frame.filename == filename), 0)
        trace.stack = traceback.StackSummary.from_list(trace.stack[first:])
        raise ExecutionError(code_block("python", "".join(trace.format()))) from None
    _build.outputs[id] = buffer.getvalue()
    return buffer.getvalue()


@event_priority(100)  # before mkdocs-jupyter looks at the files, so it renders our notebooks
def on_files(files, config):
    if not KATEX_DIST.is_dir():
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `make setup` (it runs `npm ci`)")
    wanted = KATEX_FILES + [f"fonts/{font.name}" for font in sorted((KATEX_DIST / "fonts").iterdir())]
    for name in wanted:
        files.append(File.generated(config, f"{KATEX_URI}/{name}", abs_src_path=str(KATEX_DIST / name)))
    for chapter in [f for f in files.documentation_pages() if _is_chapter(f.src_uri)]:
        uri = _notebook_uri(chapter.src_uri)
        # A plain File rooted in this build's notebook folder: mkdocs-jupyter wraps it and reads
        # abs_src_path, which a File.generated would lose in the wrapper.
        files.append(File(uri, str(_build.notebook_dir), config.site_dir, config.use_directory_urls))
    return files


@event_priority(100)
def on_pre_page(page, config, files):
    if page.file.src_uri.startswith(NOTEBOOKS) and not Path(page.file.abs_src_path).is_file():
        raise PluginError(f"{page.file.src_uri}: rendered before its chapter ran, so it has no outputs yet")
    return page


def on_page_content(html: str, page, config, files) -> str:
    """Render math; after a chapter ran, write its notebook with the outputs this build recorded."""
    html = _render_math(html, page.file.src_uri)
    if _is_chapter(page.file.src_uri):
        source = Path(page.file.abs_src_path)
        where = _relative(source, Path(config.config_file_path).parent)
        prefix = f"{where}:"
        outputs = {int(key[len(prefix):]): text for key, text in _build.outputs.items() if key.startswith(prefix)}
        notebook = chapter_notebook(source, outputs, NOTEBOOK_PREFACE.format(source=where))
        write_atomic(_build.notebook_dir / _notebook_uri(page.file.src_uri), dumps(notebook))
    elif page.file.src_uri.startswith(NOTEBOOKS):
        # nbconvert's template loads MathJax from a CDN; the site's own KaTeX renders the math.
        html = re.sub(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", "", html, flags=re.S)
        html += "".join(f'<script src="{get_relative_url(uri, page.url)}"></script>' for uri in KATEX_SCRIPTS)
        # Scrollable code cells must be reachable by keyboard.
        html = html.replace('<div class="highlight-ipynb', '<div tabindex="0" class="highlight-ipynb')
        page.meta["search"] = {"exclude": True}  # the chapter page is the one to find
        if page.edit_url:  # the notebook is generated: edit its chapter
            page.edit_url = page.edit_url.replace(page.file.src_uri, CHAPTERS + Path(page.file.src_uri).stem + ".md")
    return html


def on_post_page(output: str, page, config) -> str:
    return _name_search_dialog(output)


def on_post_template(output: str, template_name: str, config) -> str:
    return _name_search_dialog(output)  # 404.html


def _name_search_dialog(output: str) -> str:
    """The theme's search dialog has no accessible name; give it one."""
    return output.replace('data-md-component="search" role="dialog">', 'data-md-component="search" role="dialog" aria-label="Search">', 1)


def _render_math(html: str, src_uri: str) -> str:
    """Replace pymdownx.arithmatex's \\(...\\) and \\[...\\] with KaTeX's HTML, rendered by Node."""
    found = list(_MATH.finditer(html))
    if not found:
        return html
    items = []
    for match in found:
        tex = html_lib.unescape(match["tex"]).strip()
        display = tex.startswith("\\[")
        items.append({"tex": tex[2:-2].strip(), "display": display})
    command = ["node", str(ROOT / "tools" / "katex_render.cjs"), str(KATEX_DIST.parent)]
    result = subprocess.run(command, input=json.dumps(items), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PluginError(f"{src_uri}: math that KaTeX cannot render: {result.stderr.strip()}")
    rendered = iter(json.loads(result.stdout))
    return _MATH.sub(lambda m: f'<{m["tag"]} class="arithmatex">{next(rendered)}</{m["tag"]}>', html)


def _is_chapter(src_uri: str) -> bool:
    return src_uri.startswith(CHAPTERS) and src_uri.endswith(".md")


def _notebook_uri(chapter_uri: str) -> str:
    return NOTEBOOKS + Path(chapter_uri).stem + ".ipynb"


def _front_matter_lines(source: Path, markdown: str) -> int:
    """Lines MkDocs removed from the top of the file (front matter) before handing us markdown."""
    text = source.read_text(encoding="utf-8")
    return text[: len(text) - len(markdown)].count("\n") if text.endswith(markdown) else 0


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
