"""Each build step depends on exactly the code it runs: qbuild.deps derives a step's modules and templates from its
imports, and editing one of them (in a fresh tree) reruns exactly the steps that use it."""
import json
import subprocess
import sys

import pytest

from qbuild.codegen.templates import TEMPLATES_DIR
from qbuild.deps import PACKAGE_DIR, step_files
from qbuild.scons import firmware as fw
from qbuild.scons import integrate
from qbuild.scons import model as mdl
from tests.scons_helpers import ROOT, fresh_tree, scons, steps_run

ACTIONS = {"dataset": mdl._dataset, "train": mdl._train, "quantize": mdl._quantize, "C array": mdl._c_array,
           "linker script": fw._linker_script, "main.cc": integrate._main_cc, "op table": integrate._op_table,
           "footprint": fw._footprint, "run": fw._run, "profile": fw._profile,
           "instruction-count plugin": fw._plugin, "model page": mdl._model_page, "prepared tables": fw._prepared}
BOARD_PAGE = fw._board_page  # same label as the model's page: checked separately below
ARGS = ("board=qemu-m33", "model=digits", "load=prepared", "digits", "footprint", "run", "profile")  # every step


def _uses() -> dict:
    """file (relative to the repo) -> the steps whose derived dependencies contain it."""
    uses = {}
    for step, action in list(ACTIONS.items()) + [("model page", BOARD_PAGE)]:
        for p in step_files(action):
            uses.setdefault(p.relative_to(ROOT).as_posix(), set()).add(step)
    return uses


def test_derived_dependencies_cover_what_each_step_imports():
    """Oracle independent of the AST walk: the qbuild modules Python really loads when it imports each step's module
    are all among the step's derived files."""
    for step, action in ACTIONS.items():
        derived = {p.relative_to(ROOT).as_posix() for p in step_files(action)}
        roots = sorted(m for m in __import__("qbuild.deps", fromlist=["x"]).function_imports(action))
        code = ("import importlib, json, sys\n"
                f"for m in {roots!r}: importlib.import_module(m)\n"
                "print(json.dumps(sorted(getattr(v, '__file__', '') or '' for k, v in sys.modules.items() "
                "if k == 'qbuild' or k.startswith('qbuild.'))))")
        loaded = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                           check=True).stdout)
        loaded = {str(__import__("pathlib").Path(f).relative_to(ROOT).as_posix()) for f in loaded if f}
        assert loaded <= derived, (step, sorted(loaded - derived))


def test_templates_and_modules_are_found():
    uses = _uses()
    assert uses["templates/main.cc.j2"] == {"main.cc"}
    assert uses["templates/_macros.j2"] >= {"main.cc", "C array"}  # imported by both templates
    assert uses["templates/footprint.md.j2"] == {"footprint"}
    assert uses["templates/quantization_report.html.j2"] == {"quantize"}
    assert uses["qbuild/model/quantize.py"] == {"quantize"}
    assert "qbuild/model/train.py" in uses and "quantize" not in uses["qbuild/model/train.py"]
    every_template = {p.relative_to(ROOT).as_posix() for p in TEMPLATES_DIR.glob("*.j2")}
    assert every_template <= set(uses)  # each template is some step's dependency


@pytest.mark.slow
def test_editing_a_file_reruns_exactly_the_steps_that_use_it(tmp_path):
    tree = fresh_tree(tmp_path / "t")
    scons(tree, *ARGS)
    assert steps_run(scons(tree, *ARGS)) == []
    uses = _uses()
    # one file per distinct set of users, every template, and modules no step uses (the CLIs, the SCons layer)
    files, seen = [], set()
    for rel, steps in sorted(uses.items()):
        key = frozenset(steps)
        if rel.startswith("templates/") or key not in seen:
            files.append(rel)
            seen.add(key)
    unused = [p.relative_to(ROOT).as_posix() for p in sorted(PACKAGE_DIR.rglob("*.py"))
              if p.relative_to(ROOT).as_posix() not in uses]
    assert "qbuild/advise/cli.py" in unused and "qbuild/footprint/cli.py" in unused
    files += ["qbuild/advise/cli.py", "qbuild/footprint/cli.py"]
    for rel in files:
        path = tree / rel
        original = path.read_bytes()
        path.write_bytes(original + (b"\n{# edited #}\n" if rel.endswith(".j2") else b"\n# edited\n"))
        try:
            ran = set(steps_run(scons(tree, "-n", *ARGS)))
        finally:
            path.write_bytes(original)
        assert ran == uses.get(rel, set()), rel
