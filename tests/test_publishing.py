"""Publishing: the Pages workflow (checked offline), SITE_URL and REPO_URL, the site under a sub-path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import PUBLISHED, ROOT, Visit

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
BIN = Path(sys.executable).parent


# The workflow ------------------------------------------------------------------------------------


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_matches_githubs_schema():
    result = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_when_pedantic():
    result = subprocess.run([BIN / "zizmor", "--offline", "--persona=pedantic", "--format=json", WORKFLOW],
                            capture_output=True, text=True)
    findings = json.loads(result.stdout or "[]")
    high = [f["ident"] for f in findings if f["determinations"]["severity"] in ("High", "Medium")]
    assert high == [], findings
    assert findings == [], [f["ident"] for f in findings]


def test_workflow_runs_the_readmes_test_and_publishes_with_least_privilege():
    flow = workflow()
    triggers = flow[True]  # YAML reads the key `on` as True
    assert set(triggers) == {"push", "pull_request"}
    assert flow["permissions"] == {"contents": "read"}
    test, deploy = flow["jobs"]["test"], flow["jobs"]["deploy"]
    assert "permissions" not in test
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    runs = [step.get("run") for step in test["steps"] if "run" in step]
    assert "bash .ci/run" in runs and (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    assert "make build" in runs
    report = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert report["with"]["path"] == "build/execution-report.*"  # where tools/report.py writes it
    uses = [step["uses"] for job in flow["jobs"].values() for step in job["steps"] if "uses" in step]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    checkout = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    python = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip" and python["with"]["cache-dependency-path"] == "constraints.txt"
    assert "SITE_URL" in flow["env"] and "REPO_URL" in flow["env"]
    assert flow["env"]["CACHE"] == "off", "the published site is a fresh execution, never the build cache"


def test_every_action_is_pinned_to_a_commit_with_its_version_named():
    """zizmor (above) checks the pins; this, that each names the version it pins, for the reader."""
    lines = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line


# The published site --------------------------------------------------------------------------------


@pytest.mark.site
def test_edit_links_only_with_a_repository(published, site):
    edit = PUBLISHED["REPO_URL"] + "/edit/main/docs/"
    for page, source in [("chapters/convolutions/", "chapters/convolutions.md"), ("", "index.md"),
                         ("notebooks/convolutions/", "chapters/convolutions.md")]:
        html = (published / page / "index.html").read_text(encoding="utf-8")
        assert f'<a href="{edit}{source}" title="Edit this page"' in html, page
    for page in site.rglob("*.html"):
        assert 'rel="edit"' not in page.read_text(encoding="utf-8"), page


@pytest.mark.site
def test_the_published_site_works_under_its_sub_path(published_server, browser):
    """Figures, the notebook download and the 404 page under the sub-path (every page's requests and
    console are checked under it by the accessibility test of test_browser.py)."""
    server = published_server
    with Visit(browser, server.base + "chapters/convolutions/", server.origin) as chapter:
        assert chapter.page.locator("svg.lit-figure").count() == 5
        photos = chapter.page.locator("img.lit-photo:visible")  # the playground shows one preset at a time
        assert photos.count() == 3 + 2
        for n in range(photos.count()):  # loaded lazily: each one as it comes into view
            photos.nth(n).scroll_into_view_if_needed()
            chapter.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photos.nth(n).element_handle())

    with Visit(browser, server.base + "notebooks/convolutions/", server.origin) as notebook:
        link = notebook.page.locator("a[download]")
        href = link.evaluate("a => a.href")
        assert href == server.base + "notebooks/convolutions/convolutions.ipynb"
        cells = notebook.page.evaluate("url => fetch(url).then(r => r.ok ? r.json() : null).then(nb => nb && nb.cells.length)", href)
        assert cells and cells > 20

    with Visit(browser, server.base + "no/such/page/", server.origin) as missing:
        assert [f for f in missing.failed if "no/such/page" not in f] == []  # only the page itself is a 404
        assert len(missing.errors) <= 1 and all("404" in e for e in missing.errors)  # the browser logs that 404
        assert "Page not found" in missing.page.locator("h1").inner_text()
        missing.page.locator("text=Go to the home page").click()
        missing.page.wait_for_load_state()
        assert missing.page.url == server.base
