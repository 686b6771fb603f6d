"""The package's folders import in one direction (docs/ARCHITECTURE.md).

Every import in ``fewshot_nsl/`` — at module level or inside a function — is read from the source with ``ast``,
resolved to the folder it names, and checked against the folder order below: a folder may import itself and
folders of a lower rank only, so there is no cycle between folders and a newcomer can read the tree bottom-up.
Folders of the same rank (training and evaluation) are siblings and do not import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fewshot_nsl"

#: folder -> rank, bottom-up
RANKS: Dict[str, int] = {
    "core": 0,
    "layers": 1,
    "backbones": 2,
    "data": 3,
    "episodes": 4,
    "methods": 5,
    "runtime": 6,
    "training": 7,
    "evaluation": 7,
    "experiments": 8,
    "cli": 9,
}

#: top-level modules that may import anything (lazily): the package's public face and ``python -m``
ENTRY_MODULES = {"__init__.py", "__main__.py"}


def _folder_of(path: Path) -> Optional[str]:
    """``fewshot_nsl/<folder>/...`` -> folder; a top-level module -> None."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _imported_modules(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute dotted module) of every import of a ``fewshot_nsl`` module in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package_parts = ["fewshot_nsl", *path.relative_to(PACKAGE).parent.parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fewshot_nsl":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "fewshot_nsl":
                continue
            if module == "fewshot_nsl" or (node.module is None and node.level):
                # ``from .. import backbones``: each name is a module of that package
                for alias in node.names:
                    yield node.lineno, f"{module}.{alias.name}"
            else:
                yield node.lineno, module


def _target_folder(module: str) -> Optional[str]:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    candidate = parts[1]
    return candidate if (PACKAGE / candidate).is_dir() else None


def _edges() -> List[Tuple[str, str, str]]:
    """(source folder, target folder, 'file:line') for every import that crosses folders."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _folder_of(path)
        if source is None:
            continue
        for line, module in _imported_modules(path):
            target = _target_folder(module)
            if target is not None and target != source:
                edges.append((source, target, f"{path.relative_to(PACKAGE.parent)}:{line}"))
    return edges


def test_every_folder_has_a_rank():
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert [f for f in folders if f not in RANKS] == [], "add the new folder to RANKS and docs/ARCHITECTURE.md"
    assert [f for f in RANKS if f not in folders] == [], "a folder in RANKS no longer exists"


def test_imports_run_down_the_folder_order():
    wrong = [f"{where}: {source} (rank {RANKS[source]}) imports {target} (rank {RANKS[target]})"
             for source, target, where in _edges() if RANKS[target] >= RANKS[source]]
    assert wrong == []


def test_no_cycle_between_folders():
    graph: Dict[str, set] = {}
    for source, target, _ in _edges():
        graph.setdefault(source, set()).add(target)
    state: Dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node: str, trail: List[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import cycle between folders: " + " -> ".join(trail + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The reader itself: a function-level relative import is found and resolved (so the rules cannot pass
    vacuously)."""
    trainer = PACKAGE / "training" / "trainer.py"
    found = {module for _, module in _imported_modules(trainer)}
    assert any(m.startswith("fewshot_nsl.runtime") for m in found)
    assert _target_folder("fewshot_nsl.evaluation.evaluator") == "evaluation"
    edges = _edges()
    assert len(edges) > 30 and {s for s, _, _ in edges} >= {"training", "evaluation", "cli", "methods"}


def test_top_level_modules_are_only_entry_points():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert [m for m in modules if m not in ENTRY_MODULES] == [], "put library code in a folder of RANKS"
