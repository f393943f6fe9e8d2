"""MkDocs hooks of the site (listed under `hooks:` in mkdocs.yml).

- Executed code blocks: every `exec` block of a page runs in that page's own session, and gets an
  id naming its file and line, so a failing block is reported as ``docs/chapters/x.md:42``.
- KaTeX: the math renderer is served by the site itself, from the pinned npm package.
"""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # hooks are loaded by file path; make `tools` importable
    sys.path.insert(0, str(ROOT))

from tools.tangle import ChapterError, parse_blocks  # noqa: E402

KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
KATEX_URI = "assets/katex"
KATEX_FILES = ["katex.min.css", "katex.min.js", "contrib/auto-render.min.js"]

_EXEC = re.compile(r"""\bexec=(["']?)(1|on|true|yes)\1(?=\s|}|$)""")
_OPTION = r"""\b{name}=(?:"[^"]*"|'[^']*'|\S+)"""
_build_id = ""


def on_pre_build(config) -> None:
    # Sessions live in one process-wide dict: a fresh id per build keeps `mkdocs serve` rebuilds
    # from seeing names left over by the previous build. It never reaches the pages.
    global _build_id
    _build_id = uuid.uuid4().hex


def on_page_markdown(markdown: str, page, config, files) -> str:
    source = Path(page.file.abs_src_path)
    where = _relative(source, Path(config.config_file_path).parent)
    try:
        blocks = parse_blocks(markdown, source)
    except ChapterError as error:
        raise PluginError(str(error)) from None
    lines = markdown.split("\n")
    offset = _front_matter_lines(source, markdown)
    for block in blocks:
        if block.language not in ("python", "py") or not _EXEC.search(block.info):
            continue
        n = block.line - 1
        given_session = _option(block.info, "session")
        info = _drop_options(block.info, ("session", "id"))
        session = f"{page.file.src_uri}#{given_session or 'page'}#{_build_id}"
        line = lines[n]
        fence_end = line.index(block.info) if block.info else len(line)
        lines[n] = f'{line[:fence_end]}{info} session="{session}" id="{where}:{block.line + offset}"'
    return "\n".join(lines)


def on_files(files, config):
    if not KATEX_DIST.is_dir():
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `make setup` (it runs `npm ci`)")
    wanted = KATEX_FILES + [f"fonts/{font.name}" for font in sorted((KATEX_DIST / "fonts").iterdir())]
    for name in wanted:
        files.append(File.generated(config, f"{KATEX_URI}/{name}", abs_src_path=str(KATEX_DIST / name)))
    return files


def _front_matter_lines(source: Path, markdown: str) -> int:
    """Lines MkDocs removed from the top of the file (front matter) before handing us markdown."""
    text = source.read_text(encoding="utf-8")
    return text[: len(text) - len(markdown)].count("\n") if text.endswith(markdown) else 0


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _option(info: str, name: str) -> str | None:
    match = re.search(_OPTION.format(name=name), info)
    return match.group(0).split("=", 1)[1].strip("\"'") if match else None


def _drop_options(info: str, names: tuple[str, ...]) -> str:
    for name in names:
        info = re.sub(r"\s*" + _OPTION.format(name=name), "", info)
    return info
