"""The simulator package's import graph: no cycles between its modules, and never product code.

Every ``import`` statement counts, wherever it is (module level, inside a function, under
``TYPE_CHECKING``): a deferred import still ties two modules together.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "sandbox" / "cko_sim"
PACKAGE = "cko_sim"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imported_names(path: Path, module: str, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Absolute names of every module ``path`` imports.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module in ``known``, else
    as importing ``pkg`` itself (the attribute comes from ``pkg/__init__``).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.add(submodule if submodule in known else base)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in _imported_names(path, name, set(modules)) if t in modules and t != name}
        graph[name] = targets
    return graph


def test_the_walker_sees_the_whole_package() -> None:
    graph = _graph()
    assert {"cko_sim", "cko_sim.core", "cko_sim.simulator", "cko_sim.api", "cko_sim.models.state"} <= set(graph)
    # edges include deferred and TYPE_CHECKING imports
    assert "cko_sim.core" in graph["cko_sim.api"]
    assert "cko_sim.app" in graph["cko_sim.simulator"]


def test_a_cycle_would_be_caught() -> None:
    sorter = graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}})
    with pytest.raises(graphlib.CycleError):
        sorter.prepare()


def test_no_import_cycles_between_simulator_modules() -> None:
    graph = _graph()
    # the package's own __init__ re-exports everything; submodules must not import it back
    importers_of_package = sorted(name for name, targets in graph.items() if PACKAGE in targets)
    assert importers_of_package == []
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:  # pragma: no cover - the failure message is the point
        pytest.fail(f"import cycle in cko_sim: {' -> '.join(err.args[1])}")


def test_simulator_never_imports_product_code() -> None:
    offenders: list[str] = []
    for name, path in _modules().items():
        for target in _imported_names(path, name):
            top = target.split(".")[0]
            if top.startswith("qpay"):
                offenders.append(f"{name} imports {target}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = getattr(func, "attr", None) or getattr(func, "id", None)
                if called in ("import_module", "__import__"):
                    offenders.append(f"{name} imports dynamically (line {node.lineno})")
    assert offenders == []
