"""The package's layout is its data flow, and no stage imports one above it.

    errors, collector, output  <  model  <  topology  <  importers  <  graph  <  rules
                       <  analysis, diff, assertions  <  capture  <  render  <  cli

(read -> check once -> model -> graph -> analyses -> findings -> renderers; docs/architecture.md).
Every ``import`` of every module is read with ``ast``, those inside functions included, so a
lazy import cannot hide a dependency that runs backwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "netseg"

LAYERS: dict[str, int] = {
    "netseg.errors": 0,
    "netseg.collector": 0,
    "netseg.output": 0,
    "netseg.model": 1,
    "netseg.topology": 2,
    "netseg.importers": 3,
    "netseg.graph": 4,
    "netseg.rules": 5,
    "netseg.analysis": 6,
    "netseg.diff": 6,
    "netseg.fix": 6,
    "netseg.assertions": 6,
    "netseg.capture": 7,
    "netseg.render": 8,
    "netseg.cli": 9,
}

# what a renderer must never call: renderers only render the results they are given
ANALYSES = {
    "analyse",
    "analyse_reachability",
    "apply_policy",
    "hardening_findings",
    "policy_allows",
    "replay",
    "segmentation_findings",
    "zone_intent",
    "zone_matrix",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if _module_name(p) != "netseg"}


def _stage(module: str) -> str | None:
    for stage in sorted(LAYERS, key=len, reverse=True):
        if module == stage or module.startswith(stage + "."):
            return stage
    return None


def _imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names imported from it) for every import of the file."""
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, ()) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = tuple(a.name for a in node.names)
            if node.module == "netseg":
                # `from netseg import topology` imports a stage; `__version__` is the root's
                for name in names:
                    target = f"netseg.{name}"
                    found.append((node.lineno, target if target in MODULES else "netseg", ()))
            else:
                found.append((node.lineno, node.module, names))
    return [f for f in found if f[1] == "netseg" or f[1].startswith("netseg.")]


def test_every_module_belongs_to_a_stage() -> None:
    assert not [m for m in MODULES if _stage(m) is None]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_stage_imports_one_above_it(module: str) -> None:
    own = _stage(module)
    assert own is not None
    upward = []
    for line, target, _names in _imports(MODULES[module]):
        if target == "netseg":
            continue  # the version string of the package root
        stage = _stage(target)
        assert stage is not None, f"{module}:{line} imports unknown {target}"
        if LAYERS[stage] > LAYERS[own]:
            upward.append(f"{MODULES[module].relative_to(REPO)}:{line}: imports {target}")
    assert not upward, "imports against the flow:\n" + "\n".join(upward)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("netseg.graph")))
def test_the_graph_is_used_through_its_public_api(module: str) -> None:
    private = [
        f"{line}: {target}"
        for line, target, _ in _imports(MODULES[module])
        if target.startswith("netseg.graph.")
    ]
    assert not private, f"{module} imports graph internals: {private}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("netseg.render")))
def test_renderers_only_render(module: str) -> None:
    called = [
        f"{line}: {target}.{name}"
        for line, target, names in _imports(MODULES[module])
        for name in names
        if name in ANALYSES
    ]
    assert not called, f"{module} runs an analysis itself: {called}"


def test_the_topology_package_does_not_know_the_rules() -> None:
    for module, path in MODULES.items():
        if module.startswith("netseg.topology"):
            assert not [t for _, t, _ in _imports(path) if t.startswith("netseg.rules")], module


def _module_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports: lazy imports inside functions and the
    type checker's (``if TYPE_CHECKING:``) included, as both are dependencies."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES}


def test_no_module_imports_itself_back() -> None:
    """No import cycle between modules (reach.py and select.py had one, hidden in a function
    and behind TYPE_CHECKING). A package's ``__init__`` counts as the package's modules."""
    graph = {m: _module_imports(p) - {m} for m, p in MODULES.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                dfs(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m)
