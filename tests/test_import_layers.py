"""The package's imports run one way: no module imports itself round a circle, and no layer imports
one above it (io/data → models → sampling → metrics → scan → survey/training → cli/app).

Every import counts, module-level or inside a function, so a lazy import cannot hide a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import radioviz

ROOT = Path(radioviz.__file__).parent
#: Layers bottom to top; a package may import its own layer and those below.
LAYERS = [
    {"errors", "validate", "display", "io", "data", "simulate"},
    {"models"},
    {"sampling", "toy"},
    {"metrics"},
    {"scan"},
    {"survey", "training"},
    {"cli", "app"},
]


def module_names() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = ("radioviz", *p.relative_to(ROOT).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t.startswith("radioviz") and t != name:
                found.add(t)
    return found


def import_graph() -> dict[str, set[str]]:
    known = module_names()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return next((k for k, names in enumerate(LAYERS) if top in names), -1)


def test_the_graph_sees_lazy_imports():
    """The walk finds an import written inside a function (metrics.evaluate's of the segmenter)."""
    assert "radioviz.models.segmenter" in import_graph()["radioviz.metrics.evaluate"]


def test_no_import_circle():
    """No circle among the package's modules, the app's included."""
    assert cycles(import_graph()) == []


def test_the_circle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_package_has_a_layer():
    tops = {m.split(".")[1] for m in module_names() if "." in m}
    assert tops <= set().union(*LAYERS), tops - set().union(*LAYERS)


def test_layers_import_one_way():
    upward = sorted(
        f"{a} -> {b}"
        for a, targets in import_graph().items()
        for b in targets
        if "." in a and "." in b and layer_of(b) > layer_of(a)
    )
    assert upward == []
