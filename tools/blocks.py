"""Running a page's executed blocks, in a worker process of the build (`tools.workers`).

Each page runs in a fresh session, block after block, in page order. A failing block is reported
with a traceback in the chapter's own line numbers (``docs/chapters/x.md:42``); the page's later
blocks do not run. Every block has a time limit, which needs no signal, so it holds on every
platform: a watchdog thread compares the clock with the running block's deadline, and when it has
passed reads the chapter line the page was on (`sys._current_frames`), sends the error and what
the page printed so far to the build, and ends the worker with every process the block started
(`tools.workers.end_group`). A Python loop, a sleep, a read that never returns and a child process
that never exits all end this way. The same thread ends the worker when the build's process is
gone, even one killed with SIGKILL.

This module is the code that runs blocks: its digest (`CODE`, as this process loaded it) is part
of every run's cache key (`tools.keys.page_run`).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import multiprocessing
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from types import ModuleType

from tools import keys

PACKAGE = "literate"
CODE = keys.file(Path(__file__))  # the code that runs blocks, as this process loaded it
TICK = 0.05  # seconds between two looks of the watchdog
WATCHDOG: Watchdog | None = None  # this worker's (tools.workers starts it)


def _imported() -> list[str]:
    """The package's modules this process has imported."""
    return sorted(n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + "."))


def forget_package() -> None:
    """Drop the imported `literate` modules, so that the next page imports them afresh from disk."""
    for name in _imported():
        del sys.modules[name]
    importlib.invalidate_caches()


def used_modules() -> dict[str, str]:
    """The package's modules imported since `forget_package`, with a digest of each one's code."""
    return {name: keys.module(name, PACKAGE) for name in _imported()}


def new_session(name: str) -> ModuleType:
    """A page's fresh namespace, registered as a module (classes defined in a block need one)."""
    session = ModuleType("chapter_" + re.sub(r"\W+", "_", name))
    sys.modules[session.__name__] = session
    return session


class Watchdog(threading.Thread):
    """Ends this worker, and what its block started, when the running block passes its deadline,
    or when the build is gone. The page's thread arms and disarms it under `lock`, which the
    watchdog holds from its last look until the worker ends: a block that ends as its deadline
    passes is either reported as done or as too long, never both."""

    def __init__(self, report, end) -> None:
        super().__init__(daemon=True, name="block-watchdog")
        self.report, self.end = report, end  # send a message to the build; end the worker's group
        self.main = threading.main_thread().ident
        self.lock = threading.Lock()
        self.block: tuple | None = None  # deadline, limit, page, path, line, the page's result so far
        self.parent = multiprocessing.parent_process()

    def arm(self, block: tuple | None) -> None:
        with self.lock:
            self.block = block

    def run(self) -> None:
        while True:
            time.sleep(TICK)
            if self.parent is not None and not self.parent.is_alive():
                self.end()
            with self.lock:
                block = self.block
                if block is not None and time.monotonic() > block[0]:
                    deadline, limit, name, path, line, result = block
                    text = timeout_message(limit, name, path, line, sys._current_frames().get(self.main))
                    self.report(("last", {**result, "error": {"line": line, "text": text}}))  # then it ends
                    self.end()


def _from_page(stack: list, path: str) -> list:
    """A stack's frames from the page's first on: the worker's own frames above it left out."""
    return stack[next((n for n, frame in enumerate(stack) if frame.filename == path), len(stack)):]


def timeout_message(limit: float, name: str, path: str, line: int, frame) -> str:
    """What the build says of a block past its limit: the page's frames that were running, the
    limit, and the chapter line the block was on."""
    stack = _from_page(list(traceback.extract_stack(frame)) if frame is not None else [], path)
    own = [f for f in stack if f.filename == path]
    doing = f"it was on line {own[-1].lineno}: {own[-1].line}" if own else "no line of the block was running"
    return ("".join(traceback.format_list(stack)) +
            f"{name}:{line}: this block ran longer than its limit of {limit:g} s (timeout=\"S\" on its fence, "
            f"or the plugin's block_timeout in mkdocs.yml, to change it); {doing}")


def _package_files() -> dict[str, int]:
    folder = keys.package_folder(PACKAGE)
    return {str(p): p.stat().st_mtime_ns for p in folder.glob("*.py")} if folder else {}


def run_page(path: str, name: str, blocks: list[tuple[int, str, float]]) -> dict:
    """Run one page's blocks (fence line, code, limit) in a fresh session. Each block's output and
    seconds, the first error (its line and traceback) if one failed, the package's modules the page
    imported (none when the package changed on disk while it ran: then nothing is stored), and this
    module's `CODE`."""
    forget_package()  # what the page imports of the package is its own, recorded at its end
    before = _package_files()
    session = new_session(name)
    result = {"outputs": [], "seconds": {}, "error": None, "modules": {}, "code": CODE}
    try:
        for line, code, limit in blocks:
            started = time.monotonic()
            WATCHDOG.arm((started + limit, limit, name, path, line, result))
            buffer = io.StringIO()
            try:
                with contextlib.redirect_stdout(buffer):  # the code starts at the chapter's own line
                    exec(compile("\n" * line + code, path, "exec"), session.__dict__)  # noqa: S102
            except BaseException as error:  # SystemExit and KeyboardInterrupt too: the worker goes on
                # Its traceback from the page's first frame on, in the chapter's lines.
                trace = traceback.TracebackException.from_exception(error)
                trace.stack = traceback.StackSummary.from_list(_from_page(trace.stack, path))
                result["error"] = {"line": line, "text": "".join(trace.format())}
            else:
                result["outputs"].append(buffer.getvalue())
            finally:
                WATCHDOG.arm(None)
                result["seconds"][line] = time.monotonic() - started
            if result["error"] is not None:
                break
    finally:
        sys.modules.pop(session.__name__, None)
    result["modules"] = used_modules()
    if _package_files() != before:  # edited while the page ran: which code it ran is not known
        result["code"] = None
    return result
