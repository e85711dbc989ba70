"""The report site and the docs as a reader sees them: headless Chromium at 1280 px.

Screenshots of the report site's index, one paper page and two docs pages are written to
``$OVERPARAM_ARTIFACTS`` (default: this test's temporary ``artifacts`` directory, printed), and every
docs page is checked for code blocks wider than their box (a horizontal scroll bar) and images that did
not load. Skipped where Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 1280

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")) or not shutil.which("chromedriver")
    or not __import__("importlib").util.find_spec("selenium"),
    reason="headless Chromium, chromedriver and selenium are needed")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WIDTH},1000", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = Path(os.environ.get("OVERPARAM_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {out}")
    return out


@pytest.fixture(scope="module")
def docs_site(docs_build):
    proc, site = docs_build  # conftest.py: the session's one docs build (test_docs.py reads it too)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return site


@pytest.fixture(scope="module")
def report_site(tmp_path_factory):
    from overparam.reproduce import reproduce

    d = tmp_path_factory.mktemp("report")
    res = reproduce(["eftekhari2021-fig4"], quick=True, store=d / "store", out=d / "out", executor="serial")
    return res.report.parent


def shoot(browser, url: str, path: Path, height: int = 1600) -> dict:
    """Load ``url`` at 1280 px, save a screenshot (``height`` px tall at most) and return what the page
    measured: code blocks that scroll sideways, images that did not load, the page's own overflow."""
    browser.set_window_size(WIDTH, 1000)
    browser.get(url)
    facts = browser.execute_script("""
        const pre = [...document.querySelectorAll('pre')].filter(p => p.scrollWidth > p.clientWidth + 1);
        // lazy images not yet loaded are incomplete, not broken
        const img = [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth === 0);
        return {overflowing_code: pre.map(p => p.textContent.slice(0, 60)),
                broken_images: img.map(i => i.getAttribute('src')),
                page_overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
                height: document.documentElement.scrollHeight};""")
    browser.set_window_size(WIDTH, min(max(int(facts["height"]), 600), height))
    browser.save_screenshot(str(path))
    return facts


def test_screenshots_at_1280px(browser, artifacts, docs_site, report_site):
    shots = {
        "site-index.png": (report_site / "index.html").as_uri(),
        "site-eftekhari2021.png": (report_site / "eftekhari2021.html").as_uri(),
        "docs-getting-started.png": (docs_site / "getting-started" / "index.html").as_uri(),
        "docs-ma2025.png": (docs_site / "ma2025" / "index.html").as_uri(),
    }
    for name, url in shots.items():
        facts = shoot(browser, url, artifacts / name)
        assert (artifacts / name).stat().st_size > 10_000, name
        assert not facts["broken_images"], (name, facts["broken_images"])
        assert not facts["overflowing_code"], (name, facts["overflowing_code"])
        assert not facts["page_overflow"], name


def test_no_docs_code_block_scrolls_sideways_at_1280px(browser, docs_site):
    pages = sorted(docs_site.rglob("index.html"))
    assert len(pages) > 10
    bad = {}
    for page in pages:
        if "api" in page.parts:
            continue  # generated API pages: signatures, not examples
        browser.get(page.as_uri())
        wide = browser.execute_script(
            "return [...document.querySelectorAll('pre')].filter(p => p.scrollWidth > p.clientWidth + 1)"
            ".map(p => p.textContent.slice(0, 60));")
        if wide:
            bad[str(page.relative_to(docs_site))] = wide
    assert not bad, bad
