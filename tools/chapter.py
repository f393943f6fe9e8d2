"""The chapter model: a page's fenced blocks, parsed once, with their lines and whether they run.

Every part of the build that looks at a chapter's code (the tangler, the block runner and its
cache, the notebook writer, the tests) reads it through this module, so they agree on what a block
is, where it starts and which blocks execute. Which blocks execute is markdown-exec's own decision:
its public ``validator`` reads the options (``exec`` with markdown-exec's truthy values), and the
languages are the ones the ``markdown-exec`` plugin is configured with in ``mkdocs.yml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "mkdocs.yml"
MARK = "#@save"
INTERNAL = "internal"  # `#@save internal`: saved and importable, but not part of the package's API
_MARKED = re.compile(rf"{MARK}(?:[ \t]+(?P<flag>\w+))?[ \t]*$")  # a mark ending its line, and its flag

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_OPTION = re.compile(r"""(?P<key>[\w-]+)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+))""")


def relative(path: Path, base: Path = ROOT) -> str:
    """A path as the project names it: relative to base (the repository root) when inside it."""
    try:
        return Path(path).resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return str(path)


class ChapterError(PluginError):
    """Bad chapter input, reported as ``file:line: what is wrong`` (a PluginError: MkDocs reports
    it as the build's error, as it is)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{relative(path)}:{line}: {message}")


@dataclass(frozen=True)
class ExecRule:
    """markdown-exec's rule for which fences run: a configured language and a truthy ``exec``."""

    languages: frozenset[str]

    def executes(self, language: str, options: dict[str, str]) -> bool:
        if language not in self.languages:
            return False
        from markdown_exec import validator

        try:
            return bool(validator(language, dict(options), {}, {}, None))
        except ValueError:  # e.g. returncode="x": markdown-exec would fail on it, so it would not run
            return False


NOTHING_RUNS = ExecRule(frozenset())  # for readers that only need the blocks (the tangler): no imports


@lru_cache(maxsize=None)
def project_rule(config_file: Path = CONFIG) -> ExecRule:
    """The rule of the project's own configuration (mkdocs.yml), as MkDocs reads it for the build."""
    from mkdocs.config import load_config

    return ExecRule(frozenset(load_config(str(config_file)).plugins["markdown-exec"].config.languages))


@dataclass(frozen=True)
class Block:
    """A fenced code block of a chapter."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    info: str  # the whole info string after the fence
    code: str
    end: int = 0  # 1-based line of the closing fence
    indent: int = 0  # columns of indentation of the opening fence
    options: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    executes: bool = False

    @property
    def saved(self) -> bool:
        """Whether the block's first line ends with `#@save` (or `#@save internal`)."""
        return mark(self.code.split("\n", 1)[0]) is not None

    @property
    def html(self) -> bool:
        """Whether markdown-exec injects the block's output as HTML (its `html` option, its truthy values)."""
        return self.options.get("html", "no").lower() not in {"", "no", "off", "false", "0"}

    @property
    def internal(self) -> bool:
        """Saved, but for the build and the chapters' own use: left out of the package's `__all__`."""
        return mark(self.code.split("\n", 1)[0]) == INTERNAL


@dataclass(frozen=True)
class Chapter:
    """A page's text and its fenced blocks, in page order."""

    path: Path
    text: str
    blocks: tuple[Block, ...]
    offset: int = 0  # lines of the file above text (front matter MkDocs removed); block lines count them

    @property
    def executed(self) -> list[Block]:
        return [block for block in self.blocks if block.executes]


def mark(line: str) -> str | None:
    """The save mark ending a code line: "" for `#@save`, its flag for `#@save FLAG`; None when the
    line has no mark at its end."""
    match = _MARKED.search(line)
    return None if match is None else (match["flag"] or "")


def without_mark(line: str) -> str:
    """A code line less the save mark that ends it (and its flag)."""
    return _MARKED.sub("", line).rstrip()


def options_of(info: str) -> dict[str, str]:
    """The key="value" options of a fence's info string, as superfences reads them."""
    return {m["key"]: next(v for v in (m["dq"], m["sq"], m["bare"]) if v is not None) for m in _OPTION.finditer(info)}


def parse(text: str, path: Path, rule: ExecRule | None = None, offset: int = 0) -> Chapter:
    """A chapter from Markdown text read from path; an unclosed fence is an error.

    offset: lines of the file above text (front matter), so that block lines are the file's lines.
    Parsed once per text: later calls with the same arguments share the model.
    """
    return _parse(text, Path(path), rule or project_rule(), offset)


@lru_cache(maxsize=64)
def _parse(text: str, path: Path, rule: ExecRule, offset: int) -> Chapter:
    lines = text.split("\n")
    blocks: list[Block] = []
    n = 0
    while n < len(lines):
        line = lines[n]
        opening = _FENCE_OPEN.match(line)
        if opening is None:
            n += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((m for m in range(n + 1, len(lines)) if closing.match(lines[m])), None)
        if end is None:
            raise ChapterError(path, n + 1 + offset, f"code fence {fence!r} opened here is never closed")
        body = [_dedent(text, len(indent)) for text in lines[n + 1 : end]]
        language = re.split(r"[\s{]", info.lstrip("{ ."), maxsplit=1)[0]
        options = options_of(info)
        blocks.append(Block(path, n + 1 + offset, language, info, "\n".join(body), end + 1 + offset,
                            len(indent), options, rule.executes(language, options)))
        n = end + 1
    return Chapter(path, text, tuple(blocks), offset)


def front_matter_lines(text: str, markdown: str) -> int:
    """Lines MkDocs removed from the top of the file's text (front matter) before handing over markdown."""
    return text[: len(text) - len(markdown)].count("\n") if text.endswith(markdown) else 0


def page(source: Path, markdown: str, rule: ExecRule | None = None, text: str | None = None) -> Chapter:
    """A page's model from the Markdown MkDocs hands over (front matter removed), lines as the
    file's (text: the file's, when the caller has read it already)."""
    text = Path(source).read_text(encoding="utf-8") if text is None else text
    return parse(markdown, Path(source), rule, front_matter_lines(text, markdown))


def read(source: Path, rule: ExecRule | None = None) -> Chapter:
    """A page's model read from its file as MkDocs reads the page (BOM dropped, front matter
    removed; block lines are the file's): the tangler's, and the build's to plan a page's run before
    MkDocs converts it (tools/execution.py)."""
    from mkdocs.utils import meta

    with open(source, encoding="utf-8-sig", errors="strict") as handle:
        text = handle.read()
    return page(source, meta.get_data(text)[0], rule, text)


def _dedent(text: str, width: int) -> str:
    strip = len(text) - len(text.lstrip(" \t"))
    return text[min(strip, width) :]
