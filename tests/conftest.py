"""Shared fixtures: the site built once per run (strictly, in a subprocess, as `make build` does),
the published build served once per run, and one headless Chromium per process. The helpers they
use live in tests/helpers.py.

`make test` runs the suite on every core (pytest-xdist). The main process makes a folder that its
workers inherit (LITERATE_TESTS_SHARED): the first worker to need a build makes it there under a
file lock, and the others wait for it and share it. The main process also serves the published
build, on the one port it was built for (helpers.PUBLISHED_PORT). Run without xdist, the one
process plays both parts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from filelock import FileLock

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, PREFIX, PUBLISHED, PUBLISHED_PORT, PUBLISHED_SOCKET, SiteServer, mkdocs_build
from tools.atomic import write_atomic

SHARED = "LITERATE_TESTS_SHARED"
SERVER = pytest.StashKey[SiteServer]()
REPORTS: list[str] = []  # what the `report` fixture recorded, from whichever process ran the test


def pytest_configure(config):
    if SHARED in os.environ:  # an xdist worker: its main process made the folder and serves the site
        return
    os.environ[SHARED] = tempfile.mkdtemp(prefix="literate-tests-")
    published = shared("published", "site")  # where build_once("published") puts it
    config.stash[SERVER] = SiteServer(published, prefix=PREFIX, not_found=published / "404.html", port=PUBLISHED_PORT,
                                      sock=PUBLISHED_SOCKET)  # the port helpers bound for it, kept bound


def pytest_unconfigure(config):
    server = config.stash.get(SERVER, None)
    if server is not None:
        server.close()
        shutil.rmtree(os.environ.pop(SHARED), ignore_errors=True)


def pytest_collection_modifyitems(items):
    """The heavy tests first (in file order), then the rest: xdist hands tests out in this order, so
    the long ones start at once and the short ones fill in around them."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def shared(*parts: str) -> Path:
    """A path in the folder this run's processes share."""
    return Path(os.environ[SHARED], *parts)


def build_once(name: str, env: dict | None = None, seed: Path | None = None) -> Path:
    """The site built into the run's shared folder by whichever process asks first; seed: a build
    cache it starts from (copied into its own cache folder)."""
    root = shared(name)
    root.mkdir(parents=True, exist_ok=True)
    log = root / "build.log"
    with FileLock(root / "build.lock"):
        if not log.exists():
            if seed is not None:
                shutil.copytree(seed, root / "cache", dirs_exist_ok=True)
                env = {**(env or {}), "SITE_CACHE": "on", "SITE_CACHE_DIR": str(root / "cache")}
            result = mkdocs_build(root / "site", env=env)
            write_atomic(log, f"{result.returncode}\n{result.stdout}\n{result.stderr}")
    returncode, _, output = log.read_text(encoding="utf-8").partition("\n")
    assert returncode == "0", f"strict build of the {name} site failed:\n{output}"
    return root / "site"


@pytest.fixture(scope="session")
def site() -> Path:
    """The site, built once per test run from the working tree: a cold build, every block run, on
    two workers (every other test waits for it). It fills an empty execution cache (`site_cache`)
    as it goes; a run of the suite inside a copy of the project (tests/test_adding_a_chapter.py)
    may seed that cache first from LITERATE_TESTS_SEED_CACHE, so that only what it changed runs."""
    seed = os.environ.get("LITERATE_TESTS_SEED_CACHE")
    if seed and not shared("site-cache").exists():
        shutil.copytree(seed, shared("site-cache"))
    return build_once("site", env={"SITE_CACHE": "on", "SITE_CACHE_DIR": str(shared("site-cache")), "JOBS": "2"})


@pytest.fixture(scope="session")
def site_cache(site) -> Path:
    """The execution cache that the `site` build filled: copied into a private copy of the project
    (Workspace.seed_cache), it lets that copy start warm."""
    return shared("site-cache")


@pytest.fixture(scope="session")
def published(site_cache) -> Path:
    """The site built as the workflow builds it: SITE_URL under a sub-path, REPO_URL set. Its runs
    are replayed from the cold `site` build's cache (a warm build equals a cold one: tests/test_cache.py)."""
    return build_once("published", env=PUBLISHED, seed=site_cache)


@pytest.fixture(scope="session")
def published_server(published):
    """Where the main process serves the published build, as GitHub Pages serves it: under its
    sub-path, 404.html for misses."""
    base = PUBLISHED["SITE_URL"]
    return SimpleNamespace(origin=base.removesuffix(PREFIX), base=base)


@pytest.fixture
def report(request):
    """Record a measurement (page weight, requests, accessibility) to print after the run."""
    return lambda line: request.node.user_properties.append(("report", line))


def pytest_runtest_logreport(report):
    if report.when == "teardown":  # carries what the test recorded; from a worker too
        REPORTS.extend(value for name, value in report.user_properties if name == "report")


def pytest_terminal_summary(terminalreporter):
    """Print the measurements tests made after the run."""
    if REPORTS:
        terminalreporter.section("site report")
        for line in REPORTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run, the one tools/browser.py chooses (helpers.CHROMIUM)."""
    from playwright.sync_api import Error, sync_playwright

    if CHROMIUM is None:
        pytest.fail(NO_CHROMIUM, pytrace=False)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"the Chromium at {CHROMIUM} did not start ({str(error).splitlines()[0]}): "
                        "run `make browser` or set CHROMIUM", pytrace=False)
        yield browser
        browser.close()
