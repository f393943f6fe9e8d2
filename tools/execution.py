"""Running a page's executed blocks, and replaying them from the cache when nothing they depend on changed.

markdown-exec calls `Runner.run` for every executed Python block (registered through its public
``formatters`` table and ``base_format``). Each page runs in its own fresh session, in page order; a
failing block is reported as ``docs/chapters/x.md:42`` with a traceback in the chapter's own line
numbers; and what each block printed is recorded, for the page and for its notebook.

Before a page is rendered, `Runner.plan` computes the page's key: every executed block's language,
options and code in page order, the page's name, and the environment (`tools.cache.environment`:
the `literate` package's source, Python, torch, numpy, every installed distribution and the pinned
constraints). With an entry for that key in the cache, the page executes nothing: `run` returns
what the cached run printed. A run is stored only when every block of the page ran without error.
Prose and block positions are not in the key, so a prose edit replays; if a cached output mentions
the page's own file (a printed traceback names its lines), the entry also records the blocks'
lines and is used only while they are unchanged.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from markdown_exec import ExecutionError, code_block
from mkdocs.exceptions import PluginError

from tools.cache import Store, digest
from tools.chapter import Block, Chapter

KIND = "pages"
RUNNER_OPTIONS = ("session", "id")  # options the build adds to every executed fence


@dataclass
class PagePlan:
    name: str  # "docs/chapters/x.md"
    path: Path
    blocks: list[Block]  # the executed blocks, in page order
    key: str
    replay: list[str] | None = None  # outputs of a cached run, in block order
    outputs: dict[int, str] = field(default_factory=dict)  # fence line -> printed text
    failed: bool = False

    @property
    def lines(self) -> list[int]:
        return [block.line for block in self.blocks]


def block_id(name: str, line: int) -> str:
    return f"{name}:{line}"


class Runner:
    """What one build keeps about executed blocks: page sessions, plans, recorded outputs."""

    def __init__(self, store: Store, environment_key: str) -> None:
        self.store = store
        self.environment_key = environment_key
        self.pages: dict[str, PagePlan] = {}
        self.sessions: dict[str, ModuleType] = {}
        self.executed_pages: list[str] = []  # pages whose blocks really ran (not replayed)

    def plan(self, model: Chapter, name: str) -> PagePlan:
        blocks = model.executed
        material = {
            "page": name,
            "environment": self.environment_key,
            "blocks": [[b.language, {k: v for k, v in b.options.items() if k not in RUNNER_OPTIONS}, b.code] for b in blocks],
        }
        plan = PagePlan(name, model.path, blocks, digest(material))
        cached = self.store.load(KIND, name, plan.key) if blocks else None
        if cached is not None and len(cached.get("outputs", [])) == len(blocks):
            if cached.get("lines") is None or cached["lines"] == plan.lines:
                plan.replay = list(cached["outputs"])
        self.pages[name] = plan
        return plan

    def run(self, code: str, returncode=None, session=None, id=None, **extra) -> str:  # noqa: A002
        """markdown-exec's `run` for Python: run one block in its page's session, return what it printed."""
        where, _, line_text = (id or "").rpartition(":")
        plan = self.pages.get(where)
        if plan is None or not line_text.isdigit() or int(line_text) not in plan.lines:
            raise ExecutionError(code_block("text", "this block ran without the id the build gives executed blocks: "
                                            "the chapter model (tools/chapter.py) and markdown-exec disagree about it"))
        line = int(line_text)
        if plan.replay is not None:
            return self.replay(id)
        if where not in self.executed_pages:
            self.executed_pages.append(where)
        try:
            printed = self._execute(code, plan, line)
        except ExecutionError:
            plan.failed = True
            plan.outputs[line] = ""
            raise
        plan.outputs[line] = printed
        return printed

    def _execute(self, code: str, plan: PagePlan, line: int) -> str:
        filename = str(plan.path)
        module = self.sessions.get(plan.name)
        if module is None:
            module_name = "chapter_" + re.sub(r"\W+", "_", plan.name)
            module = self.sessions[plan.name] = ModuleType(module_name)
            sys.modules[module_name] = module  # classes defined in a block need their module (dataclasses, pickle)
        buffer = io.StringIO()
        try:
            tree = ast.parse(code, filename=filename)
            ast.increment_lineno(tree, line)  # tracebacks in the chapter's own line numbers
            with contextlib.redirect_stdout(buffer):
                exec(compile(tree, filename, "exec"), module.__dict__)  # noqa: S102
        except SyntaxError as error:
            error.lineno = (error.lineno or 1) + line
            error.filename = filename
            raise ExecutionError(code_block("python", "".join(traceback.format_exception_only(error)))) from None
        except Exception as error:
            trace = traceback.TracebackException.from_exception(error)
            first = next((n for n, frame in enumerate(trace.stack) if frame.filename == filename), 0)
            trace.stack = traceback.StackSummary.from_list(trace.stack[first:])
            raise ExecutionError(code_block("python", "".join(trace.format()))) from None
        return buffer.getvalue()

    def replay(self, id: str | None) -> str | None:  # noqa: A002
        """What a replayed block printed, recorded as its output; None when its page runs for real."""
        where, _, line_text = (id or "").rpartition(":")
        plan = self.pages.get(where)
        if plan is None or plan.replay is None or not line_text.isdigit() or int(line_text) not in plan.lines:
            return None
        line = int(line_text)
        plan.outputs[line] = plan.replay[plan.lines.index(line)]
        return plan.outputs[line]

    def replayed(self, name: str) -> None:
        """The page's render came from the cache: its outputs are the replayed ones, no block ran."""
        plan = self.pages[name]
        plan.outputs = dict(zip(plan.lines, plan.replay or []))

    def finish(self, name: str) -> dict[int, str]:
        """After a page was rendered: check every executed block ran, store a clean run, return outputs."""
        plan = self.pages[name]
        for block in plan.blocks:
            if block.line not in plan.outputs:
                raise PluginError(f"{name}:{block.line}: {_not_run_hint(block)}")
        if plan.replay is None and not plan.failed and plan.blocks:
            printed = [plan.outputs[line] for line in plan.lines]
            positional = any(str(plan.path) in text or name in text for text in printed)
            self.store.save(KIND, name, plan.key, {"outputs": printed, "lines": plan.lines if positional else None})
        return dict(plan.outputs)

    def summary(self) -> str:
        """One line for the build log: which pages ran their blocks and how many were replayed."""
        ran = [name for name, plan in self.pages.items() if plan.blocks and plan.replay is None]
        replayed = [name for name, plan in self.pages.items() if plan.replay is not None]
        return (f"Code blocks: ran {len(ran)} page(s) ({', '.join(ran) or 'none'}); "
                f"replayed {len(replayed)} page(s) from the cache")

    def close(self) -> None:
        for module in self.sessions.values():
            sys.modules.pop(module.__name__, None)
        self.sessions.clear()


def _not_run_hint(block: Block) -> str:
    fence = f"```{block.info}"
    if block.indent:
        return (f"{fence!r} should execute, but markdown-exec never ran it: its fence is indented by "
                f"{block.indent} columns, so every line of the block, up to its closing fence, must be "
                f"indented by at least as much (inside an admonition: 4 spaces)")
    return (f"{fence!r} should execute, but markdown-exec never ran it: a fence must start its own line, "
            "with nothing but the closing fence ending it")
