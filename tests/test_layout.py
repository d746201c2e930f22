"""The shape of the house: no import cycles among the product's modules (lazy imports
count; ``if TYPE_CHECKING`` ones do not), the benchmarks stay out of the packages, and
every module that does something has its own test module where tests/ mirrors it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from project import ROOT

PACKAGES = {"lumen_core": ROOT / "lumen_core", "lumen_client": ROOT / "lumen_client", "lumen_host": ROOT / "host"}


def find_modules(packages: dict[str, Path]) -> dict[str, Path]:
    """Dotted name -> file, for every module (C extensions by their stub)."""
    out = {}
    for name, folder in packages.items():
        for path in [*folder.rglob("*.py"), *folder.rglob("*.pyi")]:
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.setdefault(".".join(parts), path)
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports, wherever in the file (a function's lazy
    import is still a dependency), except under ``if TYPE_CHECKING``."""
    if path.suffix == ".pyi":
        return set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(m for a in child.names if (m := owner(a.name)))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                for alias in child.names:  # ``from . import video``: the submodule, not the package
                    m = f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else owner(target)
                    if m:
                        found.add(m)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def import_graph(packages: dict[str, Path]) -> dict[str, set[str]]:
    known = find_modules(packages)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_no_import_cycles() -> None:
    graph = import_graph(PACKAGES)
    assert len(graph) > 80, "the walk found the packages"
    assert "lumen_client.session" in graph["lumen_client.wiring"]
    assert cycles(graph) == []


def test_the_check_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nfrom . import a\n"
                              "if TYPE_CHECKING:\n    from .d import x\n")
    (pkg / "d.py").write_text("from .c import g\n")
    graph = import_graph({"pkg": pkg})
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]  # d -> c only: no cycle through TYPE_CHECKING


def test_benchmarks_are_not_packaged() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packaged = set(setuptools["packages"]) | set(setuptools["package-dir"].values())
    assert not {p for p in packaged if p.split(".")[0] in ("bench", "benchmarks", "tests")}
    assert not list(ROOT.glob("lumen_*/bench*.py")) and not (ROOT / "host" / "bench.py").exists()


def test_every_benchmark_starts() -> None:
    """Each bench script imports what it needs and parses its own command line: run
    from the checkout, they have no other test to notice a moved helper."""
    scripts = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")
    runs = {name: subprocess.Popen([sys.executable, "-m", f"bench.{name}", "--help"], cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for name in scripts}
    failed = {}
    for name, proc in runs.items():
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0 or "usage:" not in out:
            failed[name] = out.strip().splitlines()[-1:]
    assert len(scripts) >= 6 and not failed, failed


# Folders of the checkout -> where their tests live (host/ is packaged as lumen_host).
TESTED = {"lumen_core": ROOT / "lumen_core", "lumen_client": ROOT / "lumen_client", "host": ROOT / "host"}


def does_something(path: Path) -> bool:
    """A module with a function, or a class with a method: data and re-exports are not."""
    tree = ast.parse(path.read_text(), str(path))
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return any(isinstance(node, functions) or (isinstance(node, ast.ClassDef) and any(
        isinstance(item, functions) for item in node.body)) for node in tree.body)


def mirror_of(folder: str, path: Path) -> Path:
    """lumen_core/video/header.py -> tests/lumen_core/video/test_header.py; a package's
    own code (decode/__init__.py) -> tests/lumen_client/decode/test_decode.py."""
    relative = path.relative_to(ROOT / folder)
    name = relative.parent.name or folder if relative.stem == "__init__" else relative.stem
    return ROOT / "tests" / folder / relative.parent / f"test_{name}.py"


def missing_test_modules() -> list[str]:
    return sorted(str(mirror_of(folder, path).relative_to(ROOT)) for folder, root in TESTED.items()
                  for path in root.rglob("*.py") if does_something(path) and not mirror_of(folder, path).exists())


def test_every_module_has_its_test_module() -> None:
    assert mirror_of("lumen_client", ROOT / "lumen_client/decode/__init__.py").name == "test_decode.py"
    assert missing_test_modules() == []


def test_every_test_module_is_named_for_a_module() -> None:
    """The other way round: a test module under a package's folder tests a module of it."""
    expected = {mirror_of(folder, path) for folder, root in TESTED.items() for path in root.rglob("*.py")}
    strays = [str(test.relative_to(ROOT)) for folder in TESTED
              for test in (ROOT / "tests" / folder).rglob("test_*.py") if test not in expected]
    assert strays == []
