"""Every internal link, anchor and asset reference in the built site resolves."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

pytestmark = pytest.mark.site

SKIP_SCHEMES = ("http:", "https:", "mailto:", "data:", "javascript:", "blob:")


class Page(HTMLParser):
    """The ids of a page and the URLs it references."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name) and (name == "id" or tag == "a"):
                self.ids.add(attrs[name])
        for name in ("href", "src"):
            value = attrs.get(name)
            if value and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.refs.append(value)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def target_file(site: Path, url_path: str) -> Path:
    path = site / unquote(url_path).lstrip("/")
    return path / "index.html" if url_path.endswith("/") or path.is_dir() else path


def test_internal_links_anchors_and_assets_resolve(site):
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    checked = 0
    for path, page in pages.items():
        base = "/" + path.relative_to(site).as_posix()
        for ref in page.refs:
            if ref.startswith(SKIP_SCHEMES) or ref.startswith("//"):
                continue
            url = urlparse(urljoin(base, ref))
            target = target_file(site, url.path)
            checked += 1
            if not target.is_file():
                broken.append(f"{base}: {ref} -> missing {target.relative_to(site)}")
            elif url.fragment and target.suffix == ".html" and url.fragment not in pages[target].ids:
                broken.append(f"{base}: {ref} -> no id {url.fragment!r} in {target.relative_to(site)}")
    for css in site.rglob("*.css"):
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if ref.startswith(SKIP_SCHEMES) or ref.startswith("#"):
                continue
            target = (css.parent / urlparse(ref).path).resolve()
            checked += 1
            if not target.is_file():
                broken.append(f"{css.relative_to(site)}: url({ref}) -> missing")
    assert checked > 200
    assert broken == []
