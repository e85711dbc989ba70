"""The report site (``<out>/site/``): built from a tiny store and output directory (one sensing run,
one figure drawn from its trace, two hand-written claims), then checked as HTML (relative links,
escaping, pairing by figure id, provenance from the store) and rendered in headless Chromium: every
``<img>`` loads, the console shows no error, and a screenshot of each page is kept as a test artifact
(``$OVERPARAM_ARTIFACTS`` or ``./test-artifacts/``).

Chromium is Debian's (``.ci/run`` installs ``chromium`` and ``chromium-driver`` when missing), driven by
Selenium with the system driver, so nothing is downloaded. Without them the browser test skips with
the reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from overparam.experiments import RunSpec, Store, run_sweep
from overparam.experiments.claims import Claim, write_claims
from overparam.papers._shared import new_figure, save
from overparam.report import write_report
from overparam.report.collect import runs_provenance
from tiny import tiny_spec

NASTY = "<script>alert('x')</script> & \"quotes\""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site for li2018 with one figure (li2018-fig1, drawn from a stored tiny run), a stray PNG that
    must not be paired, and two claims (one reads the figure; one has a revised criterion and text
    that must be escaped)."""
    root = tmp_path_factory.mktemp("site")
    store, out = Store(root / "store"), root / "out"
    spec = RunSpec.parse(tiny_spec(steps=60))
    run_sweep([spec], store)
    trace = store.load(spec.key()).trace()
    fig, (ax,) = new_figure()
    for name in ("train_error", "test_error"):
        ax.semilogy(trace["step"], trace[name], label=name)
    ax.set_xlabel("step")
    ax.legend()
    save(fig, out, "li2018-fig1")
    shutil.copyfile(out / "li2018-fig1.png", out / "li2018-stray.png")  # a prefix match, not a declared id
    claims = [
        Claim(id="li2018-claim1", paper="li2018", statement="the gap narrows as α decreases", setting="tiny",
              measured={"kendall tau": 0.9, "alphas": [1.0, 0.1]}, paper_value="qualitative",
              verdict="reproduced", figure="li2018-fig1", criterion="τ ≥ 0.6",
              versus={"test error": {"paper": "≈ 1e-1", "ours": 6.1}}, kind="experiment",
              source={"quote": "the gap between the training and test error narrows down", "section": "App. B"},
              stability={"seeds": 3, "thresholds": {"tau": [0.4, 0.8]}, "stable": True, "spread": "",
                         "verdicts": {"nominal": "reproduced"}}, sizes="d = 40, r = 1, m = 200"),
        Claim(id="li2018-claim2", paper="li2018", statement=NASTY, setting="tiny", measured={"x": 1.0},
              paper_value="1", verdict="partly reproduced", criterion="x = 1", criterion_revised="was x = 2",
              note=NASTY, kind="extension", source={"quote": NASTY, "section": "§9"}),
    ]
    write_claims(claims, out, quick=True)
    index = write_report(out, store, title="tiny report")
    assert index == out / "site" / "index.html"
    return out


def test_site_layout_links_and_escaping(site):
    s = site / "site"
    assert sorted(p.name for p in s.iterdir()) == ["figures", "index.html", "li2018.html", "style.css"]
    assert [p.name for p in (s / "figures").iterdir()] == ["li2018-fig1.png"]  # paired by id, no stray
    assert "url=site/index.html" in (site / "report.html").read_text()
    index, page = (s / "index.html").read_text(), (s / "li2018.html").read_text()
    for text in (index, page):
        assert "<script" not in text and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes" in text
        assert not re.search(r"""(src|href)=['"](https?:|//)""", text)  # nothing from the network
    assert "<img src='figures/li2018-fig1.png'" in index and "href='li2018.html#li2018-fig1'" in index
    assert "1 reproduced" in index and "1 partly reproduced" in index and "quick mode" in index
    assert "eftekhari2021" in index and "not reproduced in this output directory" in index
    assert "href='../li2018-fig1.pdf'" in page and "was x = 2" in page and "<tbody id='li2018-claim1'>" in page
    assert "test error: <b>6.1</b>" in index  # the key number against the paper's
    assert "≈ 1e-1" in page and "τ ≥ 0.6" in page
    assert "0 of " in page and "store</dt>" in page  # li2018's quick runs are not in this tiny store


def test_site_counts_paper_claims_apart_from_extensions_and_shows_provenance(site):
    index, page = ((site / "site" / n).read_text() for n in ("index.html", "li2018.html"))
    for text in (index, page):
        assert "1 paper claim</span> <span class='badge v-reproduced'>1 reproduced" in text
        assert "1 extension</span> <span class='badge v-partly-reproduced'>1 partly reproduced" in text
    assert "<th style='text-align:center'>extensions</th>" in index and "kind-extension" in index
    assert "“the gap between the training and test error narrows down” <span class='muted small'>(App. B)" in page
    assert "criterion revised after the first run: was x = 2" in page
    assert "stable over 3 data seeds and tau ∈ [0.4, 0.8]" in page
    for text in (index, page):  # each verdict says the mode and the sizes it was measured at
        assert "reproduced</span><div class='small muted at'>quick · d = 40, r = 1, m = 200</div>" in text
        assert "partly reproduced</span><div class='small muted at'>quick</div>" in text
    assert "reproduced<br>quick mode: d = 40, r = 1, m = 200 |" in (site / "claims.md").read_text()


def test_planned_papers_are_listed_as_planned(site, monkeypatch, tmp_path):
    import overparam.papers as registry
    from overparam.papers.base import Paper

    known = registry.papers()
    planned = Paper(id="zz2099", title="A <planned> paper", citation="nobody")
    monkeypatch.setattr(registry, "papers", lambda: {**known, "zz2099": planned})
    out = tmp_path / "out"
    shutil.copytree(site, out)
    index = write_report(out, Store(site.parent / "store")).read_text()
    assert "A &lt;planned&gt; paper" in index and "planned: no figures or claims yet" in index
    assert not (out / "site" / "zz2099.html").exists() and (out / "site" / "li2018.html").is_file()


def test_runs_provenance_reads_each_runs_meta(site):
    store = Store(site.parent / "store")
    spec = RunSpec.parse(tiny_spec(steps=60))
    other = RunSpec.parse(tiny_spec(steps=61))  # not stored
    prov = runs_provenance(store, [spec, spec, other])
    meta = store.load(spec.key()).meta
    assert (prov.runs, prov.stored) == (2, 1)
    assert prov.devices == ["cpu"] and prov.versions == [meta["version"]] and prov.torch == [meta["torch"]]
    assert prov.first == prov.last == meta["finished"] and sum(prov.replicas.values()) == meta["replicas"]


def _chromium():
    """(chromium, chromedriver) paths, or None with the reason."""
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/bin/chromedriver",
                                                                "/usr/lib/chromium/chromedriver") if Path(p).is_file()),
                                                  None)
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None, "selenium is not installed (pip install -e '.[test]')"
    if browser is None or driver is None:
        return None, "no chromium/chromedriver (apt-get install chromium chromium-driver; .ci/run does)"
    return (browser, driver), ""


def test_site_renders_in_headless_chromium(site):
    found, why = _chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    artifacts = Path(os.environ.get("OVERPARAM_ARTIFACTS") or "test-artifacts").resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    broken = site / "broken.html"  # the checks below must see a missing image and a console error
    broken.write_text("<!doctype html><img src='missing.png'><script>console.error('seen')</script>")
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_script_timeout(30)

    def images() -> list:
        """[src, naturalWidth] of every <img>, once each has loaded or failed."""
        driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
        return driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const imgs = [...document.images];"
            "Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => {i.onload = i.onerror = r})))"
            ".then(() => done(imgs.map(i => [i.getAttribute('src'), i.naturalWidth])));")

    try:
        driver.get(broken.resolve().as_uri())
        assert images() == [["missing.png", 0]]
        assert {e["source"] for e in driver.get_log("browser") if e["level"] == "SEVERE"} >= {"network", "console-api"}
        for page in ("index.html", "li2018.html"):
            driver.get((site / "site" / page).resolve().as_uri())
            loaded = images()
            assert loaded and all(w > 0 for _, w in loaded), f"{page}: images not loaded: {loaded}"
            sheets = driver.execute_script("return document.styleSheets.length")
            assert sheets == 1, f"{page}: style.css not loaded"
            text = driver.execute_script("return document.body.innerText")
            assert NASTY.split(" &")[0] in text  # escaped markup shows as text, never runs
            errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
            assert not errors, f"{page}: console: {json.dumps(errors)}"
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(height + 40, 8000))
            shot = artifacts / f"report-site-{page.removesuffix('.html')}.png"
            driver.save_screenshot(str(shot))
            driver.set_window_size(1280, 900)
            print(f"screenshot: {shot}")
            assert shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_every_declared_figure_says_its_setting_and_what_the_paper_reports():
    from overparam.papers import papers

    figures = [f for p in papers().values() for f in p.figures]
    assert figures and all(len(f.setting) > 40 and len(f.paper_reports) > 40 for f in figures), \
        [f.id for f in figures if not (f.setting and f.paper_reports)]
