"""The import rule of docs/architecture.md, checked over the source tree with `ast`.

The core (`hotline/`, but for the module packages in it and the composition root) names
no module; a module imports the core and itself, and another module only where
`MODULE_DEPENDENCIES` says so; nothing imports in a circle. Every import counts: at the
top of a file, inside a function, under `TYPE_CHECKING`, and `importlib.import_module`
with a literal name, because each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.root import MODULES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hotline", "channels", "dispatch")
# May name the modules: the wiring and the `hotline` command.
COMPOSITION = frozenset({"hotline.root", "hotline.cli", "hotline.__main__"})
# The module packages: those of the module list, so a new module is governed from its first line.
MODULE_PACKAGES = tuple(m.package for m in MODULES)
# A module that needs another says so here (and in docs/architecture.md); prefer a port in the core.
# reports → telephony: the call KPIs read telephony's `calls` table (its models, nothing else).
MODULE_DEPENDENCIES: dict[str, frozenset[str]] = {"hotline.reports": frozenset({"hotline.telephony"})}


# ---------------------------------------------------------------- the graph

def source_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "versions" in parts or parts[-1].startswith("0"):  # Alembic revisions import only alembic
                continue
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, tree: ast.Module, known: Mapping[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from pkg import sub` depends on the submodule when there is one.
            wanted += [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            wanted.append(node.args[0].value)
    found = set()
    for imported in wanted:
        target = imported
        while target and target not in known:  # a name inside a module: the module
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    known = source_modules(root, packages)
    return {name: _imported(name, path, ast.parse(path.read_text(encoding="utf-8")), known)
            for name, path in known.items()}


def layer(name: str, modules: Iterable[str] = MODULE_PACKAGES) -> str:
    """The module package a source module belongs to, 'composition', or 'core'."""
    if name in COMPOSITION:
        return "composition"
    for package in sorted(modules, key=len, reverse=True):
        if name == package or name.startswith(package + "."):
            return package
    return "core"


def rule_breaks(graph: Mapping[str, set[str]], modules: Iterable[str] = MODULE_PACKAGES,
                allowed: Mapping[str, frozenset[str]] = MODULE_DEPENDENCIES) -> list[str]:
    modules = tuple(modules)
    out = []
    for importer, targets in sorted(graph.items()):
        a = layer(importer, modules)
        for target in sorted(targets):
            b = layer(target, modules)
            if a == "composition" or b in ("core", a):
                continue
            if b == "composition":
                out.append(f"{importer} -> {target}: only the `hotline` command uses the composition root")
            elif a == "core":
                out.append(f"{importer} -> {target}: the core names no module; add a port to the core instead")
            elif b not in allowed.get(a, frozenset()):
                out.append(f"{importer} -> {target}: module {a} may not import module {b} (MODULE_DEPENDENCIES)")
    return out


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


# ---------------------------------------------------------------- the rule, on this tree

def test_the_core_names_no_module_and_modules_name_no_other() -> None:
    assert rule_breaks(import_graph()) == []


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_each_module_is_a_package_with_its_module_py() -> None:
    assert {"channels", "dispatch", "hotline.telephony"} <= set(MODULE_PACKAGES)
    for m in MODULES:
        assert (ROOT / m.package.replace(".", "/") / "module.py").is_file(), m.name
        assert m.install.__module__ == f"{m.package}.module", m.name


def test_every_module_py_is_in_the_module_list() -> None:
    """A feature folder with a `module.py` but no line in `hotline.root.MODULES` would be
    counted as core (free to be imported by the core, never installed)."""
    declared = {str(p.parent.relative_to(ROOT)).replace("/", ".") for package in PACKAGES
                for p in (ROOT / package).rglob("module.py")} - {"hotline"}  # hotline/module.py: the interface
    assert declared == set(MODULE_PACKAGES)


def test_module_dependencies_name_modules_and_go_one_way() -> None:
    """What MODULE_DEPENDENCIES allows stays a tree: no module needs one that needs it."""
    names = set(MODULE_PACKAGES)
    assert all(a in names and deps <= names - {a} for a, deps in MODULE_DEPENDENCIES.items())
    assert cycles({a: set(deps) for a, deps in MODULE_DEPENDENCIES.items()}) == []


# ---------------------------------------------------------------- the checker itself

def _tree(tmp_path: Path, files: Mapping[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(tmp_path)


def test_a_core_import_of_a_module_is_caught(tmp_path: Path) -> None:
    graph = _tree(tmp_path, {
        "hotline/__init__.py": "", "hotline/intake.py": "def f():\n    from dispatch.sla import deadlines\n",
        "hotline/telephony/__init__.py": "", "hotline/telephony/api.py": "from hotline import intake\n",
        "hotline/web.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hotline.telephony import api\n",
        "channels/__init__.py": "", "channels/sms.py": "import importlib\nimportlib.import_module('dispatch.sla')\n",
        "dispatch/__init__.py": "", "dispatch/sla.py": "from . import __name__ as n\n",
    })
    assert rule_breaks(graph, allowed={}) == [
        "channels.sms -> dispatch.sla: module channels may not import module dispatch (MODULE_DEPENDENCIES)",
        "hotline.intake -> dispatch.sla: the core names no module; add a port to the core instead",
        "hotline.web -> hotline.telephony.api: the core names no module; add a port to the core instead",
    ]
    assert rule_breaks(graph, allowed={"channels": frozenset({"dispatch"})})[0].startswith("hotline.intake")


def test_a_circle_is_caught(tmp_path: Path) -> None:
    graph = _tree(tmp_path, {
        "hotline/__init__.py": "", "hotline/a.py": "from hotline.b import x\n",
        "hotline/b.py": "def f():\n    import hotline.c\n", "hotline/c.py": "from .a import y\n",
        "hotline/d.py": "from hotline import a\n",
    })
    assert cycles(graph) == [["hotline.a", "hotline.b", "hotline.c"]]
