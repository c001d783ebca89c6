"""No import cycles between swarmscope's modules, not even behind a lazy import in a function.

A cycle hidden in a function body works until the day someone moves the import to the top; and it
says two modules are one idea split in two, or that one reaches into the other's privates.
"""

import ast
import importlib.util
import pkgutil

import swarmscope.adapters
import swarmscope.bench
import swarmscope.core
import swarmscope.tui


def _modules() -> dict[str, str]:
    """Every module of the product: its name and its source file."""
    found = {}
    for package in (swarmscope.core, swarmscope.tui, swarmscope.bench, swarmscope.adapters):
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            found[info.name] = importlib.util.find_spec(info.name).origin
    return found


def _imports(name: str, path: str, known: set[str]) -> set[str]:
    """The product's modules that `name` imports anywhere in its source, top level or not."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: from the module's package
                package = name.rsplit(".", node.level)[0]
                base = f"{package}.{node.module}"
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
    return found


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    assert sum(map(len, graph.values())) > 100  # the graph is really there
    assert _cycles(graph) == []


def test_core_imports_nothing_of_the_tui_or_the_benches():
    modules = _modules()
    core = {n: p for n, p in modules.items() if n.startswith("swarmscope.core.")}
    outside = {
        n: sorted(m for m in _imports(n, p, set(modules)) if not m.startswith("swarmscope.core"))
        for n, p in core.items()
    }
    assert {n: m for n, m in outside.items() if m} == {}
