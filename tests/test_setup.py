"""Set-up needs only Python and make: Node.js comes from .venv, and the workflow installs no other;
a CPU torch when the CPU index is asked for, or a one-line failure; every failure of set-up fails it;
and one resolver (tools/browser.py) picks the browser that the tests and Lighthouse drive."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests import helpers
from tests.helpers import ROOT
from tools import browser, node


def test_node_comes_from_the_project_environment(tmp_path):
    """`node` and `npm` are the project's, whatever PATH holds: a failing `node` first on PATH is never called."""
    shim = tmp_path / "node"
    shim.write_text("#!/bin/sh\nexit 97\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    script = "console.log(process.execPath + ' ' + process.version)"
    where, version = node.run("node", ["-e", script], capture_output=True, text=True, check=True, env=env).stdout.split()
    assert Path(where).resolve().is_relative_to(Path(sys.prefix).resolve()) and version.startswith("v2")
    assert node.run("npm", ["--version"], capture_output=True, text=True, check=True, env=env).stdout.strip()


def test_the_workflow_needs_no_node_and_sets_no_global_index():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8"))
    uses = [step.get("uses", "") for job in flow["jobs"].values() for step in job["steps"]]
    assert not any("setup-node" in u for u in uses)
    assert "PIP_EXTRA_INDEX_URL" not in flow["env"], "a global extra index slows every package lookup"


def test_the_workflow_runs_ci_run_and_keeps_uvs_cache():
    """The Pages workflow runs `.ci/run` (its failing system node and npm included), and uv's cache,
    keyed on the pins, is restored into the folder the test step gives uv."""
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8"))
    steps = flow["jobs"]["test"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs[0] == "bash .ci/run" and "make test" not in runs
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
    assert re.fullmatch(r"actions/cache@[0-9a-f]{40}", cache["uses"])
    assert "hashFiles('constraints.txt', 'pyproject.toml')" in cache["with"]["key"]
    test = next(step for step in steps if step.get("run") == "bash .ci/run")
    assert steps.index(cache) < steps.index(test) and test["env"]["UV_CACHE_DIR"] == cache["with"]["path"]


# Torch: the CPU build when the CPU index is asked for ---------------------------------------------

CPU_INDEX = "TORCH_INDEX=https://download.pytorch.org/whl/cpu"


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, **env})


def fake_torch(folder: Path, cuda: str | None, requires: tuple[str, ...] = ()) -> Path:
    """A torch distribution that reports CUDA `cuda` in torch/version.py, as a CUDA wheel from PyPI does."""
    (folder / "torch").mkdir(parents=True)
    (folder / "torch" / "version.py").write_text(f"__version__ = '2.13.0'\ncuda = {cuda!r}\n", encoding="utf-8")
    info = folder / "torch-2.13.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0\n"
                                   + "".join(f"Requires-Dist: {r}\n" for r in requires), encoding="utf-8")
    return folder


def test_setup_checks_torch_right_after_installing_it_when_the_cpu_index_is_asked_for():
    def steps(*variables: str) -> list[str]:
        dry = make("-n", "-W", "constraints.txt", ".venv/.installed", *variables)
        assert dry.returncode == 0, dry.stderr
        return dry.stdout.splitlines()

    lines = steps(CPU_INDEX)
    torch_step = next(i for i, line in enumerate(lines) if line.endswith(" torch") and " pip install " in line)
    assert "CPU_TORCH_CHECK" in lines[torch_step + 1] and "pip uninstall --quiet --yes torch" in lines[torch_step + 1]
    assert lines[torch_step + 2].endswith(" uv"), "checked before uv could fetch CUDA libraries"
    assert not any("CPU_TORCH_CHECK" in line for line in steps("TORCH_INDEX="))


def test_a_cuda_torch_fails_the_check_in_one_line(tmp_path):
    cuda = fake_torch(tmp_path / "cuda", "12.8", ('nvidia-cublas-cu12==12.8.4.1; platform_system == "Linux"',))
    result = make("-s", "check-cpu-torch", CPU_INDEX, f"PY={sys.executable}", PYTHONPATH=str(cuda))
    assert result.returncode != 0 and result.stdout == ""
    message = result.stderr.splitlines()[0]
    assert "torch 2.13.0 built for CUDA 12.8 (nvidia-cublas-cu12)" in message
    assert "https://download.pytorch.org/whl/cpu could not be reached or was ignored" in message
    assert "`make setup TORCH_INDEX=`" in message
    libraries_only = fake_torch(tmp_path / "libraries", None,
                                ("nvidia-cudnn-cu12", "filelock", 'optree; extra == "optree"'))
    result = make("-s", "check-cpu-torch", CPU_INDEX, f"PY={sys.executable}", PYTHONPATH=str(libraries_only))
    assert result.returncode != 0 and "built with CUDA libraries (nvidia-cudnn-cu12)" in result.stderr
    version_only = fake_torch(tmp_path / "version", "12.6")
    result = make("-s", "check-cpu-torch", CPU_INDEX, f"PY={sys.executable}", PYTHONPATH=str(version_only))
    assert result.returncode != 0 and "torch 2.13.0 built for CUDA 12.6, not the CPU build" in result.stderr
    assert make("-s", "check-cpu-torch", "TORCH_INDEX=", f"PY={sys.executable}", PYTHONPATH=str(cuda)).returncode == 0


def test_a_cpu_torch_passes_the_check(tmp_path):
    import torch

    if torch.version.cuda is not None:
        pytest.skip("this environment's torch is a CUDA build, set up with TORCH_INDEX=")
    result = make("-s", "check-cpu-torch", CPU_INDEX, f"PY={sys.executable}")
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr
    plain = fake_torch(tmp_path / "cpu", None, ("filelock", "sympy>=1.13.3", 'optree>=0.13.0; extra == "optree"'))
    assert make("-s", "check-cpu-torch", CPU_INDEX, f"PY={sys.executable}", PYTHONPATH=str(plain)).returncode == 0


def test_compileall_passes_over_exactly_the_torch_file_this_python_cannot_compile():
    """No `|| true` in set-up: compileall leaves out torch's one file in Python 3.12 syntax, by a
    pattern that matches that file alone, so any other file that fails to compile fails set-up."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert not re.search(r"\|\|\s*(true|:)\s*$", makefile, re.M)
    pattern = re.search(r"^TORCH_PY312 := (.+)$", makefile, re.M)[1].replace("$$", "$")
    assert "compileall -q -q -j 0 -x '$(TORCH_PY312)'" in makefile
    torch = Path(sysconfig.get_path("purelib")) / "torch"
    matched = [p for p in torch.rglob("*.py") if re.search(pattern, str(p))]
    assert [p.relative_to(torch).as_posix() for p in matched] == ["testing/_internal/py312_intrinsics.py"]
    if sys.version_info < (3, 12):
        with pytest.raises(SyntaxError):
            compile(matched[0].read_bytes(), str(matched[0]), "exec")


# The browser: one resolver for the tests, Lighthouse and `make browser` ----------------------------


def executable(folder: Path, name: str, body: str = "#!/bin/sh\nexit 0\n") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


SNAP_SHIM = ("#!/bin/sh\nif ! [ -x /snap/bin/chromium ]; then echo requires the chromium snap >&2; exit 1; fi\n"
             'exec /snap/bin/chromium "$@"\n')  # as Ubuntu's chromium-browser package installs it


def no_playwright():
    return None


def test_chromium_set_must_be_an_executable(tmp_path):
    chrome = executable(tmp_path / "opt", "chrome")
    on_path = executable(tmp_path / "bin", "chromium")
    path = str(tmp_path / "bin")
    assert browser.chromium({"CHROMIUM": chrome, "PATH": path}, playwright=no_playwright) == chrome
    assert browser.chromium({"CHROMIUM": "chromium", "PATH": path}, playwright=no_playwright) == on_path
    (tmp_path / "opt" / "plain").write_text("", encoding="utf-8")
    for wrong in (str(tmp_path / "opt" / "plain"), str(tmp_path / "missing"), str(tmp_path / "opt")):
        with pytest.raises(browser.NotFound, match=f"^CHROMIUM={re.escape(wrong)} is not an executable file"):
            browser.chromium({"CHROMIUM": wrong, "PATH": path}, playwright=lambda: "/never/asked")


def test_chromium_on_path_in_order_passing_over_ubuntus_snap_shim(tmp_path):
    folder = tmp_path / "bin"
    chrome = executable(folder, "google-chrome-stable")
    env = {"PATH": f"{tmp_path / 'empty'}{os.pathsep}{folder}"}
    assert browser.chromium(env, playwright=no_playwright) == chrome
    assert browser.chromium(env, playwright=lambda: "/playwright/chrome") == chrome, "PATH before Playwright's"
    chrome = executable(folder, "google-chrome")
    assert browser.chromium(env, playwright=no_playwright) == chrome
    executable(folder, "chromium-browser", SNAP_SHIM)
    assert browser.chromium(env, playwright=no_playwright) == chrome, "the snap shim is no browser"
    (folder / "chromium").symlink_to(executable(tmp_path / "usr", "snap"))  # as /snap/bin/chromium is
    assert browser.chromium(env, playwright=no_playwright) == chrome, "nor is a snap's browser"
    (folder / "chromium").unlink()
    chromium_browser = executable(folder, "chromium-browser")
    assert browser.chromium(env, playwright=no_playwright) == chromium_browser
    chromium = executable(folder, "chromium")
    assert browser.chromium(env, playwright=no_playwright) == chromium


def test_playwrights_chromium_last_then_one_line_saying_what_to_do(tmp_path):
    executable(tmp_path / "bin", "chromium-browser", SNAP_SHIM)
    (tmp_path / "bin" / "chromium").write_text("not executable", encoding="utf-8")
    env = {"PATH": str(tmp_path / "bin")}
    assert browser.chromium(env, playwright=lambda: "/playwright/chrome") == "/playwright/chrome"
    with pytest.raises(browser.NotFound) as error:
        browser.chromium(env, playwright=no_playwright)
    assert "\n" not in str(error.value) and str(error.value).endswith(
        "run `make browser`, or set CHROMIUM to a Chromium or Chrome")


def test_the_tests_and_lighthouse_use_the_resolver():
    try:
        assert helpers.CHROMIUM == browser.chromium() and helpers.NO_CHROMIUM == ""
    except browser.NotFound as error:
        assert helpers.CHROMIUM is None and helpers.NO_CHROMIUM == str(error)
    for source in ("tests/helpers.py", "tools/lighthouse.py", "Makefile"):
        assert "/usr/bin/chromium" not in (ROOT / source).read_text(encoding="utf-8"), source
    assert "browser.chromium()" in (ROOT / "tools" / "lighthouse.py").read_text(encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tools.browser"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "CHROMIUM": "/no/such/chrome"})
    assert result.returncode == 1 and result.stderr.startswith("CHROMIUM=/no/such/chrome is not an executable file")


class Machine:
    """`make browser` on a made-up machine: its os-release, PATH and user; commands are recorded (by
    program name) and fail when they hold a word of `failing`; a successful apt install puts a
    chromium on PATH, a successful `playwright install chromium` makes Playwright's exist."""

    def __init__(self, folder: Path, os_id: str, tools: tuple[str, ...], root: bool = True,
                 failing: tuple[str, ...] = ()) -> None:
        self.bin = folder / "bin"
        for tool in tools:
            executable(self.bin, tool)
        self.os_release = folder / "os-release"
        folder.mkdir(parents=True, exist_ok=True)
        self.os_release.write_text(os_id, encoding="utf-8")
        self.env = {"PATH": str(self.bin)}
        self.root, self.failing, self.ran, self.installed = root, failing, [], None

    def run(self, command) -> int:
        self.ran.append([Path(part).name if os.sep in part else part for part in command])
        if any(word in command for word in self.failing):
            return 100
        if self.ran[-1][-2:] == ["install", "chromium"] and "playwright" in command:
            self.installed = "/playwright/chromium"
        elif "apt-get" in self.ran[-1] and command[-1] == "chromium":
            executable(self.bin, "chromium")
        return 0

    def install(self) -> str:
        return browser.install(self.env, os_release=self.os_release, root=self.root, run=self.run,
                               playwright=lambda: self.installed)


PLAYWRIGHT = ["python", "-m", "playwright", "install", "chromium"]


def test_make_browser_on_ubuntu_gets_playwrights_chromium_never_apts_snap(tmp_path):
    for n, os_id in enumerate(('ID=ubuntu\nID_LIKE=debian\n', 'ID=linuxmint\nID_LIKE="ubuntu debian"\n')):
        machine = Machine(tmp_path / str(n), os_id, ("apt-get", "sudo"), root=False)
        assert machine.install() == "/playwright/chromium"
        assert [command[1:] for command in machine.ran] == [PLAYWRIGHT[1:]]


def test_make_browser_on_debian_uses_apt_as_root_or_with_sudo_and_falls_back_to_playwright(tmp_path):
    machine = Machine(tmp_path / "root", 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n', ("apt-get",))
    assert machine.install() == str(machine.bin / "chromium")
    assert machine.ran == [["apt-get", "update", "-qq"],
                           ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "chromium"]]

    user = Machine(tmp_path / "user", "ID=debian\n", ("apt-get", "sudo"), root=False,
                   failing=("DEBIAN_FRONTEND=noninteractive",))  # apt-get install fails
    assert user.install() == "/playwright/chromium"
    assert [c[:2] for c in user.ran[:2]] == [["sudo", "apt-get"], ["sudo", "env"]]
    assert user.ran[2][1:] == PLAYWRIGHT[1:], "apt failed: Playwright's Chromium instead"

    no_sudo = Machine(tmp_path / "nosudo", "ID=debian\n", ("apt-get",), root=False)
    assert no_sudo.install() == "/playwright/chromium" and len(no_sudo.ran) == 1


def test_make_browser_says_to_set_chromium_when_nothing_works(tmp_path):
    machine = Machine(tmp_path, "ID=debian\n", ("apt-get",), failing=("update", "playwright"))
    with pytest.raises(browser.NotFound) as error:
        machine.install()
    message = str(error.value)
    assert "\n" not in message and message.endswith("set CHROMIUM to a Chromium or Chrome")
    assert "(tried Debian's chromium (apt-get), then Playwright's Chromium)" in message
    wrong = Machine(tmp_path / "wrong", "ID=ubuntu\n", ())
    wrong.env["CHROMIUM"] = "/no/such/chrome"
    with pytest.raises(browser.NotFound, match="^CHROMIUM=/no/such/chrome"):
        wrong.install()
    assert wrong.ran == [], "a wrong CHROMIUM is reported, not papered over by an install"
    found = Machine(tmp_path / "found", "ID=debian\n", ("apt-get", "chromium"))
    assert found.install() == str(found.bin / "chromium") and found.ran == []
