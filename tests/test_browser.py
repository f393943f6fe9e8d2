"""The built site in a real browser (headless Chromium driven by Playwright), as a reader sees it."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.helpers import AXE, PREFIX, ROOT, SiteServer, Visit, mkdocs_build, site_pages
from tools import chapter

pytestmark = pytest.mark.site

SCREENSHOTS = ROOT / "screenshots"
CHAPTER = "chapters/convolutions/"
# Every block laid out, even those the page skips until they near the screen (content-visibility),
# and colours at their final values (Material fades them in as the theme applies; a busy machine
# would let axe read them halfway).
SHOW_ALL = "*, *::before, *::after { content-visibility: visible !important; transition: none !important; }"
# Every image on the page that is shown (not in a closed <details>, not a hidden preset) has loaded.
IMAGES_LOADED = """() => [...document.images].every(img => {
    const box = img.getBoundingClientRect();
    return (box.width === 0 && box.height === 0) || (img.complete && img.naturalWidth > 0);
})"""
IMAGES_IN_VIEW_LOADED = """() => [...document.images].every(img => {
    const box = img.getBoundingClientRect();
    return box.bottom <= 0 || box.top >= innerHeight || (box.width === 0 && box.height === 0)
        || (img.complete && img.naturalWidth > 0);
})"""
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def show_everything(visit) -> None:
    """Before a full-page screenshot: every block painted (the stylesheet's content-visibility
    skips those off screen), every lazy image loaded, nothing in flight."""
    visit.page.add_style_tag(content=SHOW_ALL)
    visit.page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
    visit.page.wait_for_function(IMAGES_LOADED, timeout=15_000)
    visit.wait_for_requests()


@pytest.fixture(scope="module")
def server(site):
    server = SiteServer(site)
    yield server
    server.close()


def wait_for_clipboard(page, code: str, what: str) -> None:
    """A copy button writes the clipboard asynchronously: wait until it holds code (a trailing line
    break aside); fail after 10 s, showing what it holds."""
    deadline = time.monotonic() + 10
    while (copied := page.evaluate("navigator.clipboard.readText()").rstrip("\n")) != code:
        assert time.monotonic() < deadline, f"{what}: the clipboard holds {copied[:200]!r}"
        page.evaluate(NEXT_FRAME)


def test_copy_buttons_copy_exactly_the_code(browser, server, site):
    blocks = [b.code for b in chapter.read(ROOT / "docs" / "chapters" / "convolutions.md").executed]
    with Visit(browser, server.base + CHAPTER, server.origin) as visit:
        page = visit.page
        buttons = page.locator(".language-python button[data-md-type='copy']")
        page.locator("details summary").first.click()  # a folded solution opens like this...
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # ...and all of them
        visit.mount_code_blocks()
        expect(buttons).to_have_count(len(blocks))  # Material sets each up as it nears the screen: waited for
        for n in [0, 1, 2, len(blocks) // 2, len(blocks) - 1]:
            buttons.nth(n).scroll_into_view_if_needed()
            buttons.nth(n).click()
            wait_for_clipboard(page, blocks[n], f"copy button {n}")
    # The notebook page's code cells are the theme's code blocks too: the same buttons copy each cell.
    notebook = json.loads((site / "notebooks" / "convolutions" / "convolutions.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    with Visit(browser, server.base + "notebooks/convolutions/", server.origin) as visit:
        buttons = visit.page.locator(".language-python button[data-md-type='copy']")
        visit.mount_code_blocks()
        expect(buttons).to_have_count(len(cells))  # Material sets each up as it nears the screen: waited for
        # Each block's copy target is its own: the theme names it after the id around the block.
        targets = visit.page.evaluate("[...document.querySelectorAll('.md-content pre[id]')].map(pre => pre.id)")
        assert len(targets) == len(set(targets)) >= len(cells)
        for n in [0, len(cells) // 2, len(cells) - 1]:
            buttons.nth(n).scroll_into_view_if_needed()
            buttons.nth(n).click()
            wait_for_clipboard(visit.page, cells[n], f"notebook cell {n}")


def test_search_finds_corr2d(browser, server):
    with Visit(browser, server.base, server.origin) as visit:
        page = visit.page
        page.locator(".md-search__input").click()
        page.keyboard.type("corr2d")
        results = page.locator(".md-search-result__list > li")
        # Results update as each letter is typed: wait for those of the whole word, not of "corr".
        page.wait_for_function("""() => { const first = document.querySelector('.md-search-result__list > li');
                                          return first && first.innerText.toLowerCase().includes('corr2d'); }""", timeout=10_000)
        assert "corr2d" in results.first.inner_text().lower()
        assert any(CHAPTER in (link or "") for link in results.locator("a").evaluate_all("els => els.map(e => e.href)"))


def lit_cells(page) -> tuple[set[str], set[str]]:
    on = set(page.locator("#receptive-field .rf-on").evaluate_all("els => els.map(e => e.id)"))
    source = set(page.locator("#receptive-field .rf-source").evaluate_all("els => els.map(e => e.id)"))
    return on, source


def ids(layer: int, rows, cols) -> set[str]:
    return {f"receptive-field-{layer}-{r}-{c}" for r in rows for c in cols}


def test_receptive_field_highlights_on_hover_and_keyboard_focus(browser, server):
    with Visit(browser, server.base + CHAPTER, server.origin) as visit:
        page = visit.page
        # As built: z and its whole field.
        assert lit_cells(page) == (ids(0, range(3), range(3)) | ids(1, range(2), range(2)), {"receptive-field-2-0-0"})
        # Hover Y[0, 1]: X rows 0-1, columns 1-2.
        page.locator("#receptive-field-1-0-1").hover()
        assert lit_cells(page) == (ids(0, range(2), range(1, 3)), {"receptive-field-1-0-1"})
        # Keyboard: focus X[2, 2], then Tab to the next cell, Y[0, 0]: X rows 0-1, columns 0-1.
        page.locator("#receptive-field-0-2-2").focus()
        assert lit_cells(page) == (set(), {"receptive-field-0-2-2"})
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "receptive-field-1-0-0"
        assert lit_cells(page) == (ids(0, range(2), range(2)), {"receptive-field-1-0-0"})


@pytest.mark.heavy
def test_every_page_loads_cleanly_and_has_no_serious_accessibility_violations(browser, published_server, published, report):
    """Every page of the site as published (under a sub-path), in the light theme at 1280 px and
    then, switched as a reader switches it (the palette toggle), in the dark theme on a 390 px phone
    (so each theme and each width is checked once), with its folds open and its code blocks set up
    (copy buttons): no console error, no failed request, no request to another host; axe-core finds
    no serious or critical violation."""
    server = published_server
    pages = site_pages(published)
    assert len(pages) >= 6
    problems, found, requests = [], [], 0
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    for path in pages:
        with Visit(browser, server.base + path, server.origin) as visit:
            visit.page.add_style_tag(content=SHOW_ALL)  # axe reads colours and boxes: settled, laid out
            if path.startswith(("chapters/", "notebooks/")):  # folded code opened, every code block set up
                visit.page.evaluate("document.querySelectorAll('.md-content details').forEach(d => { d.open = true; })")
                visit.mount_code_blocks()
            visit.page.add_script_tag(path=str(AXE))
            backgrounds = []
            for name, toggle, expected in [("light", None, "default"), ("dark, 390 px", "Switch to dark mode", "slate")]:
                if toggle:
                    visit.page.set_viewport_size({"width": 390, "height": 844})
                    visit.page.evaluate(NEXT_FRAME)  # laid out at the new width
                    visit.page.emulate_media(color_scheme="dark")
                    assert visit.page.evaluate(scheme) == "default", f"/{path}: the toggle, not the media, switches"
                    visit.page.locator(f"label[title='{toggle}']").click()
                assert visit.page.evaluate(scheme) == expected, f"/{path}"
                backgrounds.append(visit.page.evaluate("getComputedStyle(document.body).backgroundColor"))
                result = visit.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
                serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
                found += [f"/{path} ({name}): {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}" for v in serious]
                minor = [v["id"] for v in result["violations"] if v not in serious]
                report(f"axe /{path} ({name}): {len(serious)} serious or critical, {len(minor)} minor {minor}")
            assert backgrounds[0] != backgrounds[1], f"/{path}: the dark theme is drawn dark"
            requests += len(visit.requests)
            for kind, items in [("request to another host", visit.foreign), ("failed request", visit.failed),
                                ("console error", visit.errors)]:
                problems += [f"/{path}: {kind}: {item}" for item in items]
    report(f"browser: {len(pages)} pages opened, and switched to the dark theme on a phone, under {PREFIX}, {requests} requests, all to 127.0.0.1")
    assert problems == []
    assert found == []


def test_printed_markup_is_shown_as_text_and_never_runs(browser, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(
        "# Safety\n\n```python exec=\"on\" source=\"above\" result=\"text\"\n"
        "print('<script>window.pwned = true</script><b>bold?</b>')\n```\n",
        encoding="utf-8",
    )
    result = mkdocs_build(tmp_path / "site", docs, nav=["index.md"])
    assert result.returncode == 0, result.stdout + result.stderr
    server = SiteServer(tmp_path / "site")
    try:
        with Visit(browser, server.base, server.origin) as visit:
            assert visit.page.evaluate("window.pwned") is None
            assert "<script>window.pwned = true</script><b>bold?</b>" in visit.page.locator(".language-text").inner_text()
            assert visit.page.locator("article b").count() == 0
    finally:
        server.close()


def test_page_weight_and_screenshots(browser, server, site, report):
    """Report what the chapter page transfers by kind; keep it under 1 MB with no blocking font; the
    math font loads, from the site."""
    SCREENSHOTS.mkdir(exist_ok=True)
    math_font = "[...document.fonts].filter(f => f.family.replaceAll('\"', '') === 'Noto Sans Math').map(f => f.status)"
    with Visit(browser, server.base + CHAPTER, server.origin) as visit:
        page = visit.page
        # What the page loads as a reader opens it: its requests, then the math's font, which the
        # browser asks for once it lays the math out (from the site), and whatever that started.
        page.wait_for_function(f"{math_font}.join() === 'loaded'", timeout=15_000)
        visit.wait_for_requests()
        sizes: dict[str, int] = {}
        for response in visit.responses:
            kind = {"document": "HTML", "stylesheet": "CSS", "script": "JS", "font": "fonts", "image": "figures"}.get(
                response.request.resource_type, "other"
            )
            sizes[kind] = sizes.get(kind, 0) + len(response.body())
        html_text = (site / CHAPTER / "index.html").read_text(encoding="utf-8")
        inline = sum(len(m) for m in re.findall(r'<svg class="lit-figure".*?</svg>|data:image/png;base64,[^"]+', html_text, re.S))
        sizes["HTML"] -= inline
        sizes["figures"] = sizes.get("figures", 0) + inline
        total = sum(sizes.values())
        report(
            f"chapter page weight: {total / 1024:.0f} KiB in {len(visit.responses)} requests ("
            + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sorted(sizes.items()))
            + ")"
        )
        assert total < 1_000_000
        assert sizes.get("fonts", 0) > 0, "the math font is served by the site"
        blocking = page.evaluate("[...document.fonts].filter(f => f.display === 'block' || f.display === 'auto').map(f => f.family)")
        assert blocking == [], "fonts that would hide text until they load"
        show_everything(visit)
        page.screenshot(path=str(SCREENSHOTS / "chapter-light.png"), full_page=True)
    with Visit(browser, server.base + CHAPTER, server.origin, color_scheme="dark") as dark:
        assert dark.page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
        show_everything(dark)
        dark.page.screenshot(path=str(SCREENSHOTS / "chapter-dark.png"), full_page=True)


CODE_LAYOUT = """() => [...document.querySelectorAll('.md-content pre > code')].map(code => {
    const pre = code.parentElement, c = code.getBoundingClientRect(), style = getComputedStyle(code);
    const label = getComputedStyle(pre, '::before');
    const button = pre.parentElement.querySelector('.md-clipboard');
    return {first: code.textContent.split('\\n')[0], scrolls: code.scrollWidth > code.clientWidth,
            textTop: c.top + parseFloat(style.paddingTop), buttonBottom: button && button.getBoundingClientRect().bottom,
            labelLeft: label.content === 'none' ? null : pre.getBoundingClientRect().left + parseFloat(label.paddingLeft)};
})"""


@pytest.mark.heavy
def test_code_fits_at_1280_and_phones_keep_labels_and_buttons_clear(browser, server, site):
    """At 1280 px no code block of a chapter page scrolls sideways. On a 390 px phone every Output
    label starts where the text does and no copy button covers code (axe checks every page on a
    phone: test_every_page_loads_cleanly...); screenshots at 390 px in both themes."""
    chapters = [path for path in site_pages(site) if path.startswith("chapters/")]
    assert len(chapters) >= 3
    wide, crowded = [], []
    for path in chapters:
        with Visit(browser, server.base + path, server.origin, width=1280) as visit:
            visit.page.add_style_tag(content=SHOW_ALL)
            visit.page.evaluate("document.querySelectorAll('.md-content details').forEach(d => { d.open = true; })")  # folded code too
            visit.mount_code_blocks()
            for width in (1280, 390):
                visit.page.set_viewport_size({"width": width, "height": 900 if width >= 1000 else 844})
                blocks = visit.page.evaluate(CODE_LAYOUT)
                assert len(blocks) >= 4, path
                if width == 1280:
                    wide += [f"/{path}: {b['first'][:60]}" for b in blocks if b["scrolls"]]
                else:
                    text_left = visit.page.evaluate("document.querySelector('.md-content article > p').getBoundingClientRect().left")
                    for b in blocks:
                        if b["labelLeft"] is not None and b["labelLeft"] < text_left - 1:
                            crowded.append(f"/{path}: Output label at {b['labelLeft']:.0f}px, text at {text_left:.0f}px")
                        if b["buttonBottom"] is not None and b["buttonBottom"] > b["textTop"] + 1:
                            crowded.append(f"/{path}: copy button over the code of {b['first'][:40]!r}")
    assert wide == [], "code wider than its box at 1280 px"
    assert crowded == []
    SCREENSHOTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        with Visit(browser, server.base + CHAPTER, server.origin, color_scheme=scheme, width=390) as visit:
            visit.page.add_style_tag(content=SHOW_ALL)  # the same picture on every run
            visit.mount_code_blocks()  # every block set up (copy buttons), as after a reader's scrolling
            visit.page.locator(".language-text.highlight").first.scroll_into_view_if_needed()
            visit.page.evaluate("window.scrollBy(0, -300)")
            # Settled: the page has drawn two frames since the scroll (Material's scroll handlers
            # ran), and every image in view has loaded.
            visit.page.evaluate(NEXT_FRAME)
            visit.wait_for_requests()
            visit.page.wait_for_function(IMAGES_IN_VIEW_LOADED, timeout=15_000)
            visit.page.screenshot(path=str(SCREENSHOTS / f"chapter-390-{scheme}.png"))
