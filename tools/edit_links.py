""""Edit this page" links from REPO_URL (and REPO_BRANCH), pointing at the chapters' Markdown.

Only edit_uri is set: a repo_url would make the theme fetch repository statistics from GitHub's
API on every page, a request to another host. Without REPO_URL there are no edit links.
"""

from __future__ import annotations

import os


def configure(config) -> None:
    repo = os.environ.get("REPO_URL", "").strip().rstrip("/")
    branch = os.environ.get("REPO_BRANCH", "main").strip() or "main"
    config.repo_url = None
    docs = os.path.relpath(config.docs_dir, os.path.dirname(config.config_file_path)).replace(os.sep, "/")
    config.edit_uri = f"{repo}/edit/{branch}/{docs}/" if repo else None
