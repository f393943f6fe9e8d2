"""Shared fixtures: the site built once per run (strictly, in a subprocess, as `make build` does) and
one headless Chromium. The helpers they use live in tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, PREFIX, PUBLISHED, PUBLISHED_PORT, REPORTS, SiteServer, mkdocs_build


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once per test session from the working tree."""
    site_dir = tmp_path_factory.mktemp("build") / "site"
    result = mkdocs_build(site_dir)
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """The site built as the workflow builds it: SITE_URL under a sub-path, REPO_URL set."""
    site = tmp_path_factory.mktemp("published") / "site"
    result = mkdocs_build(site, env=PUBLISHED)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


@pytest.fixture(scope="session")
def published_server(published):
    """The published build served as GitHub Pages serves it: under its sub-path, 404.html for misses."""
    server = SiteServer(published, prefix=PREFIX, not_found=published / "404.html", port=PUBLISHED_PORT)
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter):
    """Print the measurements tests made (page weight, requests, accessibility) after the run."""
    if REPORTS:
        terminalreporter.section("site report")
        for line in REPORTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run: $CHROMIUM, else Debian's, else Playwright's own."""
    from playwright.sync_api import Error, sync_playwright

    if CHROMIUM is not None:
        assert Path(CHROMIUM).exists(), f"no Chromium at CHROMIUM={CHROMIUM}: run `make browser` or set CHROMIUM"
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"no Chromium to run the browser tests ({str(error).splitlines()[0]}): "
                        "run `make browser` or set CHROMIUM", pytrace=False)
        yield browser
        browser.close()
