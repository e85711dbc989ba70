"""The README promises two commands; CI must run the test one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    test_cmd = next(b for b in blocks if "pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines()


def test_readme_main_command_reproduces_in_quick_mode():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    main_cmd = next(b for b in blocks if "reproduce" in b)
    assert "overparam reproduce --quick" in main_cmd and "torch==2.13.0" in main_cmd


def test_getting_started_shows_the_readme_two_commands_from_one_source():
    """docs/getting-started.md includes the README's "Two commands" section (pymdownx.snippets), so the
    docs and the README cannot disagree (they did: the docs installed `-e .` where the README installs
    `-e ".[convex]"`)."""
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- --8<-- [start:two-commands] -->", "<!-- --8<-- [end:two-commands] -->"
    section = readme[readme.index(start):readme.index(end)]
    assert _bash_blocks(section) == [b for b in _bash_blocks(readme) if "reproduce --quick" in b or "pytest" in b][:2]
    page = (ROOT / "docs" / "getting-started.md").read_text()
    two = page[page.index("## Two commands"):page.index("\n## ", page.index("## Two commands") + 3)]
    assert '--8<-- "README.md:two-commands"' in two
    assert not _bash_blocks(two), "the docs' Two commands must come from the README only"
