"""The layer rule and the light commands, checked on the source and in fresh processes.

- ``solvers`` and ``learners`` import none of engine, pydantic, yaml, xarray, netCDF4, matplotlib;
- ``engine/spec`` imports nothing above it; the core (``engine/*.py``, ``engine/spec``) imports no kind;
- no import circle among the modules of ``engine``, ``solvers`` and ``learners``, counting every import
  statement (also those inside functions, so that none dodges a circle), except ``TYPE_CHECKING`` ones;
- ``engine list``, ``new``, ``validate``, ``schema`` and ``reference`` load no torch, numba, xarray,
  matplotlib or dask.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "solvers", "learners")
HEAVY = ("torch", "numba", "xarray", "matplotlib", "dask")


def _modules() -> dict[str, Path]:
    """Every module of the three packages: dotted name -> file."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    """The project modules that ``name`` imports anywhere in its file (not under ``if TYPE_CHECKING``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # a submodule named in the import, else the module itself
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in graph:
        if v not in index:
            connect(v)
    return out


def test_the_import_graph_sees_the_project():
    assert len(MODULES) > 60
    assert "engine.kind" in GRAPH["engine.runtime"] and "engine.spec.errors" in GRAPH["engine.spec.loader"]


def test_no_import_circle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_spec_package_is_a_leaf_and_the_core_imports_no_kind():
    for name, deps in GRAPH.items():
        if name.startswith("engine.spec"):
            assert all(d.startswith("engine.spec") for d in deps), (name, deps)
        if name.startswith("engine") and not name.startswith("engine.kinds"):
            assert not any(d.startswith("engine.kinds") for d in deps), (name, deps)


def test_solvers_and_learners_import_no_engine_in_the_source():
    for name, deps in GRAPH.items():
        if name.startswith(("solvers", "learners")):
            assert not any(d.startswith("engine") for d in deps), (name, deps)


def _loaded_after(code: str) -> list[str]:
    """Top-level modules (of those watched) loaded by ``code`` in a fresh interpreter."""
    watch = ["engine", "pydantic", "yaml", "xarray", "netCDF4", "matplotlib", *HEAVY]
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({watch!r}))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_solver_and_learner_module_loads_no_engine_nor_io_nor_plots():
    """numba imports yaml itself (for its optional config file): the check counts what our modules add
    after numba and torch are loaded."""
    names = [m.name for p in ("solvers", "learners") for m in pkgutil.walk_packages([str(ROOT / p)], p + ".")]
    assert len(names) > 20
    forbidden = ["engine", "pydantic", "yaml", "xarray", "netCDF4", "matplotlib"]
    code = ("import importlib, json, sys\nimport numba, torch\nbefore = set(sys.modules)\n"
            + "".join(f"importlib.import_module({n!r})\n" for n in names)
            + f"print(json.dumps(sorted({{m.split('.')[0] for m in set(sys.modules) - before}} & set({forbidden!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


SPEC_DIRS = sorted(p.name for p in (ROOT / "specs").iterdir() if p.is_dir())
COMMANDS = [[["list"]], [["new", "bgk"], ["schema", "moire_exciton"]], [["reference"]],
            *([["validate", str(spec.relative_to(ROOT))] for spec in sorted((ROOT / "specs" / d).glob("*.yaml"))]
              for d in SPEC_DIRS)]


@pytest.mark.parametrize("commands", COMMANDS, ids=lambda cmds: "; ".join(" ".join(c[:2]) for c in cmds)[:60])
def test_commands_that_read_specs_load_no_numerics(commands):
    code = "import contextlib, io\nfrom engine.cli import main\n" + "".join(
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({argv!r}) == 0\n" for argv in commands)
    assert not set(_loaded_after(code)) & set(HEAVY)


def test_show_loads_no_numerics_nor_xarray(cli, write_spec, tmp_path):
    assert cli("run", write_spec("kind: toy_decay\nname: t\n"), "--executor", "serial", "--quiet").code == 0
    path = tmp_path / "outputs" / "t" / "result.nc"
    code = ("import contextlib, io\nfrom engine.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['show', {str(path)!r}]) == 0")
    assert not set(_loaded_after(code)) & set(HEAVY)
