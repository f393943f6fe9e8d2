"""Pages in parallel: before MkDocs renders any page, the pages whose blocks must run are run in
worker processes, one page per worker at a time, on every core (``JOBS=N``; ``JOBS=1`` for the
serial build).

MkDocs converts pages one after the other, and markdown-exec runs a page's blocks while its page is
converted. So the build plans every Markdown page first (tools/mkdocs_hooks.py, `on_nav`): a page
whose run the cache holds costs no worker, and when at least two pages must run, workers run
them, each page in a fresh session with the same code as a serial run (`execute_block`), PyTorch's
threads shared out among the workers (a core runs one thread; oversubscribed, PyTorch's thread
pools spin and every worker crawls). The pages' outputs do not depend on the thread count: the
tests build the whole site both ways and compare it byte for byte. Each
clean run is adopted by the runner (`Runner.adopt`): stored in the cache and replayed when MkDocs
renders the page, so the site is byte for byte the serial build's. A page whose run fails in a
worker is simply run again, serially, when MkDocs renders it, and fails there with its file:line
and traceback as always. Workers are started fresh (`spawn`), so each imports the package as the
tangler just wrote it.
"""

from __future__ import annotations

import multiprocessing
import os
import site
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from markdown_exec import ExecutionError
from mkdocs.exceptions import PluginError

from tools.execution import Runner, block_timeout, execute_block, new_session, used_modules
from tools.package_sync import forget_package


ROOT = Path(__file__).resolve().parents[1]


def jobs() -> int:
    """How many pages may run at once: JOBS, else every core."""
    value = os.environ.get("JOBS", "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise PluginError(f"JOBS={value!r}: give a positive number of worker processes (1 for a serial build)")
    return int(value)


def run_page(path: str, name: str, blocks: list[tuple[int, str, float]], threads: int) -> dict:
    """In a worker: run one page's blocks in order, in a fresh session. Its outputs and each block's
    seconds, or ok=False when a block failed (the page then runs again serially, to report it)."""
    import torch

    torch.set_num_threads(threads)
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


def prerun(runner: Runner, pages: list, workers: int) -> list[str]:
    """Run, in up to `workers` processes, the pages (chapter models and names) whose runs the cache
    lacks; adopt every clean run. Returns the names of the pages a worker ran."""
    todo = [(model, name) for model, name in pages
            if model.executed and runner.mine(name) and runner.cached(model, name, runner.key(model, name)) is None]
    if workers < 2 or len(todo) < 2:
        return []
    import torch

    count = min(workers, len(todo))
    threads = max(1, torch.get_num_threads() // count)  # the build's threads, shared: no core oversubscribed
    context = multiprocessing.get_context("spawn")
    adopted = []
    # Workers find this project's `tools` as the build did when MkDocs loaded the hooks (MkDocs puts
    # sys.path back afterwards, and a spawned worker starts from the build's sys.path).
    with ProcessPoolExecutor(max_workers=count, mp_context=context,
                             initializer=site.addsitedir, initargs=(str(ROOT),)) as pool:
        runs = [(model, name, pool.submit(run_page, str(model.path), name,
                                          [(b.line, b.code, block_timeout(b, runner.timeout)) for b in model.executed],
                                          threads))
                for model, name in sorted(todo, key=lambda page: -len(page[0].executed))]  # long pages first
        for model, name, future in runs:
            result = future.result()
            if result["ok"]:
                runner.adopt(model, name, result["outputs"], result["seconds"], result["modules"])
                adopted.append(name)
    return adopted
