"""Pages in parallel: before MkDocs renders any page, the pages whose blocks must run are handed to
worker processes, one page per worker at a time, on every core (``JOBS=N``; ``JOBS=1`` for the
serial build), while MkDocs goes on rendering in the build's own process. In a cold build (the
cache holds no run) the workers start first, before MkDocs reads the site (`start_early`), and
import PyTorch meanwhile.

MkDocs converts pages one after the other, and markdown-exec runs a page's blocks while its page is
converted. So the build plans every Markdown page first (tools/mkdocs_hooks.py, `on_nav`): a page
whose run the cache holds costs no worker, and when at least two pages must run (in a cold build,
any), workers run them, in the order MkDocs renders them, each page in a fresh session with the same code as a
serial run (`execute_block`), PyTorch's threads shared out among the workers (a core runs one
thread; oversubscribed, PyTorch's thread pools spin and every worker crawls). When MkDocs reaches a
page, the build waits for that page's worker only (`Runner.cached`) and adopts its clean run
(`Runner.adopt`): stored in the cache and replayed, so the site is byte for byte the serial build's
(the tests build the whole site both ways and compare it). A page whose run fails in a worker, or
whose worker died, is simply run again, serially, when MkDocs renders it, and fails there with its
file:line and traceback as always.

Once a chapter has run, its notebook is written, and the build hands the conversion of its notebook
page (`convert_notebook`: mkdocs-jupyter's conversion, which the build fits to the site when it
takes it), the largest part of a cold build after the blocks, to the same workers, queued behind
the runs: a run is wanted first, since MkDocs renders every Markdown page before the first notebook
page. A notebook page a worker could not convert is converted by MkDocs. Workers are forked from the
build's process, or from a fork server where that is not safe (`_context`; `WORKER_START` chooses);
either way each imports the package afresh for every page (`forget_package`), as the tangler
wrote it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import site
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from markdown_exec import ExecutionError
from mkdocs.exceptions import PluginError

from tools.execution import Runner, block_timeout, execute_block, new_session, used_modules
from tools.package_sync import forget_package


ROOT = Path(__file__).resolve().parents[1]


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def jobs() -> int:
    """How many pages may run at once: JOBS, else every core."""
    value = os.environ.get("JOBS", "").strip()
    if not value:
        return cores()
    if not value.isdigit() or int(value) < 1:
        raise PluginError(f"JOBS={value!r}: give a positive number of worker processes (1 for a serial build)")
    return int(value)


# What every worker imports before its first page, where workers come from a fork server: imported
# once, by the server, rather than by each worker (torch alone takes about 1.2 s of a core).
PRELOAD = ["torch", "nbconvert", "mkdocs_jupyter.convert"]


STARTED = {"fork": "forked from the build's process", "forkserver": "forked from a fork server",
           "spawn": "spawned"}  # how workers may start (WORKER_START), as the build's log says it


def _context():
    """How workers start. Forked from the build's own process where that is safe: on Linux (macOS
    frameworks do not survive a fork), with one thread, and no PyTorch (its thread pools do not).
    A worker then starts at once, with MkDocs, nbconvert and the build's code already imported,
    and imports only torch itself, both workers at the same time. Otherwise (`mkdocs serve` has
    threads) forked from a fork server, a fresh process that has imported PRELOAD; else (no fork
    on the platform) spawned. Either way a worker imports `literate` afresh for every page, as the
    tangler wrote it. WORKER_START names the way instead (one of STARTED, where the platform has it)."""
    offered = [method for method in STARTED if method in multiprocessing.get_all_start_methods()]
    method = os.environ.get("WORKER_START", "").strip()
    if method and method not in offered:
        raise PluginError(f"WORKER_START={method!r}: choose how workers start from {', '.join(offered)}")
    if not method:
        safe = sys.platform.startswith("linux") and threading.active_count() == 1 and "torch" not in sys.modules
        method = "fork" if safe else "forkserver" if "forkserver" in offered else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    return context


def _start_worker(root: str) -> None:
    """In a new worker: find this project's `tools` as the build did when MkDocs loaded the hooks
    (MkDocs puts sys.path back afterwards, and a spawned worker starts from the build's sys.path),
    and print nothing through MkDocs' console handler, which a forked worker inherits: the build
    reports what its pages and notebooks say (a notebook the worker converted with a warning is
    converted again by MkDocs, which logs it once)."""
    site.addsitedir(root)
    logging.getLogger("mkdocs").handlers.clear()
    import torch  # noqa: F401  (every page needs it: imported before the first is handed over)


def run_page(path: str, name: str, blocks: list[tuple[int, str, float]], threads: int) -> dict:
    """In a worker: run one page's blocks in order, in a fresh session. Its outputs and each block's
    seconds, or ok=False when a block failed (the page then runs again serially, to report it)."""
    import torch

    torch.set_num_threads(threads)
    sys.dont_write_bytecode = True  # no .pyc in literate/, which `mkdocs serve` watches
    forget_package()  # a worker runs page after page: each records what it imports itself
    module = new_session(name)
    outputs, seconds = [], {}
    for line, code, limit in blocks:
        started = time.perf_counter()
        try:
            outputs.append(execute_block(code, module, Path(path), name, line, limit))
        except ExecutionError:
            return {"ok": False}
        seconds[line] = time.perf_counter() - started
    return {"ok": True, "outputs": outputs, "seconds": seconds, "modules": used_modules()}


def convert_notebook(path: str, options: dict) -> dict:
    """In a worker: the notebook page of the notebook file at path, as mkdocs-jupyter converts it
    (`tools.notebook_pages.convert`): {"render": ...}, with None where MkDocs must render it, or
    {"error": traceback} (MkDocs then converts the page, and reports what fails)."""
    from tools import notebook_pages

    try:
        return {"render": notebook_pages.convert(path, options)}
    except Exception:
        return {"error": traceback.format_exc(limit=-3)}


@dataclass
class Workers:
    pool: ProcessPoolExecutor
    count: int
    started: str  # how they started: a value of STARTED


def _workers(count: int) -> Workers:
    context = _context()
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_start_worker,
                               initargs=(str(ROOT),))
    return Workers(pool, count, STARTED[context.get_start_method()])


def start_early(workers: int, cold: bool) -> Workers | None:
    """Workers started before the build knows which pages must run, where it expects pages to: a
    cold build (cold: the cache holds no run) on two or more workers. They import PyTorch while
    MkDocs reads the site, rather than after (`prerun` then hands them the pages, or stops them
    when none must run after all). None otherwise."""
    if workers < 2 or not cold:
        return None
    early = _workers(workers)
    early.started += ", started before the pages were planned"
    try:
        for _ in range(workers):  # starts them (forked: all at the first), each importing PyTorch
            early.pool.submit(int)
    except BaseException:
        early.pool.shutdown(wait=False, cancel_futures=True)
        raise
    return early


def prerun(runner: Runner, pages: list, workers: int, early: Workers | None = None) -> tuple[list[str], str]:
    """Hand to up to `workers` processes the pages (chapter models and names, in the order MkDocs
    renders them) whose runs the cache lacks; early: the workers `start_early` started, if any,
    which take any number of pages. Returns the names of the pages handed over, and how the
    workers started (`_context`); the runner collects each page when MkDocs reaches it, and its
    pool takes the notebook conversions (`convert_notebook`) afterwards."""
    todo = [(model, name) for model, name in pages
            if model.executed and runner.mine(name) and runner.cached(model, name, runner.key(model, name)) is None]
    if early is not None and not todo:
        early.pool.shutdown(wait=False, cancel_futures=True)  # nothing to run after all
        runner.pool = None
        return [], ""
    if early is None and (workers < 2 or len(todo) < 2):
        return [], ""
    chosen = early or _workers(min(workers, len(todo)))
    threads = max(1, cores() // min(chosen.count, len(todo)))  # the cores, shared out among the pages' workers
    pool = runner.pool = chosen.pool  # the runner shuts it down, whatever happens
    for model, name in todo:
        future = pool.submit(run_page, str(model.path), name,
                             [(b.line, b.code, block_timeout(b, runner.timeout)) for b in model.executed], threads)
        runner.pending[name] = (model, future)
    return [name for _, name in todo], chosen.started
