"""Running a page's executed blocks, and replaying them from the cache when nothing they depend on changed.

markdown-exec calls `Runner.run` for every executed Python block (registered through its public
``formatters`` table and ``base_format``). Each page runs in its own fresh session, in page order; a
failing block is reported as ``docs/chapters/x.md:42`` with a traceback in the chapter's own line
numbers; and what each block printed is recorded, for the page and for its notebook.

Before a page is rendered, `Runner.plan` computes the page's key: every executed block's language,
options and code in page order, the page's name, and the environment (`tools.cache.environment`:
Python, torch, numpy, every installed distribution and the pinned constraints). An entry for that
key also records the `literate` modules the run imported (the package is forgotten before a page
runs, so they are the page's own), each with a digest of its code; with such an entry, and every
one of those modules unchanged, the page executes nothing: `run` returns what the cached run
printed. A run is stored only when every block of the page ran without error.
Prose and block positions are not in the key, so a prose edit replays; if a cached output mentions
the page's own file (a printed traceback names its lines), the entry also records the blocks'
lines and is used only while they are unchanged.

No block runs for ever: each has a limit, its fence's ``timeout="S"`` or the site's
``extra.block_timeout`` (mkdocs.yml). A block past it fails the build with its file:line, the limit
and the line it was on; the runner also records how long every block ran, for the execution
report (`tools.report`).
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import io
import logging
import re
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from markdown_exec import ExecutionError, code_block
from mkdocs.exceptions import PluginError

from tools import shards
from tools.cache import Store, digest, module_digest
from tools.chapter import Block, Chapter, ChapterError
from tools.package_sync import PACKAGE, forget_package

_log = logging.getLogger("mkdocs.hooks")

KIND = "pages"
RUNNER_OPTIONS = ("session", "id")  # options the build adds to every executed fence
TIMEOUT = "timeout"  # a fence's option: seconds its block may run (mkdocs.yml's extra.block_timeout else)
DEFAULT_TIMEOUT = 300.0


class BlockTimeout(BaseException):
    """Raised inside a block that ran past its limit. A BaseException, as KeyboardInterrupt is, so
    that the block's own `except Exception:` cannot swallow it."""


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


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise BlockTimeout in this thread once `seconds` have passed. In the main thread (`mkdocs
    build`, and `mkdocs serve`'s build loop) a timer signal interrupts even a sleeping or waiting
    block; in any other thread the exception is set asynchronously, which Python delivers between
    two bytecodes."""
    if threading.current_thread() is threading.main_thread():
        def expire(signum, frame):
            raise BlockTimeout()

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    target = threading.get_ident()
    timer = threading.Timer(seconds, lambda: ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(target), ctypes.py_object(BlockTimeout)))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def new_session(name: str) -> ModuleType:
    """A page's fresh namespace, registered as a module (classes defined in a block need one)."""
    module = ModuleType("chapter_" + re.sub(r"\W+", "_", name))
    sys.modules[module.__name__] = module
    return module


def execute_block(code: str, module: ModuleType, path: Path, name: str, line: int, limit: float) -> str:
    """Run one block of the page `name` (file `path`, fence at `line`) in `module`, within `limit`
    seconds; what it printed, or an ExecutionError whose traceback is in the chapter's lines."""
    filename = str(path)
    buffer = io.StringIO()
    try:
        tree = ast.parse(code, filename=filename)
        ast.increment_lineno(tree, line)  # tracebacks in the chapter's own line numbers
        with contextlib.redirect_stdout(buffer), _deadline(limit):
            exec(compile(tree, filename, "exec"), module.__dict__)  # noqa: S102
    except SyntaxError as error:
        error.lineno = (error.lineno or 1) + line
        error.filename = filename
        raise ExecutionError(code_block("python", "".join(traceback.format_exception_only(error)))) from None
    except BlockTimeout as error:
        trace = traceback.TracebackException.from_exception(error)
        frames = [frame for frame in trace.stack if frame.filename == filename]
        doing = f"it was on line {frames[-1].lineno}: {frames[-1].line}" if frames else "no line of the block was running"
        trace.stack = traceback.StackSummary.from_list(trace.stack[next((n for n, f in enumerate(trace.stack)
                                                                          if f.filename == filename), 0):])
        message = (f"{name}:{line}: this block ran longer than its limit of {limit:g} s "
                   f"({TIMEOUT}=\"S\" on its fence, or extra.block_timeout in mkdocs.yml, to change it); {doing}")
        raise ExecutionError(code_block("python", "".join(trace.format()) + message)) from None
    except Exception as error:
        trace = traceback.TracebackException.from_exception(error)
        first = next((n for n, frame in enumerate(trace.stack) if frame.filename == filename), 0)
        trace.stack = traceback.StackSummary.from_list(trace.stack[first:])
        raise ExecutionError(code_block("python", "".join(trace.format()))) from None
    return buffer.getvalue()


def used_modules() -> dict[str, str]:
    """The package's modules imported since package_sync.forget_package(), with a digest of each one's code."""
    return {name: module_digest(name, PACKAGE) for name in sorted(sys.modules)
            if name == PACKAGE or name.startswith(PACKAGE + ".")}


def positional(printed: list[str], path: Path, name: str) -> bool:
    """Whether a run's outputs name the page's own file (a printed traceback shows its lines)."""
    return any(str(path) in text or name in text for text in printed)


@dataclass
class PagePlan:
    name: str  # "docs/chapters/x.md"
    path: Path
    blocks: list[Block]  # the executed blocks, in page order
    key: str
    replay: list[str] | None = None  # outputs of a cached run, in block order
    skipped: bool = False  # another shard's page (SHARD=i/n): its blocks are not run here
    outputs: dict[int, str] = field(default_factory=dict)  # fence line -> printed text
    failed: bool = False

    @property
    def lines(self) -> list[int]:
        return [block.line for block in self.blocks]


def block_id(name: str, line: int) -> str:
    return f"{name}:{line}"


class Runner:
    """What one build keeps about executed blocks: page sessions, plans, recorded outputs."""

    def __init__(self, store: Store, environment_key: str, timeout: float = DEFAULT_TIMEOUT,
                 shard: tuple[int, int] | None = None) -> None:
        self.store = store
        self.environment_key = environment_key
        self.timeout = timeout  # the site's default limit for one block, in seconds
        self.shard = shard  # (i, n): this build runs only the pages of shard i of n
        self.seconds: dict[str, dict[int, float]] = {}  # page -> fence line -> seconds the block ran
        self.pages: dict[str, PagePlan] = {}
        self.prerun: dict[str, dict] = {}  # page -> a clean run of it by a worker of this build
        self.pending: dict[str, tuple[Chapter, Future]] = {}  # page -> its run in a worker (tools/parallel.py)
        self.pool: Executor | None = None  # the workers
        self.digests: dict[str, str] = {}  # the package's modules' code, as this build found it
        self.imported: dict[str, dict[str, str]] = {}  # page -> the package's modules its run imported
        self.sessions: dict[str, ModuleType] = {}
        self.executed_pages: list[str] = []  # pages whose blocks really ran (not replayed)

    def key(self, model: Chapter, name: str) -> str:
        """The page's key: its executed blocks (language, options, code), its name, the environment."""
        blocks = model.executed
        for block in blocks:
            block_timeout(block, self.timeout)  # a bad timeout option fails before anything runs
        return digest({
            "page": name,
            "environment": self.environment_key,
            "blocks": [[b.language, {k: v for k, v in b.options.items() if k not in RUNNER_OPTIONS}, b.code] for b in blocks],
        })

    def cached(self, model: Chapter, name: str, key: str) -> list[str] | None:
        """The outputs a run of this page left (in the cache, or by a worker of this build), if usable."""
        blocks = model.executed
        self._collect(name)
        found = self.prerun.get(name)
        if found is None or found["key"] != key:
            found = self.store.load(KIND, name, key) if blocks else None
        if found is not None and len(found.get("outputs", [])) == len(blocks):
            if found.get("lines") is None or found["lines"] == [b.line for b in blocks]:
                if self.current(found.get("modules")):
                    return list(found["outputs"])
        return None

    def _collect(self, name: str) -> None:
        """Wait for the page's worker, if it has one, and adopt its run when it is clean."""
        waiting = self.pending.pop(name, None)
        if waiting is None:
            return
        model, future = waiting
        try:
            result = future.result()
        except Exception as error:  # the worker died (killed, out of memory): the page runs here
            _log.info("%s: its worker process failed (%s); it runs in the build's process", name, error)
            return
        if result["ok"]:
            self.adopt(model, name, result["outputs"], result["seconds"], result["modules"])

    def current(self, modules: dict[str, str] | None) -> bool:
        """Whether the package's modules a run imported still have the code they had then."""
        if not isinstance(modules, dict):
            return False
        for name, recorded in modules.items():
            if name not in self.digests:
                self.digests[name] = module_digest(name, PACKAGE)
            if self.digests[name] != recorded:
                return False
        return True

    def plan(self, model: Chapter, name: str) -> PagePlan:
        plan = PagePlan(name, model.path, model.executed, self.key(model, name))
        plan.replay = self.cached(model, name, plan.key)
        plan.skipped = plan.replay is None and not self.mine(name)
        self.pages[name] = plan
        return plan

    def mine(self, name: str) -> bool:
        """Whether this build runs the page: always, unless it is a shard (SHARD=i/n) and the page another's."""
        return self.shard is None or shards.owner(name, self.shard[1]) == self.shard[0]

    def adopt(self, model: Chapter, name: str, outputs: list[str], seconds: dict[int, float],
              modules: dict[str, str]) -> None:
        """A clean run of the page made elsewhere (a worker of this build): stored as a run of this
        build is, and replayed when the page is rendered."""
        key = self.key(model, name)
        lines = [b.line for b in model.executed]
        entry = {"outputs": outputs, "lines": lines if positional(outputs, model.path, name) else None,
                 "modules": modules}
        self.prerun[name] = {"key": key, **entry}
        self.store.save(KIND, name, key, entry)
        self.seconds[name] = dict(seconds)

    def ran(self, name: str) -> bool:
        """Whether the page's blocks ran in this build (here or in a worker), rather than replayed."""
        plan = self.pages.get(name)
        return name in self.prerun or (plan is not None and bool(plan.blocks) and plan.replay is None
                                       and not plan.skipped)

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
        if plan.skipped:  # another shard runs it; this build's page for it is not for publishing
            plan.outputs[line] = ""
            return ""
        if where not in self.executed_pages:
            self.executed_pages.append(where)
        block = plan.blocks[plan.lines.index(line)]
        started = time.perf_counter()
        try:
            printed = self._execute(code, plan, line, block_timeout(block, self.timeout))
        except ExecutionError:
            plan.failed = True
            plan.outputs[line] = ""
            raise
        finally:
            self.seconds.setdefault(where, {})[line] = time.perf_counter() - started
        plan.outputs[line] = printed
        return printed

    def _execute(self, code: str, plan: PagePlan, line: int, limit: float) -> str:
        module = self.sessions.get(plan.name)
        if module is None:  # the page's first block: what it imports of the package is recorded
            forget_package()  # what the page imports of the package is its own, recorded at its end
            module = self.sessions[plan.name] = new_session(plan.name)
        return execute_block(code, module, plan.path, plan.name, line, limit)

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
        if plan.replay is None and not plan.failed and not plan.skipped and plan.blocks:
            printed = [plan.outputs[line] for line in plan.lines]
            lines = plan.lines if positional(printed, plan.path, name) else None
            self.imported[name] = used_modules()
            self.store.save(KIND, name, plan.key, {"outputs": printed, "lines": lines, "modules": self.imported[name]})
        return dict(plan.outputs)

    def summary(self) -> str:
        """One line for the build log: which pages ran their blocks and how many were replayed."""
        ran = [name for name, plan in self.pages.items() if plan.blocks and self.ran(name)]
        replayed = [name for name, plan in self.pages.items() if plan.replay is not None and name not in self.prerun]
        in_workers = [name for name in ran if name in self.prerun]
        line = (f"Code blocks: ran {len(ran)} page(s) ({', '.join(ran) or 'none'}); "
                f"replayed {len(replayed)} page(s) from the cache")
        if in_workers:
            line += f"; {len(in_workers)} of the runs in worker processes"
        skipped = [name for name, plan in self.pages.items() if plan.skipped]
        if self.shard is not None:
            line += (f"; SHARD={self.shard[0]}/{self.shard[1]}: left {len(skipped)} page(s) to other shards "
                     "(this site is for filling the cache, not for publishing)")
        return line

    def close(self, failed: bool = False) -> None:
        """End the build's sessions and its workers: pages still waiting are not started; after a
        failed build, the pages running are not waited for here (serve goes on at once; a `mkdocs
        build` process lets them end before it exits, as their blocks' limits bound them)."""
        if self.pool is not None:
            self.pool.shutdown(wait=not failed, cancel_futures=True)
            self.pool = None
        self.pending.clear()
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
