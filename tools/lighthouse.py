"""Lighthouse scores of every page of the built site, as a table: `make lighthouse`.

The site in site/ is served gzip-compressed, as GitHub Pages serves it, from 127.0.0.1; Lighthouse
(pinned in tools/lighthouse/package-lock.json, run on the Node.js in .venv) audits each page, in the
Chromium that tools/browser.py chooses, with its mobile preset (4x CPU throttling, simulated slow 4G)
`--runs` times, and the table shows the median of each score and of total blocking time and largest
contentful paint. Nothing asserts a score: the numbers depend on the machine, so read them against
the table in the same run.

    python -m tools.lighthouse   # after `make build`, `make browser` and Lighthouse's npm ci (what `make lighthouse` does)
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import os
import statistics
import tempfile
import threading
from pathlib import Path

from tools import browser, node

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "tools" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
SITE = ROOT / "site"  # `make lighthouse` builds it first
RUNS = 3
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".ipynb", ".txt"}


def pages(site: Path) -> list[str]:
    """Every page of the site, as a path under its root: '' for the home page."""
    found = sorted(p.parent.relative_to(site).as_posix() for p in site.rglob("index.html"))
    return ["" if p == "." else p + "/" for p in found]


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed when the client accepts it (as GitHub Pages does)."""

    def send_head(self):
        path = Path(self.translate_path(self.path.split("?", 1)[0]))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix not in COMPRESSED or "gzip" not in self.headers.get("Accept-Encoding", "") \
                or not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


def audit(url: str, chrome: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = dict(os.environ, CHROME_PATH=chrome)
        node.run("node", [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
                          "--only-categories=" + ",".join(CATEGORIES),
                          "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                 check=True, env=env, cwd=tmp)
        data = json.loads(report.read_text(encoding="utf-8"))
    scores = {c: data["categories"][c]["score"] for c in CATEGORIES}
    scores["tbt_ms"] = data["audits"]["total-blocking-time"]["numericValue"]
    scores["lcp_s"] = data["audits"]["largest-contentful-paint"]["numericValue"] / 1000
    return scores


def main() -> None:
    chrome = browser.chromium()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"Lighthouse, mobile preset, median of {RUNS} runs per page, site served with gzip:\n")
    print(f"{'page':<26} {'perf':>5} {'a11y':>5} {'b.p.':>5} {'seo':>5} {'TBT':>8} {'LCP':>6}")
    for page in pages(SITE):
        runs = [audit(origin + page, chrome) for _ in range(RUNS)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{page or '(home)':<26} {med['performance']:>5.2f} {med['accessibility']:>5.2f} "
              f"{med['best-practices']:>5.2f} {med['seo']:>5.2f} {med['tbt_ms']:>6.0f}ms {med['lcp_s']:>5.2f}s",
              flush=True)


if __name__ == "__main__":
    main()
