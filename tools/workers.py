"""Worker processes that run pages (`tools.blocks`) and convert notebook pages, while MkDocs renders.

Every block runs in a worker, never in the build's own process: a block's time limit then needs
no signal (`tools.blocks.Watchdog`), and a block that does not end is ended with its process. The
build hands a pool its tasks in the order MkDocs renders their pages; each worker takes one at a
time. A thread of the build's process (`Pool._serve`) gives each free worker the next task and
takes back results, and it never waits without a limit: a task whose worker has not answered in
its limit plus `GRACE` seconds is failed and its worker killed (a block stuck in C code that
holds the interpreter's lock could stop the watchdog). A worker that dies fails its task, and a
new worker takes the next one. Workers are spawned, on every platform (a fresh interpreter: no
thread or lock of the build's is inherited), and end when the build's process does.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRACE = 10.0  # seconds a worker may take past its task's limit before the build gives up on it
STOP = 5.0  # seconds a stopping worker is given to exit before it is killed
NOTEBOOK_LIMIT = 300.0  # seconds one notebook page's conversion may take

log = logging.getLogger("mkdocs.plugins.literate")


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class WorkerFailed(Exception):
    """A task's worker died, or did not answer within the task's limit."""


def _work(connection, root: str, threads: int) -> None:
    """A worker's life: tasks from the build, one at a time, until it says stop or is gone."""
    import sys

    if root not in sys.path:
        sys.path.insert(0, root)
    from tools import blocks

    sending = threading.Lock()

    def report(message) -> None:
        with sending:
            connection.send(message)

    watchdog = blocks.Watchdog(report)
    watchdog.start()
    import torch  # every page needs it: imported while the build plans its pages

    torch.set_num_threads(threads)
    sys.dont_write_bytecode = True  # no .pyc in literate/, which `mkdocs serve` watches
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        kind, arguments = task
        try:
            if kind == "page":
                result = blocks.run_page(watchdog, *arguments)
            else:
                from tools.notebook_pages import convert

                result = convert(*arguments)
            report(("done", result))
        except Exception:
            report(("error", traceback.format_exc(limit=-3)))


class _Worker:
    def __init__(self, context, threads: int) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, str(ROOT), threads), daemon=True)
        self.process.start()
        child.close()
        self.task: tuple[Future, float, str] | None = None  # its task's future, deadline, and what it is


class Pool:
    """count workers, started at once, that take tasks in the order they are submitted."""

    def __init__(self, count: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.threads = max(1, cores() // count)  # a core runs one thread: PyTorch's pools spin when oversubscribed
        self.workers = [_Worker(self.context, self.threads) for _ in range(count)]
        self.queue: deque[tuple[Future, float, str, tuple]] = deque()
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True, name="literate-workers")
        self.thread.start()

    def submit(self, kind: str, arguments: tuple, limit: float, what: str) -> Future:
        """Run a task ("page": tools.blocks.run_page's arguments; "notebook": notebook_pages.convert's)
        in the next free worker; its future fails with WorkerFailed when its worker does not answer
        within limit + GRACE seconds of starting it."""
        future: Future = Future()
        with self.lock:
            self.queue.append((future, limit, what, (kind, arguments)))
        return future

    def _serve(self) -> None:
        while not self.closed:
            with self.lock:
                for worker in self.workers:
                    if worker.task is None and self.queue:
                        future, limit, what, task = self.queue.popleft()
                        if future.set_running_or_notify_cancel():
                            worker.task = (future, time.monotonic() + limit + GRACE, what)
                            try:
                                worker.connection.send(task)
                            except OSError:  # it died while idle: the task fails below, as if it had died running it
                                pass
            busy = [w for w in self.workers if w.task is not None]
            ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=0.1)
            for worker in busy:
                future, deadline, what = worker.task
                message = None
                if worker.connection in ready:
                    try:
                        message = worker.connection.recv()
                    except (EOFError, OSError):
                        pass
                if message is None and worker.process.is_alive() and time.monotonic() <= deadline:
                    continue
                worker.task = None
                if message is not None and message[0] == "done":
                    future.set_result(message[1])
                    continue
                if message is not None:  # "error": the task raised, the worker goes on; "timeout": it ends
                    future.set_exception(WorkerFailed(message[1]))
                elif worker.process.is_alive():
                    future.set_exception(WorkerFailed(f"{what}: its worker process did not answer within its "
                                                      f"limit and {GRACE:g} s more, and was killed"))
                else:
                    future.set_exception(WorkerFailed(f"{what}: its worker process died (exit code "
                                                      f"{worker.process.exitcode})"))
                if message is None or message[0] == "timeout":
                    self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(STOP)
        worker.connection.close()
        self.workers[self.workers.index(worker)] = _Worker(self.context, self.threads)

    def close(self) -> None:
        """Stop every worker: queued tasks are cancelled, running ones killed after STOP seconds."""
        self.closed = True
        self.thread.join(STOP)
        with self.lock:
            for future, *_ in self.queue:
                future.cancel()
            self.queue.clear()
        for worker in self.workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + STOP
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(STOP)
            if worker.task is not None:
                worker.task[0].set_exception(WorkerFailed(f"{worker.task[2]}: the build stopped"))
            worker.connection.close()
