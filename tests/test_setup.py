"""Set-up needs only Python and make: Node.js comes from .venv, torch's CPU build by default on Linux."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT
from tools import node

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def test_node_comes_from_the_project_environment():
    executable = Path(node.executable())
    assert executable.is_relative_to(Path(sys.prefix).resolve()) or executable.is_relative_to(Path(sys.prefix))
    version = subprocess.run(node.command("node", ["--version"]), capture_output=True, text=True, check=True).stdout
    assert version.startswith("v2")
    assert str(executable.parent) == node.environment()["PATH"].split(":")[0]


def dry_run_setup(*variables: str) -> list[str]:
    """The install commands `make` would run to set up .venv (a dry run, as if constraints.txt had
    changed): pip's for torch and uv, then uv's for the rest."""
    result = subprocess.run(["make", "-n", "-W", "constraints.txt", ".venv/.installed", *variables], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return [line for line in result.stdout.replace("\\\n", " ").splitlines() if " pip install " in line]


@pytest.mark.skipif(platform.system() != "Linux", reason="the CPU index is the default on Linux only")
def test_torch_alone_comes_from_the_cpu_index_by_default_on_linux():
    torch_step, uv_step, project_step = dry_run_setup()
    assert f"--extra-index-url {CPU_INDEX}" in torch_step and torch_step.split()[-1] == "torch"
    assert "--retries 1" in torch_step, "an unreachable index may cost little time"
    assert uv_step.split()[-1] == "uv" and "uv pip install" in project_step
    assert all("-c constraints.txt" in step for step in (torch_step, uv_step, project_step)), "every step takes the pins"
    assert "index-url" not in uv_step + project_step, "only the torch step asks the PyTorch index"
    assert all("index-url" not in step for step in dry_run_setup("TORCH_INDEX="))


def test_the_workflow_needs_no_node_and_sets_no_global_index():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8"))
    uses = [step.get("uses", "") for job in flow["jobs"].values() for step in job["steps"]]
    assert not any("setup-node" in u for u in uses)
    assert "PIP_EXTRA_INDEX_URL" not in flow["env"], "a global extra index slows every package lookup"
