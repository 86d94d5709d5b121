"""The package's shape, checked on the code itself: no import circles (module-level or inside functions), no module
over 400 lines, the .tflite parsed only by qbuild.tflite.reader, SCons imported only by qbuild.scons."""
import ast
import re
from pathlib import Path

from qbuild.deps import PACKAGE_DIR, _imported_modules, module_path

MODULES = sorted(p for p in PACKAGE_DIR.rglob("*.py"))


def _name(p: Path) -> str:
    rel = p.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    g = {}
    for p in MODULES:
        name = _name(p)
        # a package's __init__ runs before its modules: importing qbuild.x.y also imports qbuild.x, but that edge is
        # Python's, not the code's; only count what the module's code names
        g[name] = {m for m in _imported_modules(ast.parse(p.read_text())) if module_path(m) and m != name}
    return g


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
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

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_400_lines():
    long = {_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_one_tflite_reader_and_one_scons_package():
    parses = [_name(p) for p in MODULES if re.search(r"GetRootAs|InitFromPackedBuf", p.read_text())]
    assert parses == ["qbuild.tflite.reader"]
    scons = [_name(p) for p in MODULES if re.search(r"^\s*(import|from) SCons", p.read_text(), re.M)]
    assert all(n.startswith("qbuild.scons.") for n in scons), scons
