"""The package's shape, read from its source: no import cycles, no module past 400 lines.

The import graph is built with `ast` from every `import` statement of seqlab_spec, module-level AND inside
functions. Both count: a function-level import is still a dependency (it runs, just later), and it is exactly
how a cycle hides (pipelines/oie.py -> train.py -> resume.py -> sweep.py -> pipelines/oie.py held only because
the back edges were imported inside functions; module-level edges alone showed no cycle). Imports under
`if TYPE_CHECKING:` count too: a type-only edge still couples the two modules.

`from pkg import name` is an edge to the submodule pkg.name when there is one, else to pkg itself; importing
a submodule is not counted as importing its parent package's names (Python runs the parent's __init__ first,
but that is no dependency of the importer on the package's contents).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "seqlab_spec"
MAX_LINES = 400
# Modules allowed over the limit, each with the reason; empty today. An entry fails the test once its module is
# no longer over, so the list cannot go stale.
OVER_LIMIT: dict[str, str] = {}


def _modules() -> dict[str, tuple[Path, bool]]:
    """{dotted module name: (file, is a package __init__)} for every .py file of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _targets(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """{module: the seqlab_spec modules it imports anywhere in its source}."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, (path, is_pkg) in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(module, is_pkg, node, known):
                    while target and target not in known:  # `import a.b.name`: the module that holds name
                        target = target.rpartition(".")[0]
                    if target and target != module:
                        edges.add(target)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> ... -> a) through each module that lies on one, without repeating a cycle's set."""
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(graph):
        stack, visited = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            if start in graph.get(node, ()):
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    cycles.append([*path, start])
                break
            for nxt in sorted(graph.get(node, ()), reverse=True):
                if nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return cycles


def test_the_cycle_finder_finds_a_cycle_and_names_it() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_function_level_and_package_imports() -> None:
    graph = import_graph()
    assert "seqlab_spec.spec.root" in graph["seqlab_spec.spec"]  # `from .root import Spec` in __init__
    assert "seqlab_spec.signals.oie" in graph["seqlab_spec.signals.cache"]  # `from . import oie`
    assert "seqlab_spec.training.checkpoints" in graph["seqlab_spec.training.train"]  # inside train_resumable
    assert "seqlab_spec.spec.load" in graph["seqlab_spec.runner.resume"]  # inside resume_spec


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(
        " -> ".join(m.removeprefix("seqlab_spec.") for m in c) for c in cycles
    )


def test_no_module_over_400_lines() -> None:
    sizes = {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    over = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVER_LIMIT}
    assert not over, f"modules over {MAX_LINES} lines (split them): {over}"
    stale = [name for name in OVER_LIMIT if sizes.get(name, 0) <= MAX_LINES]
    assert not stale, f"no longer over {MAX_LINES} lines (or gone): remove from OVER_LIMIT: {stale}"
