"""The package's import graph: layers point downward only, and no module imports itself back.

Every ``import`` and ``from ... import`` in ``monkeysim/`` is read from the source (function-
level imports included), resolved to the module it names, and checked against the layers:

    cli > experiments > plots > learn > model > _kernels > base

A module may import its own layer or any lower one; the graph must have no cycle at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monkeysim"

LAYERS = {  # package or module (without the monkeysim. prefix) → layer, lowest first
    "errors": 0, "rng": 0, "texts": 0, "alphabet": 0, "automaton": 0, "stats": 0,
    "records": 0, "version": 0,
    "_kernels": 1,
    "theory": 2, "typewriter": 2, "results": 2, "corpus": 2, "policy": 2, "reward": 2,
    "reward_model": 2, "reward_scripted": 2, "baselines": 2,
    "learn": 3,
    "plots": 4,
    "experiments": 5,
    "cli": 6,
    "__init__": 7, "__main__": 7,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_module(name: str) -> bool:
    return name in MODULES or f"{name}.__init__" in MODULES


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` (a key of MODULES) imports."""
    package = name.split(".")[:-1]  # __init__ keys already end in __init__
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("monkeysim."):
                    found.add(a.name.removeprefix("monkeysim."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "monkeysim":
                mod = node.module.removeprefix("monkeysim").removeprefix(".")
            else:
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}" if mod else a.name
                if _is_module(sub):
                    found.add(sub)
                elif mod:
                    found.add(mod)
                else:
                    found.add("__init__")
    resolved = set()
    for m in found:
        resolved.add(m if m in MODULES else f"{m}.__init__")
    return {m for m in resolved if m != name and m in MODULES}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int:
    top = name.split(".")[0]
    assert top in LAYERS, f"monkeysim.{name} has no layer: add it to LAYERS"
    return LAYERS[top]


def test_every_module_has_a_layer():
    for name in MODULES:
        _layer(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_downward(name):
    up = sorted(m for m in GRAPH[name] if _layer(m) > _layer(name))
    assert not up, f"monkeysim.{name} (layer {_layer(name)}) imports higher layers: {up}"


def test_no_import_circle():
    """Depth-first search for a back edge; the message names one circle."""
    colour = dict.fromkeys(GRAPH, 0)  # 0 new, 1 on the stack, 2 done
    stack: list[str] = []

    def visit(n):
        colour[n] = 1
        stack.append(n)
        for m in sorted(GRAPH[n]):
            if colour[m] == 1:
                circle = stack[stack.index(m):] + [m]
                pytest.fail("import circle: " + " -> ".join(circle))
            if colour[m] == 0:
                visit(m)
        stack.pop()
        colour[n] = 2

    for n in sorted(GRAPH):
        if colour[n] == 0:
            visit(n)


def test_the_scan_sees_imports():
    """The scanner is not vacuous: it finds known edges of each kind."""
    assert "learn.train" in GRAPH["cli.train"]  # function-level relative import
    assert "_kernels.policy" in GRAPH["learn.run_state"]  # from .._kernels import policy as KP
    assert "_kernels.options" in GRAPH["_kernels.typing"]  # sibling
    assert "cli.common" in GRAPH["cli.main"]
