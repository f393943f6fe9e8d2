"""Shared fixtures: building the site (strictly, in a subprocess, as `make build` does)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "docs" / "chapters" / "convolutions.md"


def mkdocs_build(
    site_dir: Path, docs_dir: Path | None = None, nav: list | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `mkdocs build --strict` into site_dir; with docs_dir, build that folder instead of docs/.

    The build sees no SITE_URL or REPO_URL from the caller's environment (a CI job may set them to
    publish), only those given in env, so every test knows the address its site is built for. It
    is a cold build (SITE_CACHE=off) unless env says otherwise: the suite tests a fresh execution.
    """
    config_file = ROOT / "mkdocs.yml"
    if docs_dir is not None or nav is not None:
        from mkdocs.utils.yaml import yaml_load

        with open(config_file, encoding="utf-8") as handle:
            base = yaml_load(handle)
        # Inherit the real configuration; only paths that are relative to it are made absolute.
        config = {
            "INHERIT": str(config_file),
            "docs_dir": str(docs_dir or ROOT / "docs"),
            "hooks": [str(ROOT / hook) for hook in base["hooks"]],
            "theme": {"custom_dir": str(ROOT / base["theme"]["custom_dir"])},
            "watch": [str(ROOT / path) for path in base.get("watch", [])],
        }
        if nav is not None:
            config["nav"] = nav
        config_file = Path(site_dir).parent / f"{Path(site_dir).name}-mkdocs.yml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "REPO_URL", "REPO_BRANCH")}
    env = {**clean, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", "SITE_CACHE": "off", **(env or {})}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def page_text(page: Path) -> str:
    """The visible text of a built page: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def outputs(page: Path) -> list[str]:
    """The printed outputs of the executed blocks on a built page, in order."""
    found = re.findall(r'<div class="language-text highlight"><pre>(.*?)</pre></div>', page.read_text(encoding="utf-8"), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in found]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once per test session from the working tree."""
    site_dir = tmp_path_factory.mktemp("build") / "site"
    result = mkdocs_build(site_dir)
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


class SiteServer:
    """Serve a built site on 127.0.0.1 (a free port), optionally under a path prefix."""

    def __init__(self, root: Path, prefix: str = "/", not_found: Path | None = None) -> None:
        """not_found: a page to answer 404s with, as GitHub Pages serves the site's 404.html."""
        import functools
        import http.server
        import threading

        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def translate_path(self, path):
                if not path.startswith(outer.prefix):
                    return str(Path(root) / "__outside_the_prefix__")
                return super().translate_path("/" + path[len(outer.prefix):])

            def do_GET(self):
                target = Path(self.translate_path(self.path.split("?", 1)[0]))
                if not_found is None or target.is_file() or (target / "index.html").is_file():
                    return super().do_GET()
                body = not_found.read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.base = self.origin + self.prefix

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


REPORTS: list[str] = []


def pytest_terminal_summary(terminalreporter):
    """Print the measurements tests made (page weight, requests, accessibility) after the run."""
    if REPORTS:
        terminalreporter.section("site report")
        for line in REPORTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (Debian's, or $CHROMIUM; never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make browser` or set CHROMIUM"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
