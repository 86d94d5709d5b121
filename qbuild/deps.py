"""A build step's code, derived from its imports: the qbuild modules it runs and the templates they render.

SCons signs a Python function action by that function's own code only, not by what it calls. So each step's action
imports its step module inside its body, and `step_files(action)` follows those imports: every qbuild module they
import (module level or inside functions, transitively, with the packages' `__init__.py`), plus every template named
in a module's `TEMPLATES` tuple and the templates those include or import. Editing one of these files reruns exactly
the steps that use it; nothing is listed by hand.
"""
from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_TEMPLATE_REF = re.compile(r"""{%-?\s*(?:import|include|extends|from)\s+["']([^"']+)["']""")


def module_path(name: str) -> Path | None:
    """qbuild.a.b -> qbuild/a/b.py or qbuild/a/b/__init__.py (None when not a qbuild module)."""
    parts = name.split(".")
    if parts[0] != "qbuild":
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _imported_modules(tree: ast.AST) -> set[str]:
    """qbuild module names an AST imports (`from qbuild.x import y` counts y when y is a module, else x)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "qbuild")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "qbuild":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if module_path(sub) else node.module)
    return found


def _with_packages(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


@functools.lru_cache(maxsize=None)
def _module_info(name: str) -> tuple[frozenset, tuple]:
    """(qbuild modules imported anywhere in `name`, template names in its TEMPLATES tuple)."""
    tree = ast.parse(module_path(name).read_text())
    templates = ()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TEMPLATES" for t in node.targets):
            templates = tuple(ast.literal_eval(node.value))
    return frozenset(_imported_modules(tree)), templates


def module_closure(roots) -> list[str]:
    """Every qbuild module the roots import, transitively, with their packages; sorted."""
    seen: set[str] = set()
    todo = [m for r in roots for m in _with_packages(r)]
    while todo:
        name = todo.pop()
        if name in seen or module_path(name) is None:
            continue
        seen.add(name)
        todo.extend(m for imp in _module_info(name)[0] for m in _with_packages(imp))
    return sorted(seen)


def template_closure(names, templates_dir: Path) -> list[Path]:
    """The templates and every template they import, include or extend."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = templates_dir / name
        if path.is_file():
            todo.extend(_TEMPLATE_REF.findall(path.read_text()))
    return [templates_dir / n for n in sorted(seen)]


def function_imports(fn) -> set[str]:
    """qbuild modules imported inside the body of function `fn`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    return _imported_modules(tree)


@functools.lru_cache(maxsize=None)
def step_files(action) -> tuple[Path, ...]:
    """The files a step action's result depends on as code: its modules (see module docstring) and templates."""
    from qbuild.codegen.templates import TEMPLATES_DIR

    modules = module_closure(function_imports(action))
    templates = [t for m in modules for t in _module_info(m)[1]]
    return tuple([module_path(m) for m in modules] + template_closure(templates, TEMPLATES_DIR))
