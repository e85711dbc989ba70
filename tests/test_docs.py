"""The documentation site builds with ``mkdocs build --strict`` (every warning an error: broken
links, docstrings griffe cannot parse, a missing snippet), and its key pages exist."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _load_hook():
    spec = importlib.util.spec_from_file_location("griffe_rest", ROOT / "docs" / "_hooks" / "griffe_rest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mkdocs_build_strict(docs_build):
    proc, site = docs_build  # conftest.py: the session's one `mkdocs build --strict`
    assert proc.returncode == 0, proc.stderr[-4000:]
    for page in ["index.html", "getting-started/index.html", "concepts/index.html", "li2018/index.html",
                 "ma2025/index.html", "howto/add-metric/index.html", "howto/add-paper/index.html",
                 "examples/index.html", "cli-reference/index.html", "api/run/index.html",
                 "api/store/index.html", "api/papers/index.html"]:
        assert (site / page).is_file(), page
    cli = (site / "cli-reference" / "index.html").read_text()
    for command in ["reproduce", "results", "report", "--quick", "--store"]:
        assert command in cli, command          # generated from the Typer app
    run_page = (site / "api" / "run" / "index.html").read_text()
    assert 'id="overparam.run.run"' in run_page and "target_train_error" in run_page
    howto = (site / "howto" / "add-metric" / "index.html").read_text()
    assert "PathLength" in howto and "--8&lt;--" not in howto   # the example's code, included from examples/
    algorithms = (site / "api" / "algorithms" / "index.html").read_text()
    assert 'href="#overparam.algorithms.base.Step"' in algorithms   # a :class: role became a link
    assert ":class:" not in algorithms and "<table>" in algorithms   # roles and reST tables rendered


def test_rest_docstrings_become_markdown():
    """The griffe extension's three rewrites, on text (no griffe objects needed for tables and ::)."""
    hook = _load_hook()
    table = ("A table:\n\n=====  =====\nname   what\n=====  =====\n``a``  one\n       more\nlonger_name two\n"
             "=====  =====\n\nAfter.")
    md = hook.tables_to_markdown(table)
    assert "| name | what |" in md and "| --- | --- |" in md
    assert "| ``a`` | one more |" in md                 # a continuation line joins its row
    assert "| longer_name | two |" in md                # a word that overflows its column stays whole
    assert md.endswith("\n\nAfter.")
    assert hook.literal_markers("In TOML::\n\n    x = 1\n") == "In TOML:\n\n    x = 1\n"
    assert "::" not in hook.literal_markers("::\n\n    x\n")


def test_rest_roles_become_cross_references(tmp_path):
    """Roles resolve like Python names seen from the object: member, module, relative, explicit title;
    an unknown target stays code (no link, no warning)."""
    import griffe

    hook = _load_hook()
    pkg = tmp_path / "demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""See :mod:`.sub`."""\n')
    (pkg / "sub.py").write_text('class A:\n    """Doc."""\n\n    def f(self):\n        """Doc."""\n')
    demo = griffe.load("demo", search_paths=[str(tmp_path)])
    A = demo["sub.A"]
    text = ("Use :meth:`f`, :class:`~demo.sub.A`, :meth:`the method\n<demo.sub.A.f>`, :func:`A.f()` "
            "and :class:`nowhere.X`.")
    out = hook.roles_to_refs(A, text)
    assert '<autoref identifier="demo.sub.A.f" optional><code>f</code></autoref>' in out
    assert '<autoref identifier="demo.sub.A" optional><code>A</code></autoref>' in out
    assert '<autoref identifier="demo.sub.A.f" optional><code>the method</code></autoref>' in out
    assert '<autoref identifier="demo.sub.A.f" optional><code>A.f()</code></autoref>' in out
    assert "<code>nowhere.X</code>" in out and "nowhere.X</autoref>" not in out and ":class:" not in out
    assert 'identifier="demo.sub"' in hook.roles_to_refs(demo, demo.docstring.value)


def test_every_paper_page_shows_every_figure_of_its_paper():
    """docs/<id>.md shows each figure's quick-mode PNG (docs/figures/quick/, drawn by
    docs/_hooks/figures.py), beside the page's description."""
    from overparam.papers import papers

    docs = Path(__file__).resolve().parents[1] / "docs"
    for paper in papers().values():
        if not paper.implemented:
            continue
        page = (docs / f"{paper.id}.md").read_text()
        for f in paper.figures:
            assert f"](figures/quick/{f.id}.png)" in page, (paper.id, f.id)
            assert (docs / "figures" / "quick" / f"{f.id}.png").is_file(), f.id


def test_no_docs_page_cites_a_path_outside_the_repository():
    docs = Path(__file__).resolve().parents[1] / "docs"
    for page in docs.rglob("*.md"):
        text = page.read_text()
        assert "shared/" not in text and not re.search(r"notes-\d{3}\.md", text), page.name
