"""A build's executed blocks: which pages run, the runs handed to workers, the outputs the pages show.

markdown-exec calls `Runner.run` for every executed Python block (through its public `formatters`
table and `base_format`, tools/plugin.py). No block runs in the build's own process: before MkDocs
converts any page, `Runner.start` plans every page and hands the runs the cache lacks to worker
processes (`tools.workers`, which run them with `tools.blocks`), in the order MkDocs renders them;
`run` then gives markdown-exec what a block printed, from the cache or from the page's worker,
waiting for that page alone. A failing block is reported at its ``file:line`` with a traceback in
the chapter's own lines; a block past its limit (its fence's ``timeout="S"``, else the plugin's
``block_timeout``) names the limit and the line it was on. A page runs once per build.

A run is stored only when every block of the page ran without error, by a worker running the
code that this build keys on (`tools.keys.page_run`). Its entry records the `literate` modules the
run imported, each with a digest of its code; it is replayed while they are unchanged. Prose and
block positions are not in the key, so a prose edit replays; if a cached output mentions the
page's own file (a printed traceback names its lines), the entry also records the blocks' lines
and is used only while they are unchanged.

Two checks hold every page to what a reader needs: a block that shows its output in a box (its
fence's ``result`` option) must print something, and no printed number may show nine or more
decimals (round it for a reader).
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import Future, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from markdown_exec import ExecutionError, code_block
from mkdocs.exceptions import PluginError

from tools import blocks, keys
from tools.cache import Store
from tools.chapter import Block, Chapter, ChapterError
from tools.workers import GRACE, Pool, WorkerFailed

KIND = "pages"
RUNNER_OPTIONS = ("session", "id")  # options the build adds to every executed fence
TIMEOUT = "timeout"  # a fence's option: seconds its block may run
RAW_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{9,}")  # a float printed unrounded


def block_timeout(block: Block, default: float) -> float:
    """The seconds a block may run: its `timeout` option, else the site's default; a ChapterError
    at the fence's line when the option is not a positive number."""
    value = block.options.get(TIMEOUT)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ChapterError(block.path, block.line, f'{TIMEOUT}="{value}" must be a positive number of seconds')
    return seconds


def owner(name: str, count: int) -> int:
    """The shard (1 to count) that runs the page `name`: stable, the same on every machine."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % count + 1


@dataclass
class PagePlan:
    name: str  # "docs/chapters/x.md"
    path: Path
    blocks: list[Block]  # the executed blocks, in page order
    key: str
    limits: list[float]
    replay: list[str] | None = None  # outputs of a cached run, in block order
    skipped: bool = False  # another shard's page (shard i/n): its blocks are not run here
    future: Future | None = None  # its run in a worker
    result: dict | None = None  # what the worker returned
    outputs: dict[int, str] = field(default_factory=dict)  # fence line -> printed text, as shown
    failed: bool = False

    @property
    def lines(self) -> list[int]:
        return [block.line for block in self.blocks]


class Runner:
    """What one build keeps about executed blocks: plans, the workers' runs, recorded outputs."""

    def __init__(self, store: Store, environment_key: str, timeout: float, jobs: int,
                 shard: tuple[int, int] | None = None) -> None:
        self.store = store
        self.environment_key = environment_key
        self.timeout = timeout  # the site's default limit for one block, in seconds
        self.jobs = jobs
        self.shard = shard
        self.pages: dict[str, PagePlan] = {}
        self.pool: Pool | None = None
        self.budget = 0.0  # the longest the build may wait for all the runs it handed over
        self.modules: dict[str, str] = {}  # the package's modules' code, as this build found it

    def plan(self, model: Chapter, name: str) -> PagePlan:
        """The page's plan: its key, and its cached run when the cache has a usable one."""
        executed = model.executed
        known = self.pages.get(name)
        if known is not None and known.blocks == executed:  # planned already (on_nav): the same blocks, lines and options
            return known
        limits = [block_timeout(b, self.timeout) for b in executed]  # a bad option fails before anything runs
        key = keys.page_run(name, self.environment_key, blocks.CODE,
                            [[b.language, {k: v for k, v in b.options.items() if k not in RUNNER_OPTIONS}, b.code]
                             for b in executed])
        plan = self.pages[name] = PagePlan(name, model.path, executed, key, limits)
        found = self.store.load(KIND, name, key) if executed else None
        if found is not None and len(found.get("outputs", [])) == len(executed) and self._current(found["modules"]):
            if found.get("lines") is None or found["lines"] == plan.lines:
                plan.replay = list(found["outputs"])
        plan.skipped = plan.replay is None and self.shard is not None and owner(name, self.shard[1]) != self.shard[0]
        return plan

    def _current(self, modules: dict[str, str]) -> bool:
        """Whether the package's modules a run imported still have the code they had then."""
        for module, recorded in modules.items():
            if module not in self.modules:
                self.modules[module] = keys.module(module, blocks.PACKAGE)
            if self.modules[module] != recorded:
                return False
        return True

    def start(self, pages: list[tuple[Chapter, str]]) -> list[str]:
        """Plan the pages (in the order MkDocs renders them) and hand the runs the cache lacks to
        workers, at most `jobs` of them; the names of the pages handed over."""
        todo = [plan for plan in (self.plan(model, name) for model, name in pages)
                if plan.blocks and plan.replay is None and not plan.skipped]
        if todo:
            self.pool = Pool(min(self.jobs, len(todo)))
        for plan in todo:
            self._submit(plan)
        return [plan.name for plan in todo]

    def _submit(self, plan: PagePlan) -> None:
        if self.pool is None:
            self.pool = Pool(1)
        limit = sum(plan.limits)
        self.budget += limit + GRACE
        plan.future = self.pool.submit((str(plan.path), plan.name, [
            (b.line, b.code, t) for b, t in zip(plan.blocks, plan.limits)]), limit, plan.name)

    def _collect(self, plan: PagePlan) -> dict:
        """The page's run, waiting for its worker (within every run's limits together)."""
        if plan.result is None:
            if plan.future is None:
                self._submit(plan)
            try:
                plan.result = plan.future.result(timeout=self.budget + GRACE)
            except (WorkerFailed, FutureTimeout) as error:
                plan.result = {"outputs": [], "seconds": {}, "modules": {}, "code": None,
                               "error": {"line": plan.lines[0], "text": str(error) or "no answer from its worker"}}
        return plan.result

    def run(self, code: str, returncode=None, session=None, id=None, **extra) -> str:  # noqa: A002
        """markdown-exec's `run` for Python: what the block printed (replayed, or from its page's run)."""
        where, _, line_text = (id or "").rpartition(":")
        plan = self.pages.get(where)
        if plan is None or not line_text.isdigit() or int(line_text) not in plan.lines:
            raise ExecutionError(code_block("text", "this block ran without the id the build gives executed blocks: "
                                            "the chapter model (tools/chapter.py) and markdown-exec disagree about it"))
        line = int(line_text)
        index = plan.lines.index(line)
        if plan.skipped:  # another shard runs it; this build's page for it is not for publishing
            plan.outputs[line] = ""
            return ""
        if plan.replay is not None:
            printed = plan.replay[index]
        else:
            result = self._collect(plan)
            error = result["error"]
            if error is not None and error["line"] == line:
                plan.failed = True
                plan.outputs[line] = ""
                raise ExecutionError(code_block("python", error["text"]))
            printed = result["outputs"][index] if index < len(result["outputs"]) else ""
        plan.outputs[line] = printed
        self._check(plan, plan.blocks[index], printed)
        return printed

    def _check(self, plan: PagePlan, block: Block, printed: str) -> None:
        where = f"{plan.name}:{block.line}"
        if "result" in block.options and not printed.strip() and not plan.failed:
            plan.failed = True
            raise ExecutionError(code_block("text", f"{where}: this block shows its output in a box "
                                            f"(result=\"{block.options['result']}\") but printed nothing"))
        found = RAW_FLOAT.search(printed) if not block.html else None
        if found:
            plan.failed = True
            raise ExecutionError(code_block("text", f"{where}: it printed {found[0]}, a number with "
                                            f"{len(found[0].split('.')[1])} decimals: round it for a reader"))

    def replay(self, id: str | None) -> str | None:  # noqa: A002
        """What a replayed block printed, recorded as shown; None when its page runs in this build."""
        where, _, line_text = (id or "").rpartition(":")
        plan = self.pages.get(where)
        if plan is None or plan.replay is None or not line_text.isdigit() or int(line_text) not in plan.lines:
            return None
        plan.outputs[int(line_text)] = plan.replay[plan.lines.index(int(line_text))]
        return plan.outputs[int(line_text)]

    def replayed(self, name: str) -> None:
        """The page's render came from the cache: its outputs are the replayed ones."""
        plan = self.pages[name]
        plan.outputs = dict(zip(plan.lines, plan.replay or []))

    def finish(self, name: str) -> dict[int, str]:
        """After a page was rendered: check every executed block was shown, store a clean run, return outputs."""
        plan = self.pages[name]
        for block in plan.blocks:
            if block.line not in plan.outputs:
                raise PluginError(f"{name}:{block.line}: {_not_run_hint(block)}")
        result = plan.result
        if result is not None and result["error"] is None and not plan.failed and result["code"] == blocks.CODE:
            printed = [plan.outputs[line] for line in plan.lines]
            mentions = any(str(plan.path) in text or name in text for text in printed)
            self.store.save(KIND, name, plan.key, {"outputs": printed, "lines": plan.lines if mentions else None,
                                                   "modules": result["modules"]})
        return dict(plan.outputs)

    def summary(self) -> str:
        """One line for the build log: which pages ran their blocks and how many were replayed."""
        ran = [name for name, plan in self.pages.items() if plan.result is not None]
        replayed = [name for name, plan in self.pages.items() if plan.replay is not None]
        line = (f"Code blocks: ran {len(ran)} page(s) ({', '.join(ran) or 'none'}); "
                f"replayed {len(replayed)} page(s) from the cache")
        if self.shard is not None:
            skipped = [name for name, plan in self.pages.items() if plan.skipped]
            line += (f"; shard {self.shard[0]}/{self.shard[1]}: left {len(skipped)} page(s) to other shards "
                     "(this site is for filling the cache, not for publishing)")
        return line

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _not_run_hint(block: Block) -> str:
    fence = f"```{block.info}"
    if block.indent:
        return (f"{fence!r} should execute, but markdown-exec never ran it: its fence is indented by "
                f"{block.indent} columns, so every line of the block, up to its closing fence, must be "
                f"indented by at least as much (inside an admonition: 4 spaces)")
    return (f"{fence!r} should execute, but markdown-exec never ran it: a fence must start its own line, "
            "with nothing but the closing fence ending it")
