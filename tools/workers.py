"""Worker processes that run tasks for the build while MkDocs renders: the pages that must run
(`tools.blocks`).

Every block runs in a worker, never in the build's own process: a block's time limit then needs
no signal (`tools.blocks.Watchdog`), and a block that does not end is ended with its worker and
every process it started (each worker leads a process group of its own, on POSIX). The build
hands a pool its tasks in the order MkDocs renders their pages; each worker takes one at a time,
once it has started. A thread of the build's process (`Pool._serve`) gives each free worker the
next task and takes back results, and it never waits without a limit: a task whose worker has not
answered within its limit and `GRACE` seconds more is failed and its worker killed (a block stuck
in C code that holds the interpreter's lock could stop the watchdog). A worker that dies fails its
task, and a new worker takes the next one; one that dies before it could start fails them all.
Workers are spawned, on every platform (a fresh interpreter: no thread or lock of the build's is
inherited), and end when the build's process does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import wait

GRACE = 10.0  # seconds a worker may take past its task's limit before the build gives up on it
TICK = 0.1  # seconds between two looks of the pool's thread when nothing happens
STOP = 5.0  # seconds a killed worker is waited for


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class WorkerFailed(Exception):
    """A task's worker died, or did not answer within the task's limit."""


def end_group(pid: int = 0) -> None:
    """End a worker (0: this one) and every process its blocks started."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):  # a worker that has not made its group yet: itself alone
            os.killpg(pid or os.getpid(), signal.SIGKILL)
    if not pid:
        os._exit(3)
    with contextlib.suppress(OSError):  # ended already
        os.kill(pid, signal.SIGTERM if sys.platform == "win32" else signal.SIGKILL)


def _work(connection, threads: int) -> None:
    """A worker's life: tasks from the build, one at a time, until it says stop or is gone."""
    # PyTorch, when a page imports it, starts with this many threads (a worker does not import it
    # itself: a page that does not use it does not wait for it).
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    if hasattr(os, "setsid"):
        os.setsid()  # its own group, so that ending it ends what its blocks started
    from tools import blocks

    sending = threading.Lock()

    def report(message) -> None:
        with sending:
            connection.send(message)

    blocks.WATCHDOG = blocks.Watchdog(report, end_group)
    blocks.WATCHDOG.start()
    sys.dont_write_bytecode = True  # no .pyc in literate/, which `mkdocs serve` watches
    report(("ready",))
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        try:
            report(("done", blocks.run_page(*task)))
        except Exception:  # the runner itself failed, outside any block: the page says where
            report(("error", traceback.format_exc(limit=-3)))


class _Worker:
    def __init__(self, context, threads: int) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, threads), daemon=True)
        self.process.start()
        child.close()
        self.ready = False  # it has started and waits for tasks
        self.task: tuple[Future, float, str] | None = None  # its task's future, deadline, and what it is

    def end(self) -> None:
        end_group(self.process.pid)
        self.process.join(STOP)
        self.connection.close()


class Pool:
    """count workers, started at once, that take tasks in the order they are submitted."""

    def __init__(self, count: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.threads = max(1, cores() // count)  # a core runs one thread: PyTorch's pools spin when oversubscribed
        self.workers = [_Worker(self.context, self.threads) for _ in range(count)]
        self.queue: deque[tuple[Future, float, str, tuple]] = deque()
        self.lock = threading.Lock()
        self.broken: str | None = None
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True, name="literate-workers")
        self.thread.start()

    def submit(self, arguments: tuple, limit: float, what: str) -> Future:
        """Run a page (`tools.blocks.run_page(*arguments)`) in the next free worker; the future fails
        with WorkerFailed when its worker does not answer within limit + GRACE seconds."""
        future: Future = Future()
        with self.lock:
            if self.broken:
                future.set_exception(WorkerFailed(f"{what}: {self.broken}"))
                return future
            self.queue.append((future, limit, what, arguments))
        return future

    def _serve(self) -> None:
        try:
            while not self.closed:
                self._step()
        except Exception:  # a fault of the pool itself: every task fails at once, none waits for ever
            with self.lock:
                self.broken = "the worker pool failed:\n" + traceback.format_exc(limit=-3)
                failed = [w.task[0] for w in self.workers if w.task] + [task[0] for task in self.queue]
                self.queue.clear()
            for future in failed:
                if not future.done():
                    future.set_exception(WorkerFailed(self.broken))

    def _step(self) -> None:
        for worker in self.workers:
            if worker.ready and worker.task is None:
                with self.lock:
                    if not self.queue:
                        break
                    future, limit, what, task = self.queue.popleft()
                worker.task = (future, time.monotonic() + limit + GRACE, what)
                try:
                    worker.connection.send(task)
                except OSError:  # it died: its task fails below
                    pass
        ready = wait([w.connection for w in self.workers] + [w.process.sentinel for w in self.workers], TICK)
        for worker in list(self.workers):
            message = None
            if worker.connection in ready:
                try:
                    message = worker.connection.recv()
                except (EOFError, OSError):
                    pass
            if message == ("ready",):
                worker.ready = True
                continue
            task = worker.task
            if message is None and worker.process.is_alive() and (task is None or time.monotonic() <= task[1]):
                continue
            worker.task = None
            if message is not None:  # "done"; "last": done, and it ends (a block past its limit); "error"
                task[0].set_exception(WorkerFailed(message[1])) if message[0] == "error" else task[0].set_result(message[1])
                if message[0] != "last" and worker.process.is_alive():
                    continue
            elif task is not None:
                alive = worker.process.is_alive()
                task[0].set_exception(WorkerFailed(
                    f"{task[2]}: its worker process did not answer within its limit and {GRACE:g} s more, and was "
                    f"killed" if alive else f"{task[2]}: its worker process died (exit code {worker.process.exitcode})"))
            elif not worker.ready:
                raise RuntimeError(f"a worker process could not start (exit code {worker.process.exitcode})")
            worker.end()
            self.workers[self.workers.index(worker)] = _Worker(self.context, self.threads)

    def close(self) -> None:
        """Stop the pool's thread, then end every worker and what its blocks started (nothing waits
        for their tasks once the build is over)."""
        self.closed = True
        self.thread.join(STOP)
        for worker in self.workers:
            worker.end()
