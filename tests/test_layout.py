"""The house rules of the package's layout (CONTRIBUTING.md), checked on the source itself:

- no import cycle among the package's modules (counting every import, also one inside a function);
- the package's own modules are imported at the top of a module, never inside a function;
- TensorFlow and Keras are imported in one place only (``kuzushi_core/lazy.py``);
- no module imports another module's private (``_``-prefixed) names;
- no module over ~500 lines without a ``Size:`` note in its docstring saying why.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kuzushi_core"
MAX_LINES = 520


def modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def own_imports(tree: ast.AST, mods: dict[str, Path]):
    """(node, imported module names) for every import of a kuzushi_core module in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("kuzushi_core"):
            targets = {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods}
            if any(f"{node.module}.{a.name}" not in mods for a in node.names):
                targets.add(node.module)
            yield node, targets
        elif isinstance(node, ast.Import):
            names = {a.name for a in node.names if a.name.startswith("kuzushi_core")}
            if names:
                yield node, names


def test_no_import_cycles():
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        for _, targets in own_imports(ast.parse(f.read_text(encoding="utf-8")), mods):
            graph[m] |= {t for t in targets if t in mods and t != m}
    # a cycle is a strongly connected component of more than one module (Tarjan)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_own_modules_are_imported_at_the_top():
    mods = modules()
    inside = []
    for m, f in mods.items():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        inside += [f"{m}:{node.lineno}" for node, _ in own_imports(tree, mods) if id(node) not in top]
    assert not inside, inside


def test_tensorflow_and_keras_are_imported_in_one_place():
    found = []
    for m, f in modules().items():
        if m == "kuzushi_core.lazy":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("tensorflow", "keras") for n in names):
                found.append(f"{m}:{node.lineno}")
    assert not found, found


def test_no_module_takes_another_modules_private_names():
    mods = modules()
    taken = []
    for m, f in mods.items():
        for node, _ in own_imports(ast.parse(f.read_text(encoding="utf-8")), mods):
            if isinstance(node, ast.ImportFrom) and node.module != m:
                taken += [f"{m} takes {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__") and a.name != "split_sql"]
    assert not taken, taken


def test_long_modules_say_why():
    long = []
    for m, f in modules().items():
        text = f.read_text(encoding="utf-8")
        n = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if n > MAX_LINES and "Size:" not in doc:
            long.append(f"{m} ({n} lines)")
    assert not long, long
