"""The package's import graph: no cycles, and the core imports no paper and no study.

The graph is read from the source (``ast``), every ``import`` statement included — module level and
function-local alike, because a function-local import that closes a cycle is still a cycle, only a
hidden one. An edge ``a → b`` means module ``a`` names module ``b`` in an import (``from .x import
y`` is an edge to ``x``, or to ``x.y`` when ``y`` is a submodule). Parent packages are not added as
edges only from outside them: importing ``overparam.a.b`` runs ``overparam/a/__init__.py``, so a
module outside ``overparam.a`` that imports ``overparam.a.b`` also has an edge to ``overparam.a`` (the
root package ``overparam``, the package face, is left out: every module is inside it).

Layers (``docs/architecture.md``, DESIGN.md "Dependency rules"), bottom to top: base → model →
algorithms → loop → recipes → experiments → papers, studies, baselines → cli, report. The *core* is
everything below the paper layer; it must not import ``overparam.papers`` or ``overparam.studies``:
a paper's names are registered when its namespace is first looked up (``registry``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "overparam"

#: Modules (or packages, with everything below them) above the core: they may import papers/studies.
TOP = ("overparam.papers", "overparam.studies", "overparam.cli", "overparam.cli_support", "overparam.catalog",
       "overparam.report", "overparam.reproduce", "overparam.drawcheck", "overparam.bench", "overparam.__main__")
#: Modules of the paper layer that may import papers/studies besides the top ones — none: a study does
#: not import a paper and a paper does not import a study (both import the core only).
PAPER_LAYER = ("overparam.papers", "overparam.studies")

#: The layers, bottom to top (DESIGN.md "Dependency rules"), as module prefixes; the longest prefix
#: decides. A module imports only from its own layer or below.
LAYERS = {
    "base": ("overparam._types", "overparam._version", "overparam.errors", "overparam.backend", "overparam.lanes",
             "overparam.registry", "overparam.settings", "overparam.result", "overparam.schedule", "overparam.figstyle",
             "overparam.figcheck"),
    "model": ("overparam.operators", "overparam.losses", "overparam.problems", "overparam.params", "overparam.init",
              "overparam.regularizers", "overparam.objective", "overparam.spectral"),
    "algorithms": ("overparam.algorithms",),
    "loop": ("overparam.run", "overparam.metrics", "overparam.stops", "overparam.recording",
             "overparam.engines", "overparam.snapshot"),
    "recipes": ("overparam.recipes",),
    "experiments": ("overparam.experiments",),
    "papers": ("overparam.papers", "overparam.studies", "overparam.baselines"),
    "top": ("overparam", "overparam.cli", "overparam.cli_support", "overparam.catalog", "overparam.report",
            "overparam.reproduce", "overparam.drawcheck", "overparam.bench", "overparam.__main__"),
}
#: Arrows up the layers allowed for now, as (importing module prefix, imported module prefix).
KNOWN_UPWARD: list[tuple[str, str]] = []

#: Cycles allowed for now, as the set of modules in the strongly connected component.
KNOWN_CYCLES: list[set[str]] = []


def module_files() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / PKG).rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(mod: str, files: dict[str, Path]) -> bool:
    return files[mod].name == "__init__.py"


def imports_of(mod: str, files: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """``(target module, line, function-local)`` for every import of ``mod`` that names a module of
    the package."""
    tree = ast.parse(files[mod].read_text(), filename=str(files[mod]))
    package = mod if _is_package(mod, files) else mod.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name == PKG or alias.name.startswith(PKG + "."):
                        found.append((_nearest(alias.name, files), child.lineno, local))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if not (target == PKG or target.startswith(PKG + ".")):
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in files else _nearest(target, files), child.lineno, local))
            visit(child, inner)

    visit(tree, False)
    return [(t, line, local) for t, line, local in found if t != mod]


def _nearest(name: str, files: dict[str, Path]) -> str:
    while name not in files and "." in name:
        name = name.rpartition(".")[0]
    return name


def with_parents(mod: str, target: str) -> set[str]:
    """``target`` and the packages above it (below the root) that ``mod`` is not inside."""
    out = {target}
    parts = target.split(".")
    for i in range(2, len(parts)):
        pkg = ".".join(parts[:i])
        if not (mod == pkg or mod.startswith(pkg + ".")):
            out.add(pkg)
    return out


def graph() -> dict[str, set[str]]:
    files = module_files()
    return {m: set().union(*(with_parents(m, t) for t, _, _ in imports_of(m, files))) - {m} for m in files}


def cycles(g: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(g):
        if v not in index:
            strong(v)
    return out


def _under(mod: str, prefixes: tuple[str, ...]) -> bool:
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read():
    g = graph()
    assert "overparam.run" in g and "overparam.registry" in g["overparam.metrics"]
    assert len(g) > 100


def test_no_import_cycle():
    found = [c for c in cycles(graph()) if c not in KNOWN_CYCLES]
    assert not found, "import cycles: " + "; ".join(" ⇄ ".join(sorted(c)) for c in found)


def test_known_cycles_still_exist():
    """An exception that no longer exists is deleted from KNOWN_CYCLES (so it cannot hide a new one)."""
    found = cycles(graph())
    assert all(c in found for c in KNOWN_CYCLES), "a known cycle is gone: delete it from KNOWN_CYCLES"


def layer_of(mod: str) -> str:
    best = ("", "")
    for name, prefixes in LAYERS.items():
        for p in prefixes:
            if (mod == p or mod.startswith(p + ".")) and len(p) > len(best[1]):
                best = (name, p)
    assert best[0], f"{mod} is in no layer: add it to LAYERS"
    return best[0]


def test_every_import_goes_down_the_layers():
    files = module_files()
    order = list(LAYERS)
    bad = []
    for mod in files:
        for target, line, _ in imports_of(mod, files):
            if order.index(layer_of(target)) > order.index(layer_of(mod)) and \
                    not any(_under(mod, (a,)) and _under(target, (b,)) for a, b in KNOWN_UPWARD):
                bad.append(f"{mod}:{line} ({layer_of(mod)}) imports {target} ({layer_of(target)})")
    assert not bad, "imports up the layers:\n" + "\n".join(bad)


def test_core_imports_no_paper_and_no_study():
    files = module_files()
    bad = []
    for mod in files:
        if _under(mod, TOP):
            continue
        for target, line, _ in imports_of(mod, files):
            if _under(target, PAPER_LAYER):
                bad.append(f"{mod}:{line} imports {target}")
    assert not bad, "core modules import papers/studies:\n" + "\n".join(bad)


def test_papers_and_studies_do_not_import_each_other():
    files = module_files()
    bad = []
    for mod in files:
        for own, other in (("overparam.papers", "overparam.studies"), ("overparam.studies", "overparam.papers")):
            if _under(mod, (own,)):
                bad += [f"{mod}:{line} imports {t}" for t, line, _ in imports_of(mod, files) if _under(t, (other,))]
    assert not bad, "\n".join(bad)


CORE_IMPORTS = ["import overparam", "import overparam.registry", "import overparam.experiments.store",
                "import overparam.experiments.computations"]


def test_importing_the_core_loads_no_paper():
    """Each statement, in one fresh interpreter, one after the other: none loads a module under
    ``overparam.papers`` or ``overparam.studies`` (a later import only adds modules, so checking after each
    one names the statement that loaded a paper)."""
    code = ("import sys\n"
            f"for stmt in {CORE_IMPORTS!r}:\n"
            "    exec(stmt)\n"
            "    bad = sorted(m for m in sys.modules if m.startswith(('overparam.papers', 'overparam.studies')))\n"
            "    print(stmt + ': ' + ' '.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(SRC)})
    lines = out.stdout.strip().splitlines()
    assert lines == [f"{stmt}: " for stmt in CORE_IMPORTS] or [ln.rstrip() for ln in lines] == [
        f"{stmt}:" for stmt in CORE_IMPORTS], out.stdout


if __name__ == "__main__":  # measurements: cycles and function-local imports
    files = module_files()
    g = graph()
    local = [(m, t, line) for m in files for t, line, loc in imports_of(m, files) if loc]
    print(f"modules {len(files)}, edges {sum(len(v) for v in g.values())}")
    cs = cycles(g)
    print(f"cycles (strongly connected components) {len(cs)}")
    for c in cs:
        print("  ", " ".join(sorted(c)))
    print(f"function-local imports of package modules: {len(local)} in {len({m for m, _, _ in local})} files")


def _fresh(code: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SRC)})


def test_the_command_line_starts_without_torch_or_papers():
    """``overparam --help`` imports the command line only: no torch, no paper, no study (each command
    imports what it needs when it runs)."""
    out = _fresh("import sys, overparam.cli; "
                 "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('overparam.papers', "
                 "'overparam.studies', 'overparam.experiments.'))))")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_reproduce_and_run_are_callable_from_the_face(tmp_path):
    """``op.reproduce(...)`` and ``op.run(...)`` work from ``import overparam as op`` whether or not the
    submodules were imported before; reaching ``op.reproduce`` imports no paper until it is called."""
    code = f"""
import sys
import overparam as op
import overparam.experiments.execute  # imports overparam.run first: the attribute is the module
assert callable(op.reproduce) and callable(op.run)
assert not [m for m in sys.modules if m.startswith('overparam.papers.')], 'papers loaded before the call'
try:
    op.reproduce(['no-such-target'], quick=True, store={str(tmp_path / 's')!r}, out={str(tmp_path / 'o')!r})
except op.experiments.SpecError as exc:
    print('refused:', str(exc).split(';')[0])
prob = op.problems.matrix_sensing(d=5, r=1, m=20, data_seed=0)
res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.01), init=op.init.scaled_identity(alpha=0.1), steps=3)
print(res.trace.columns['step'][-1])
"""
    out = _fresh(code)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "refused: target 'no-such-target': unknown" in out.stdout
    assert out.stdout.split()[-1] == "3"


def test_every_core_module_that_registers_is_reached_from_the_builtins():
    """The registry imports ``registry.BUILTIN_MODULES`` on the first lookup that misses: every core
    module with a registration must be imported by one of them, or its names would be unknown to a
    process that imported something else first."""
    files = module_files()
    registering = sorted(m for m, path in files.items()
                         if not _under(m, TOP) and m != "overparam.registry"
                         and ("@register(" in path.read_text() or "@metric(" in path.read_text()))
    out = _fresh("import sys; from overparam import registry; registry.load_builtins(); "
                 "print(' '.join(sorted(m for m in sys.modules if m.startswith('overparam'))))")
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(out.stdout.split())
    assert registering and not [m for m in registering if m not in loaded]
