"""The Chromium that the browser tests and `make lighthouse` drive, chosen in one place.

In order: $CHROMIUM when set (it must be an executable file, or a name on PATH); else a Chromium or
Chrome on PATH (`chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable`), passing
over snap packages (Ubuntu's `chromium-browser` is a shim that only points at the snap, and a snap's
confinement keeps Playwright's profile folder from it); else Playwright's own Chromium, if
`playwright install chromium` has put one on this machine. Nothing found is one line saying what to
do. `make browser` (`--install`) gets one when none is found: on Ubuntu (and its derivatives)
Playwright's Chromium, since apt's `chromium` there is the snap; on other systems with apt, Debian's
`chromium` (as root, or through sudo), falling back to Playwright's when apt fails.

    python -m tools.browser             # print the browser's path; exit 1 with one line if none
    python -m tools.browser --install   # the same, after getting one if none is found (`make browser`)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ADVICE = "run `make browser`, or set CHROMIUM to a Chromium or Chrome"


class NotFound(RuntimeError):
    """No browser to drive; the message is one line saying what to do."""


def is_executable(path: str | os.PathLike) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def is_snap(path: str | os.PathLike) -> bool:
    """A snap package's browser (/snap/bin/chromium is a link to /usr/bin/snap), or a script that only
    hands over to one (Ubuntu's `chromium-browser` shim)."""
    real = os.path.realpath(path)
    if str(path).startswith("/snap/") or real.startswith("/snap/") or os.path.basename(real) == "snap":
        return True
    try:
        with open(path, "rb") as file:
            head = file.read(8192)
    except OSError:
        return False
    return head.startswith(b"#!") and b"/snap/" in head


def on_path(path: str) -> str | None:
    """The first of NAMES on `path` (a PATH value) that is not a snap."""
    for name in NAMES:
        found = shutil.which(name, path=path)
        if found and not is_snap(found):
            return found
    return None


def playwright_chromium() -> str | None:
    """The Chromium that `playwright install chromium` put on this machine, if it did."""
    from playwright.sync_api import sync_playwright  # a test dependency, as `make browser` and Lighthouse are

    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no driver, or a running event loop: no Playwright Chromium to be had here
        return None
    return path if path and is_executable(path) else None


def chromium(env: Mapping[str, str] | None = None, *,
             playwright: Callable[[], str | None] = playwright_chromium) -> str:
    """The path of the browser to drive; raises NotFound with one line saying what to do."""
    env = os.environ if env is None else env
    path = env.get("PATH", os.defpath)
    chosen = env.get("CHROMIUM", "")
    if chosen:
        found = chosen if os.sep in chosen else shutil.which(chosen, path=path)
        if found and is_executable(found):
            return found
        raise NotFound(f"CHROMIUM={chosen} is not an executable file: set CHROMIUM to a Chromium or Chrome, "
                       "or unset it to let `make browser` find or get one")
    found = on_path(path) or playwright()
    if found:
        return found
    raise NotFound(f"no Chromium or Chrome found (CHROMIUM is unset, no {', '.join(NAMES)} on PATH but for "
                   f"snaps, no Playwright Chromium): {ADVICE}")


def is_ubuntu(os_release: Path = Path("/etc/os-release")) -> bool:
    """Ubuntu or a derivative (ID or ID_LIKE names ubuntu), from /etc/os-release."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    names = " ".join(fields.get(key, "").strip().strip("\"'") for key in ("ID", "ID_LIKE")).lower().split()
    return "ubuntu" in names


def install_plan(env: Mapping[str, str], *, ubuntu: bool, root: bool,
                 python: str = sys.executable) -> list[tuple[str, list[list[str]]]]:
    """What `make browser` tries, in order, when no browser is found: (what, its commands)."""
    path = env.get("PATH", os.defpath)
    playwright = ("Playwright's Chromium", [[python, "-m", "playwright", "install", "chromium"]])
    apt_get = shutil.which("apt-get", path=path)
    sudo = shutil.which("sudo", path=path)
    if ubuntu or apt_get is None or not (root or sudo):  # apt's chromium is Ubuntu's snap; or no apt to use
        return [playwright]
    as_root = [] if root else [sudo]
    debian = ("Debian's chromium (apt-get)", [
        [*as_root, apt_get, "update", "-qq"],
        [*as_root, "env", "DEBIAN_FRONTEND=noninteractive", apt_get, "install", "-y", "-qq", "chromium"],
    ])
    return [debian, playwright]


def install(env: Mapping[str, str] | None = None, *, os_release: Path = Path("/etc/os-release"),
            root: bool | None = None, run: Callable[[Sequence[str]], int] | None = None,
            playwright: Callable[[], str | None] = playwright_chromium) -> str:
    """`make browser`: the browser to drive, got first if none is found. Raises NotFound (one line)
    when CHROMIUM names no browser (installing one would hide the mistake) or nothing could be got."""
    env = os.environ if env is None else env
    try:
        return chromium(env, playwright=playwright)
    except NotFound:
        if env.get("CHROMIUM"):
            raise
    if run is None:
        def run(command: Sequence[str]) -> int:
            return subprocess.run(command, env=dict(env)).returncode
    root = os.geteuid() == 0 if root is None else root
    tried = []
    for what, commands in install_plan(env, ubuntu=is_ubuntu(os_release), root=root):
        print(f"Getting a Chromium for the browser tests: {what}", file=sys.stderr, flush=True)
        if all(run(command) == 0 for command in commands):
            try:
                return chromium(env, playwright=playwright)
            except NotFound:
                pass
        tried.append(what)
    raise NotFound(f"no Chromium could be had (tried {', then '.join(tried)}): set CHROMIUM to a Chromium or Chrome")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="get one when none is found (`make browser`)")
    args = parser.parse_args(argv)
    try:
        path = install() if args.install else chromium()
    except NotFound as error:
        print(error, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
