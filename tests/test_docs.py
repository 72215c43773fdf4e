"""The documentation site, built as `make docs` builds it and opened from disk in Debian's Chromium (Playwright):
every page has a title and logs no error, every internal link resolves, the search finds what a reader looks for,
and the interactive plotly figure draws."""
import os, shutil, subprocess, sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "_docs"
REQUIRED = os.environ.get("DLTH_REQUIRE_BROWSER", "") not in ("", "0")   # CI: the browser tests may not be skipped

try: import playwright.sync_api as pw
except ImportError:
    if REQUIRED: raise
    pytest.skip("playwright is missing: `make venv` installs it", allow_module_level=True)
if not Path(CHROMIUM).exists():
    if REQUIRED: pytest.fail(f"{CHROMIUM} is missing and DLTH_REQUIRE_BROWSER is set", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing: sudo apt-get install chromium", allow_module_level=True)


NPM_NEEDED = not (REPO / "_proc" / "vendor" / "iframe-worker-shim.js").exists()   # the search's shim, fetched once
if NPM_NEEDED and shutil.which("npm") is None:
    why = "npm is missing: `make docs` fetches the search's file:// shim (iframe-worker) with it (sudo apt-get install npm)"
    if REQUIRED: pytest.fail(why + " -- and DLTH_REQUIRE_BROWSER is set", pytrace=False)
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def site():
    "The site, built from the notebooks now (as `make docs` does)."
    subprocess.run([sys.executable, str(REPO / "nbs" / "build_docs.py")], check=True, cwd=REPO)
    pages = sorted(p for p in SITE.rglob("*.html") if p.name != "404.html")
    assert len(pages) >= 25, f"only {len(pages)} pages were built"
    return pages


@pytest.fixture(scope="module")
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser, path: Path, width: int = 1300):
    "A page opened from disk, with what it logged: JS errors, console errors and requests that failed (the network)."
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"


def _broken_links(page_path: Path, hrefs: list[str]) -> list[str]:
    "The page's internal links whose file is not in the site."
    broken = []
    for href in hrefs:
        url = urlparse(href)
        if url.scheme or href.startswith(("#", "mailto:")) or not url.path: continue
        target = (page_path.parent / unquote(url.path)).resolve()
        if not target.exists(): broken.append(href)
    return broken


def test_every_page_has_a_title_no_error_and_no_broken_link(site, browser):
    failures = []
    for path in site:
        page, problems = _open(browser, path)
        title, h1 = page.title(), page.locator("h1").first.inner_text() if page.locator("h1").count() else ""
        if not title.strip() or not h1.strip(): problems.append(f"no title ({title!r}) or h1 ({h1!r})")
        problems += [f"broken link {href}" for href in _broken_links(path, page.evaluate(LINKS))]
        if problems: failures.append(f"{path.relative_to(SITE)}: {problems[:5]}")
        page.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("query, expected_page", [("instability", "04d_lmc.html"), ("load_ticket", "04c_tickets.html")])
def test_search_finds(site, browser, query, expected_page):
    "The search box, working from file:// (no server), lists the page that documents the name."
    page, problems = _open(browser, SITE / "index.html")
    page.fill("input.md-search__input", query)
    page.wait_for_function("q => Array.from(document.querySelectorAll('.md-search-result__item'))"
                           ".some(e => e.innerText.toLowerCase().includes(q.toLowerCase()))", arg=query, timeout=20_000)
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('.md-search-result__item a')).map(a => a.getAttribute('href'))")
    assert any(expected_page in h for h in hrefs), f"searching {query!r} lists {hrefs[:10]}, not {expected_page}"
    assert not problems, problems


def test_plotly_figure_draws(site, browser):
    "The accuracy figure committed as plotly JSON draws interactively on the index page (plotly.js from the site)."
    page, problems = _open(browser, SITE / "index.html")
    page.wait_for_function("() => document.querySelector('.plotly-figure .main-svg') !== null", timeout=20_000)
    traces = page.evaluate("() => document.querySelector('.plotly-figure').data.length")
    assert traces >= 2 and not problems, (traces, problems)
    if os.environ.get("DLTH_DOCS_SCREENSHOTS"):        # desktop and laptop widths of three pages, for a person to look at
        out = Path(os.environ["DLTH_DOCS_SCREENSHOTS"]); out.mkdir(parents=True, exist_ok=True)
        for name in ("index", "02_prune", "tutorials/quickstart"):
            for width in (1400, 1024):
                shot, _ = _open(browser, SITE / f"{name}.html", width)
                shot.screenshot(path=str(out / f"{name.replace('/', '-')}-{width}.png"))
                shot.close()
