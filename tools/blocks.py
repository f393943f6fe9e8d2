"""Running a page's executed blocks, in a worker process of the build (`tools.workers`).

Each page runs in a fresh session, block after block, in page order. A failing block is reported
with a traceback in the chapter's own line numbers (``docs/chapters/x.md:42``); the page's later
blocks do not run. Every block has a time limit, which needs no signal, so it holds on every
platform: a watchdog thread compares the clock with the running block's deadline, and when it has
passed reads the line the page was on (`sys._current_frames`), sends the error to the build and
ends the process. A Python loop, a sleep and a read that never returns all end this way. The same
thread ends the worker when the build's process is gone, even one killed with SIGKILL.

This module is the code that runs blocks: its digest (`CODE`, as this process loaded it) is part
of every run's cache key (`tools.keys.page_run`).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib
import io
import multiprocessing
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from types import ModuleType

PACKAGE = "literate"
CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # the code that runs blocks, as loaded
TICK = 0.05  # seconds between two looks of the watchdog


def forget_package() -> None:
    """Drop the imported `literate` modules, so that the next page imports them afresh from disk."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def used_modules() -> dict[str, str]:
    """The package's modules imported since `forget_package`, with a digest of each one's code."""
    from tools.keys import module

    return {name: module(name, PACKAGE) for name in sorted(sys.modules) if name == PACKAGE or name.startswith(PACKAGE + ".")}


def new_session(name: str) -> ModuleType:
    """A page's fresh namespace, registered as a module (classes defined in a block need one)."""
    session = ModuleType("chapter_" + re.sub(r"\W+", "_", name))
    sys.modules[session.__name__] = session
    return session


def _trace(error: BaseException, filename: str) -> str:
    """The traceback from the page's first frame on: the build's own frames are left out."""
    trace = traceback.TracebackException.from_exception(error)
    first = next((n for n, frame in enumerate(trace.stack) if frame.filename == filename), 0)
    trace.stack = traceback.StackSummary.from_list(trace.stack[first:])
    return "".join(trace.format())


def run_block(code: str, session: ModuleType, path: str, line: int) -> str:
    """Run one block (its fence at `line` of the file `path`) in session; what it printed. An
    error propagates, as BlockError with its traceback in the chapter's lines."""
    buffer = io.StringIO()
    try:
        tree = ast.parse(code, filename=path)
        ast.increment_lineno(tree, line)  # tracebacks in the chapter's own line numbers
        with contextlib.redirect_stdout(buffer):
            exec(compile(tree, path, "exec"), session.__dict__)  # noqa: S102
    except SyntaxError as error:
        error.lineno = (error.lineno or 1) + line
        error.filename = path
        raise BlockError("".join(traceback.format_exception_only(error))) from None
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the worker goes on
        raise BlockError(_trace(error, path)) from None
    return buffer.getvalue()


class BlockError(Exception):
    """A block raised; its message is the traceback to show."""


class Watchdog(threading.Thread):
    """Ends this worker when the running block passes its deadline, or when the build is gone."""

    def __init__(self, report) -> None:
        super().__init__(daemon=True, name="block-watchdog")
        self.report = report  # report(message): sends a message to the build
        self.main = threading.main_thread().ident
        self.block: tuple[float, float, str, str, int] | None = None  # deadline, limit, page, path, line
        self.parent = multiprocessing.parent_process()

    def run(self) -> None:
        while True:
            time.sleep(TICK)
            if self.parent is not None and not self.parent.is_alive():
                os._exit(1)
            block = self.block
            if block is not None and time.monotonic() > block[0]:
                self.report(("timeout", timeout_message(*block[1:], sys._current_frames().get(self.main))))
                os._exit(3)


def timeout_message(limit: float, name: str, path: str, line: int, frame) -> str:
    """What the build says of a block past its limit: the page's frames that were running, the
    limit, and the line the block was on."""
    stack = [f for f in traceback.extract_stack(frame)] if frame is not None else []
    first = next((n for n, f in enumerate(stack) if f.filename == path), len(stack))
    stack = stack[first:]
    doing = f"it was on line {stack[-1].lineno}: {stack[-1].line}" if stack else "no line of the block was running"
    return ("".join(traceback.format_list(stack)) +
            f"{name}:{line}: this block ran longer than its limit of {limit:g} s (timeout=\"S\" on its fence, "
            f"or the plugin's block_timeout in mkdocs.yml, to change it); {doing}")


def run_page(watchdog: Watchdog, path: str, name: str, blocks: list[tuple[int, str, float]]) -> dict:
    """Run one page's blocks (fence line, code, limit) in a fresh session. Each block's output and
    seconds, the first error (its line and traceback) if one failed, the package's modules the page
    imported, and this module's `CODE`."""
    forget_package()  # what the page imports of the package is its own, recorded at its end
    session = new_session(name)
    outputs: list[str] = []
    seconds: dict[int, float] = {}
    error = None
    try:
        for line, code, limit in blocks:
            started = time.monotonic()
            watchdog.block = (started + limit, limit, name, path, line)
            try:
                outputs.append(run_block(code, session, path, line))
            except BlockError as failed:
                error = {"line": line, "text": str(failed)}
                break
            finally:
                watchdog.block = None
                seconds[line] = time.monotonic() - started
    finally:
        sys.modules.pop(session.__name__, None)
    return {"outputs": outputs, "seconds": seconds, "error": error, "modules": used_modules(), "code": CODE}
