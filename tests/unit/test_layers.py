"""The package plan, checked: every import goes down the layers below, and no two folders import each other.

Imports anywhere in a module count, function-local ones included, so a cycle cannot hide inside a function.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from geulpi_tasks.settings import PROJECT_ROOT

# Lowest first. A unit may import its own layer's units and any layer below, never one above.
LAYERS: list[tuple[str, ...]] = [
    ("geulpi_tasks.errors", "geulpi_tasks.settings", "geulpi_tasks.schemas", "geulpi_tasks.redis_urls",
     "geulpi_tasks.json_documents", "geulpi_tasks.fast_json", "geulpi_tasks.process_heap", "geulpi_tasks.observability",
     "geulpi_tasks.background_queue"),
    ("geulpi_tasks.features", "geulpi_tasks.data"),
    ("geulpi_tasks.models",),
    ("geulpi_tasks.optimization",),
    ("geulpi_tasks.registry",),
    ("geulpi_tasks.monitoring", "geulpi_tasks.experiments", "geulpi_tasks.analyses", "geulpi_tasks.idempotency",
     "geulpi_tasks.shadow"),
    ("geulpi_tasks.feedback", "geulpi_tasks.inference"),
    # approval records audit entries (privacy) and reads shadow summaries, so it sits above both.
    ("geulpi_tasks.privacy", "geulpi_tasks.backup", "geulpi_tasks.approval"),
    ("geulpi_tasks.training",),
    ("geulpi_tasks.tools",),
    ("geulpi_tasks.cli",),
    ("workers.task_names",),
    ("celeryconfig",),
    ("workers", "beat_schedule"),
    ("api",),
]
ROOTS = ("geulpi_tasks", "api", "workers")
TOP_MODULES = ("celeryconfig.py", "beat_schedule.py")


def _unit(module: str) -> str | None:
    """The longest unit of LAYERS that ``module`` belongs to (None: outside the project)."""
    best = None
    for layer in LAYERS:
        for unit in layer:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best)):
                best = unit
    return best


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _imports() -> dict[str, set[str]]:
    """Project module → the project modules it imports (anywhere in its body)."""
    files = [p for root in ROOTS for p in (PROJECT_ROOT / root).rglob("*.py")]
    files += [PROJECT_ROOT / name for name in TOP_MODULES]
    graph: dict[str, set[str]] = defaultdict(set)
    for path in files:
        module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            graph[module].update(n for n in names if _unit(n) is not None)
    return graph



def test_every_module_belongs_to_a_layer():
    missing = sorted(m for m in _imports() if _unit(m) is None)
    assert missing == []


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for module, targets in _imports().items():
        src = _unit(module)
        assert src is not None
        for target in targets:
            dst = _unit(target)
            assert dst is not None
            if _layer(dst) > _layer(src):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_two_units_import_each_other_even_indirectly():
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        src = _unit(module)
        for target in targets:
            dst = _unit(target)
            if src and dst and src != dst:
                edges[src].add(dst)
    cycles = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for nxt in sorted(edges[unit]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{unit} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[unit] = 2

    for unit in sorted(edges):
        if unit not in state:
            visit(unit, [unit])
    assert cycles == []


def test_the_checker_sees_a_planted_upward_import(tmp_path: Path):
    # The walk must read function-local imports: a models module reaching into training is caught.
    tree = ast.parse("def f():\n    from geulpi_tasks.training.job import run_training_job\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert _layer(_unit(node.module)) > _layer(_unit("geulpi_tasks.models.runtime"))  # type: ignore[arg-type]
