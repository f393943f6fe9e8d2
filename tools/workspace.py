"""A private copy of the project, built and served the way `make build` and `make serve` do it.

The build benchmark (`make bench-build`) and the serve tests edit chapters and the package, so they
work on a copy: the chapters, the package, the build tools and the configuration, with
``node_modules`` linked. The copy's own `literate` comes first on ``PYTHONPATH``, so its pages
import the copy's package, and its cache lives in its own folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools import upstream

ROOT = Path(__file__).resolve().parents[1]
COPIED = ["docs", "literate", "tools", "overrides", "mkdocs.yml", "constraints.txt", "pyproject.toml"]
VOLATILE = re.compile(rb"<!-- volatile -->.*?<!-- /volatile -->", re.S)


# What `mkdocs serve` logs: the server bound its port; a file event woke the rebuild loop; a
# rebuild ended, well or badly. Each wake of the loop is one rebuild, which ends in one of the two.
SERVING = "Serving on "
WOKEN = "Detected file changes"
REBUILT = "Reloading browsers"
FAILED = "An error happened during the rebuild"
IN_USE = "Address already in use"


class Workspace:
    """A copy of the project in folder; `build` and `serve` run MkDocs on it in a subprocess."""

    def __init__(self, folder: Path) -> None:
        self.root = Path(folder)
        self.root.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.root / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
            else:
                shutil.copy2(source, self.root / name)
        (self.root / "node_modules").symlink_to(ROOT / "node_modules")
        self.cache = self.root / ".cache" / "site"
        self.server: subprocess.Popen | None = None
        self.port = 0

    def seed_cache(self, cache: Path) -> None:
        """Start from a copy of another build's execution cache (of the same tree), not an empty one."""
        shutil.copytree(cache, self.cache, dirs_exist_ok=True)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace the one occurrence of old in a file of the copy."""
        path = self.path(relative)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{relative}: {old!r} occurs {text.count(old)} times"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def env(self, cache: bool = True, **extra: str) -> dict:
        clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "REPO_URL", "REPO_BRANCH", "SITE_CACHE")}
        return {**clean, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(self.root),
                "SITE_CACHE": "on" if cache else "off", "SITE_CACHE_DIR": str(self.cache), **extra}

    def build(self, site: Path, cache: bool = True, tangle: bool = True, **env: str) -> subprocess.CompletedProcess:
        """What `make build` does on the copy: tangle (unless told not to), then `mkdocs build --strict` into site."""
        if tangle:
            done = subprocess.run([sys.executable, "-m", "tools.tangle"], cwd=self.root, env=self.env(cache, **env),
                                  capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                return done
        command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)]
        return subprocess.run(command, cwd=self.root, env=self.env(cache, **env), capture_output=True, text=True, timeout=900)

    # mkdocs serve -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def serve(self, cache: bool = True, timeout: float = 300, attempts: int = 3, options: tuple[str, ...] = (),
              **env: str) -> None:
        """Start `mkdocs serve` on a free port and wait until its first build is served.

        MkDocs binds the port only after its first build, so another process may take the port in
        between: then serve exits saying so, and it starts again on another port (the cache its
        first try filled makes the next build quick). Pages are trusted only once this serve's own
        log says it is serving: until then another program could answer on the port.
        """
        for attempt in range(1, attempts + 1):
            with socket.socket() as probe:  # a port free a moment ago: another process may take it first
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
            self.log = open(self.root / "serve.log", "w", encoding="utf-8")  # noqa: SIM115
            command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{self.port}", *options]
            self.server = subprocess.Popen(command, cwd=self.root, env=self.env(cache, SITE_URL=self.url, **env),
                                           stdout=self.log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + timeout
                while SERVING + self.url not in self.serve_log():
                    if self.server.poll() is not None:
                        if IN_USE in self.serve_log() and attempt < attempts:
                            break  # the port was taken before serve bound it: try another
                        raise RuntimeError(f"mkdocs serve exited before serving:\n{self.serve_log()[-3000:]}")
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"mkdocs serve did not start serving within {timeout} s:\n{self.serve_log()[-3000:]}")
                    time.sleep(0.05)
                else:
                    return  # serve logs it once its socket listens: a request now waits for it
            except BaseException:
                self.stop()  # no server process or open log left behind by a serve that never came up
                raise
            self.stop()

    def get(self, page: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.url + page, timeout=60) as response:
                return response.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def wait_for(self, page: str, condition, timeout: float = 120) -> bytes:
        """Poll a served page until condition(page bytes) holds; return the page."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError(f"mkdocs serve exited:\n{self.serve_log()}")
            body = self.get(page)
            if body is not None and condition(body):
                return body
            time.sleep(0.02)
        raise TimeoutError(f"/{page} did not change as expected within {timeout} s:\n{self.serve_log()[-3000:]}")

    def serve_log(self) -> str:
        return (self.root / "serve.log").read_text(encoding="utf-8", errors="replace")

    def wait_until_idle(self, timeout: float = 120) -> int:
        """Wait until every rebuild that a file event started has ended; return how many succeeded.

        Serve logs WOKEN when an event wakes its loop and REBUILT (or FAILED) when that rebuild ends.
        The loop is idle when every wake has ended, in two reads of the log in a row: an event that
        came during a rebuild wakes the loop at once after it, and one read could fall between the
        two lines.
        """
        deadline = time.monotonic() + timeout
        settled = 0
        while True:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError(f"mkdocs serve exited:\n{self.serve_log()}")
            log = self.serve_log()
            settled = settled + 1 if log.count(WOKEN) == log.count(REBUILT) + log.count(FAILED) else 0
            if settled == 2:
                return log.count(REBUILT)
            if time.monotonic() > deadline:
                raise TimeoutError(f"mkdocs serve was still rebuilding after {timeout} s:\n{log[-3000:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server = None
            self.log.close()


def comparable(page: bytes) -> bytes:
    """A page as served by `mkdocs serve`, less its live-reload script and the volatile regions."""
    return VOLATILE.sub(b"", upstream.without_livereload(page))


DATED = {"sitemap.xml", "sitemap.xml.gz"}  # carry the build's date


def differing_files(first: Path, second: Path) -> list[str]:
    """Files that differ between two built sites, less the sitemap's date and the volatile regions."""
    def files(site: Path) -> set[Path]:
        return {p.relative_to(site) for p in Path(site).rglob("*") if p.is_file() and p.name not in DATED}

    a, b = files(first), files(second)
    only = [f"{p}: only in one site" for p in sorted(a ^ b)]
    return only + [str(p) for p in sorted(a & b) if comparable((first / p).read_bytes()) != comparable((second / p).read_bytes())]
