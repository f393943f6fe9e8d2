"""Helpers shared by the tests: building the site, reading built pages, serving them, the browser,
and random inputs for the package. Fixtures live in conftest.py; test files import from here only."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from hypothesis import strategies as st

from tools import browser as browsers

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "docs" / "chapters" / "convolutions.md"

# The site as the Pages workflow builds it (conftest's `published`), under a sub-path, for an
# address on this machine where the tests serve it, so its install line and downloads really work.
# The port is chosen once per run, by the process that serves the site (the main one): it binds the
# port at once and keeps the listening socket for conftest's server, so no other program can take
# the port in between. pytest-xdist's workers, which only build for it, inherit its number.
PREFIX = "/books/convolutions/"
PUBLISHED_SOCKET = None if "LITERATE_TESTS_PORT" in os.environ else socket.create_server(("127.0.0.1", 0))
if PUBLISHED_SOCKET is not None:
    os.environ["LITERATE_TESTS_PORT"] = str(PUBLISHED_SOCKET.getsockname()[1])
PUBLISHED_PORT = int(os.environ["LITERATE_TESTS_PORT"])
PUBLISHED = {"SITE_URL": f"http://127.0.0.1:{PUBLISHED_PORT}{PREFIX}", "REPO_URL": "https://github.com/example/convolutions"}


def nav_pages(as_built: bool = True) -> list[str]:
    """Every page of the site's navigation (mkdocs.yml's nav, with the notebook pages the plugin adds
    to it; as_built=False: mkdocs.yml's nav alone), as a path under docs/, in nav order: the site's
    list of pages, which tests derive from here rather than write out."""
    from mkdocs.utils.yaml import yaml_load

    from tools.notebook_pages import with_notebooks

    with open(ROOT / "mkdocs.yml", encoding="utf-8") as handle:
        nav = yaml_load(handle)["nav"]
    nav = with_notebooks(nav) if as_built else nav

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from walk(value) if isinstance(value, list) else [value]

    return list(walk(nav))


def chapters() -> list[str]:
    """The chapters, docs/chapters/*.md, by name ("convolutions"): those in the nav in its order, then
    any the nav lacks (tests/test_site.py says which line to add)."""
    listed = [Path(p).stem for p in nav_pages() if p.startswith("chapters/") and p.endswith(".md")]
    on_disk = sorted(p.stem for p in (ROOT / "docs" / "chapters").glob("*.md"))
    return [name for name in listed if name in on_disk] + [name for name in on_disk if name not in listed]


def mkdocs_build(
    site_dir: Path, docs_dir: Path | None = None, nav: list | None = None, env: dict | None = None,
    timeout: float = 600, plugin: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run `mkdocs build --strict` into site_dir; with docs_dir, build that folder instead of docs/.

    The build sees no SITE_URL or REPO_URL from the caller's environment (a CI job may set them to
    publish), only those given in env, so every test knows the address its site is built for. It
    is a cold build (SITE_CACHE=off) unless env says otherwise: the suite tests a fresh execution.
    plugin: options of the `literate` plugin to change (MkDocs merges them into mkdocs.yml's).
    """
    config_file = config_for(site_dir, docs_dir, nav, plugin)
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "REPO_URL", "REPO_BRANCH")}
    # JOBS=1: the suite already builds on every core (pytest-xdist); tests/test_workers.py checks
    # that a build whose pages run in several worker processes equals this one.
    env = {**clean, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", "SITE_CACHE": "off", "JOBS": "1", **(env or {})}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def config_for(site_dir: Path, docs_dir: Path | None = None, nav: list | None = None,
               plugin: dict | None = None) -> Path:
    """The configuration file mkdocs_build builds site_dir with: mkdocs.yml itself, or, with
    docs_dir, nav or plugin options, a file beside site_dir that inherits it and changes those."""
    config_file = ROOT / "mkdocs.yml"
    if docs_dir is None and nav is None and plugin is None:
        return config_file
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, encoding="utf-8") as handle:
        base = yaml_load(handle)
    # Inherit the real configuration; only paths that are relative to it are made absolute.
    config = {
        "INHERIT": str(config_file),
        "docs_dir": str(docs_dir or ROOT / "docs"),
        "theme": {"custom_dir": str(ROOT / base["theme"]["custom_dir"])},
        "watch": [str(ROOT / path) for path in base.get("watch", [])],
    }
    if nav is not None:
        config["nav"] = nav
    written = Path(site_dir).parent / f"{Path(site_dir).name}-mkdocs.yml"
    written.write_text(yaml.safe_dump(config) + (literate_options(plugin) if plugin else ""), encoding="utf-8")
    return written


def literate_options(options: dict) -> str:
    """mkdocs.yml's `plugins:` as its text (a child's list replaces the parent's whole, and its
    `!ENV` tags must be read by the build, not here), with these options of the `literate` plugin."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    plugins = re.search(r"^plugins:\n(?:(?:[ #].*)?\n)+", text, re.M)[0]
    before, marker, ours = plugins.partition("  - literate:\n")
    assert marker, "mkdocs.yml configures no literate plugin"
    for key, value in options.items():
        line = f"      {key}: {json.dumps(value)}"
        ours, found = re.subn(rf"^      {key}:.*$", line, ours, flags=re.M)
        ours = ours if found else line + "\n" + ours
    return before + marker + ours


def page_text(page: Path) -> str:
    """The visible text of a built page: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def outputs(page: Path) -> list[str]:
    """The printed outputs of the executed blocks on a built page, in order."""
    found = re.findall(r'<div class="language-text highlight"><pre>(.*?)</pre></div>', page.read_text(encoding="utf-8"), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in found]


def write_docs(tmp_path: Path, pages: dict[str, str]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    return docs


def failing_build(tmp_path: Path, pages: dict[str, str]) -> str:
    """Build a small site that must fail; return its log."""
    docs = write_docs(tmp_path, pages)
    result = mkdocs_build(tmp_path / "site", docs, nav=list(pages))
    assert result.returncode != 0, "the build should have failed"
    return result.stdout + result.stderr


def figures(page: Path) -> dict[str, str]:
    """The inline SVG figures of a built page, by id."""
    html_text = page.read_text(encoding="utf-8")
    return {m[1]: m[0] for m in re.finditer(r'<svg class="lit-figure" id="([^"]+)".*?</svg>', html_text, re.S)}


class SiteServer:
    """Serve a built site on 127.0.0.1 (a free port), optionally under a path prefix."""

    def __init__(self, root: Path, prefix: str = "/", not_found: Path | None = None, port: int = 0,
                 sock: socket.socket | None = None) -> None:
        """not_found: a page to answer 404s with, as GitHub Pages serves the site's 404.html;
        port: the port a site was built for (its SITE_URL), else any free one; sock: a listening
        socket to serve on instead (bound already, so that no other program takes its port)."""
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

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser that stopped reading
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", port), functools.partial(Handler, directory=str(root)),
                             bind_and_activate=sock is None)
        if sock is not None:
            self.server.socket.close()
            self.server.socket = sock
            self.server.server_address = sock.getsockname()
            self.server.server_name, self.server.server_port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.base = self.origin + self.prefix

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Notebooks and copied code -----------------------------------------------------------------------


def without_image_sources(html: str) -> str:
    """HTML less what differs between the site and code's own output: images' sources (the site
    links photographs as files, code embeds them) and the tab stop the site gives a code block
    (tools/accessibility.py), as in the shape explorer's."""
    return re.sub(r' src="[^"]*"| loading="lazy"| decoding="async"|(?<=<code) tabindex="0"', "", html)


FIGURE_STARTS = ("<svg", '<div class="lit-')  # what a block that draws prints: literate.drawing's markup


def assert_shows_what_the_page_shows(printed: list[str], page: Path) -> None:
    """What copied code printed: its text outputs are the page's, in order, and every figure it
    drew is on the page."""
    figures = [p for p in printed if p.startswith(FIGURE_STARTS)]
    assert [p for p in printed if p and p not in figures] == outputs(page)
    shown = without_image_sources(page.read_text(encoding="utf-8"))
    assert len(figures) >= 6 and all(without_image_sources(f).strip() in shown for f in figures)


def cell_output(cell) -> str:
    parts = []
    for out in cell["outputs"]:
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif out["output_type"] in ("display_data", "execute_result") and "text/html" in out["data"]:
            parts.append("".join(out["data"]["text/html"]))
    return "".join(parts)


COPY_RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, sys
    namespace = {"__name__": "__main__"}
    printed = []
    for code in json.load(open(sys.argv[1], encoding="utf-8")):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "<pasted>", "exec"), namespace)
        printed.append(buffer.getvalue())
    json.dump(printed, open(sys.argv[2], "w", encoding="utf-8"))
    """
)


def copied_code(page: Path) -> list[str]:
    """The code blocks of a page as its copy buttons copy them: the text of each <code>."""
    found = re.findall(r'<div class="language-python highlight"><pre><span></span><code[^>]*>(.*?)</code></pre></div>', page.read_text(encoding="utf-8"), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in found]


# The browser ------------------------------------------------------------------------------------

# The browser, as tools/browser.py chooses it: $CHROMIUM, else a Chromium or Chrome on PATH, else
# Playwright's own (`make browser` gets one). None when there is none, and NO_CHROMIUM says why: the
# `browser` fixture fails with that line, so tests that need no browser still run.
try:
    CHROMIUM, NO_CHROMIUM = browsers.chromium(), ""
except browsers.NotFound as error:
    CHROMIUM, NO_CHROMIUM = None, str(error)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def site_pages(site: Path) -> list[str]:
    """Every page of the site as a path relative to its root ("" for the home page)."""
    pages = [p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html")]
    return sorted("" if p == "./" else p for p in pages) + ["404.html"]


class Visit:
    """Open one page and keep everything it did: requests, failures, console errors. Use it as a
    context manager (`with Visit(...) as visit:`), which closes it however the test ends."""

    def __init__(self, browser, url: str, origin: str, color_scheme: str = "light", width: int = 1280) -> None:
        viewport = {"width": width, "height": 900 if width >= 1000 else 844}
        self.context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        try:
            self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
            self.page = self.context.new_page()
            self.origin = origin
            self.requests, self.foreign, self.failed, self.errors, self.responses = [], [], [], [], []
            self.context.route("**/*", self._route)
            self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
            self.page.on("pageerror", lambda error: self.errors.append(str(error)))
            self.page.on("requestfailed", lambda request: self.failed.append(f"{request.url} ({request.failure})"))
            self.page.on("response", self._response)
            self.in_flight: dict = {}  # request -> its URL, from its start until it finishes or fails
            self.page.on("request", lambda request: self.in_flight.__setitem__(request, request.url))
            self.page.on("requestfinished", lambda request: self.in_flight.pop(request, None))
            self.page.on("requestfailed", lambda request: self.in_flight.pop(request, None))
            self.page.goto(url, wait_until="load")
            # Then until every request the page made has ended (the search index, lazy images): as
            # `networkidle`, without its half second of waiting for nothing. A request made later is
            # still routed and recorded until the visit is closed.
            self.wait_for_requests()
        except BaseException:
            self.context.close()  # the caller's `with` never began: nothing else would close it
            raise

    def __enter__(self) -> "Visit":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def wait_for_requests(self, timeout: float = 15) -> None:
        """Wait until no request of the page is in flight; fail naming those that never ended."""
        deadline = time.monotonic() + timeout
        while True:
            self.page.wait_for_timeout(25)  # a poll: lets Playwright deliver the page's events
            if not self.in_flight:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.page.url}: requests still in flight after {timeout} s: "
                                     f"{sorted(self.in_flight.values())}")

    def mount_code_blocks(self) -> None:
        """Bring every shown code block on screen, as a reader scrolling down the page does: Material
        (`content.lazy`) sets a block up, copy button and all, once an IntersectionObserver sees any
        of it in the window. An observer of the test's own, made the same way, says which blocks the
        window has shown; in a window 4000 px tall (as wide as before, so laid out the same), each
        block it has not shown yet is scrolled to the top, for two frames. Then back to the top, at
        the window's own size."""
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": size["width"], "height": 4000})
        try:
            self.page.evaluate("""async () => {
                // the next frame; a page that draws none (a hidden window) fails, never waits for ever
                const frame = () => new Promise((done, fail) => {
                    requestAnimationFrame(done);
                    setTimeout(() => fail(new Error("the page drew no frame within 10 s")), 10000);
                });
                const seen = new Set();
                const observer = new IntersectionObserver(entries => entries.forEach(e => e.isIntersecting && seen.add(e.target)));
                const blocks = [...document.querySelectorAll('.md-content pre > code')].filter(code => code.getClientRects().length);
                blocks.forEach(code => observer.observe(code));  // not shown (in a closed <details>): left out
                await frame();
                await frame();
                for (const code of blocks) {
                    if (seen.has(code)) continue;  // shown already: at the start, or by an earlier block's scroll
                    code.scrollIntoView({block: 'start'});
                    await frame();
                    await frame();
                }
                observer.disconnect();
                window.scrollTo(0, 0);
            }""")
        finally:
            self.page.set_viewport_size(size)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith(("data:", "blob:")) or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _response(self, response):
        self.responses.append(response)
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def close(self) -> None:
        self.context.close()


# Inputs for the package ------------------------------------------------------------------------


@st.composite
def input_and_kernel(draw, max_side: int = 9):
    """A random float64 input (h, w) and a kernel (kh, kw) that fits in it."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    X = torch.randn(h, w, generator=generator, dtype=torch.float64)
    K = torch.randn(kh, kw, generator=generator, dtype=torch.float64)
    return X, K


def reference(X, K):
    """PyTorch's conv2d, which computes cross-correlation, on a batch of one single-channel image."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]
