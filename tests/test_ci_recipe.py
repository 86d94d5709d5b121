"""The CI recipe (docs/ci.md): `python -m qbuild size-diff` on footprint.json files of two real firmware builds (the
board's compiler, flags and linker script; the change grows the stack and the application), the Markdown it writes,
its exit codes, the recipes' own shell steps run locally, and max_growth without a baseline refused."""
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from qbuild.errors import QbuildError
from qbuild.footprint.analyze import analyze
from tests.scons_helpers import fresh_tree, scons
from tests.test_footprint import build_firmware

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "examples" / "ci"
STACK, BIGGER_STACK = 8192, 12288


def qbuild(*args, cwd, check=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "qbuild", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, p.stdout + p.stderr
    return p


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A project with main's build and a change's build of the same firmware, each with its footprint.json written
    by `python -m qbuild size` run in the project: the change adds a function (app, flash) and 4 KB of stack."""
    proj = tmp_path_factory.mktemp("proj")
    board = proj / "boards" / "efr32.toml"   # the same board with a bigger stack, as a change to boards/ would do
    board.parent.mkdir()
    text = (ROOT / "boards" / "efr32.toml").read_text()
    assert f"stack_size = {STACK}\n" in text
    board.write_text(text.replace(f"stack_size = {STACK}\n", f"stack_size = {BIGGER_STACK}\n"))
    elfs = {"main": build_firmware("efr32", proj / "main", 4096),
            "pr": build_firmware(str(board), proj / "pr", 4096, extra=True)}
    for name, elf in elfs.items():
        qbuild("size", elf.relative_to(proj), "--board", "efr32", "--json", f"{name}/footprint.json", cwd=proj,
               check=0)
    # the same change built with a 99 % RAM margin: over budget (its build failed after writing the report)
    qbuild("size", elfs["pr"].relative_to(proj), "--board", "efr32", "--margin", "ram=99%", "--json",
           "over/footprint.json", cwd=proj, check=1)
    return proj


def load(proj, name):
    return json.loads((proj / name / "footprint.json").read_text())


def no_absolute_paths(text: str, *dirs: Path):
    for d in dirs + (ROOT,):
        assert str(d) not in text
    assert not re.search(r"(^|[\s`(\"'])/(tmp|work|home|root|builds)/", text), text


# --- size-diff -----------------------------------------------------------------------------------------------------
def test_markdown_names_the_growing_components_with_exact_deltas(builds):
    main, pr = load(builds, "main"), load(builds, "pr")
    ram = pr["regions"]["ram"]["used"] - main["regions"]["ram"]["used"]
    flash = pr["regions"]["flash"]["used"] - main["regions"]["flash"]["used"]
    app = pr["components"]["app"]["flash"] - main["components"]["app"]["flash"]
    assert ram == BIGGER_STACK - STACK and pr["components"]["stack"]["ram"] == BIGGER_STACK and app > 0 < flash

    p = qbuild("size-diff", "main/footprint.json", "pr/footprint.json", "--max-growth", ram,
               "--markdown", "diff.md", cwd=builds, check=0)
    md = (builds / "diff.md").read_text()
    assert "### Footprint on `efr32`: OK" in md
    assert (f"| ram | {main['regions']['ram']['used']:,} | {pr['regions']['ram']['used']:,} | +{ram:,} "
            f"({100.0 * ram / main['regions']['ram']['used']:+.1f} %) | {ram:,} |") in md
    assert f"| flash | {main['regions']['flash']['used']:,} | {pr['regions']['flash']['used']:,} | +{flash:,} " in md
    assert f"**Growing components**\n\n- flash: app +{app:,}\n- ram: stack +{ram:,}\n" in md
    assert (f"| stack | 0 | 0 | +0 | {STACK:,} | {BIGGER_STACK:,} | +{ram:,} |") in md
    limit = pr["regions"]["ram"]["limit"]
    assert f"| ram | 0x20000000 | {pr['regions']['ram']['used']:,} | {limit:,} |" in md   # the budget line
    assert f"| {limit - pr['regions']['ram']['used']:,} |" in md                            # ... and what is free
    assert "| `extra_feature(int)` | new |" in md
    no_absolute_paths(md, builds)
    assert "growing in ram: stack +4,096" in p.stdout       # the console says it too


def test_growth_over_the_limit_fails_naming_the_component(builds):
    ram = load(builds, "pr")["regions"]["ram"]["used"] - load(builds, "main")["regions"]["ram"]["used"]
    p = qbuild("size-diff", "main/footprint.json", "pr/footprint.json", "--max-growth", ram - 1,
               "--markdown", "grew.md", "--json", "grew.json", cwd=builds, check=1)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("qbuild size-diff: error: ram ")]
    assert lines == [f"qbuild size-diff: error: ram grew by {ram:,} bytes since the baseline (max_growth "
                     f"{ram - 1:,}); growing: stack +{ram:,}; biggest growth: none (no symbol grew)"]
    assert "flash grew" not in p.stderr   # by less than the limit
    both = qbuild("size-diff", "main/footprint.json", "pr/footprint.json", "--max-growth", 0, cwd=builds, check=1)
    assert re.search(r"^qbuild size-diff: error: flash grew by [\d,]+ bytes since the baseline \(max_growth 0\); "
                     r"growing: app \+[\d,]+.*; biggest growth: extra_feature\(int\) \+", both.stderr, re.M), both.stderr
    md = (builds / "grew.md").read_text()
    assert "FAILED" in md.splitlines()[1] and "growing: stack +4,096" in md
    report = json.loads((builds / "grew.json").read_text())
    assert not report["ok"] and report["max_growth"] == ram - 1 and report["baseline"]["elf"] == "main/firmware.elf"
    no_absolute_paths((builds / "grew.json").read_text(), builds)


def test_budget_breach_fails_even_without_growth_limit(builds):
    p = qbuild("size-diff", "main/footprint.json", "over/footprint.json", "--markdown", "over.md", cwd=builds,
               check=1)
    assert re.search(r"^qbuild size-diff: error: ram over budget by [\d,]+ bytes .*after a 99% margin\); biggest: "
                     r"stack 12,288", p.stderr, re.M), p.stderr
    md = (builds / "over.md").read_text()
    assert "### Footprint on `efr32`: FAILED" in md and "ram over budget by" in md and "margin 99%" in md


def test_missing_main_report_and_usage_errors(builds):
    alone = qbuild("size-diff", "nowhere/footprint.json", "pr/footprint.json", "--missing-base-ok", cwd=builds,
                   check=0)
    assert "### Footprint on `efr32`: OK" in alone.stdout and "Since the baseline" not in alone.stdout
    assert "no baseline at nowhere/footprint.json" in alone.stderr
    missing = qbuild("size-diff", "nowhere/footprint.json", "pr/footprint.json", cwd=builds, check=1)
    assert missing.stderr.strip() == ("qbuild size-diff: error: cannot read the main branch's report "
                                      "nowhere/footprint.json (No such file or directory); pass a footprint.json "
                                      "from an earlier build")
    assert qbuild("size-diff", "main/footprint.json", cwd=builds, check=2).stderr.startswith("usage:")
    assert "--max-growth must be" in qbuild("size-diff", "main/footprint.json", "pr/footprint.json",
                                            "--max-growth", "-1", cwd=builds, check=2).stderr


def test_reports_outside_the_working_directory_show_no_absolute_path(builds, tmp_path):
    """Absolute input paths, and the ELF outside the working directory: reports name files relatively or by name."""
    elf = builds / "pr" / "firmware.elf"
    qbuild("size", elf, "--board", "efr32", "--json", tmp_path / "fp.json", "--markdown", tmp_path / "fp.md",
           cwd=tmp_path, check=0)
    report = json.loads((tmp_path / "fp.json").read_text())
    assert report["elf"] == "firmware.elf" and report["map"] == "firmware.map"
    p = qbuild("size-diff", builds / "main/footprint.json", tmp_path / "fp.json", cwd=tmp_path, check=0)
    for text in ((tmp_path / "fp.json").read_text(), (tmp_path / "fp.md").read_text(), p.stdout):
        no_absolute_paths(text, builds, tmp_path)
    assert report == analyze(elf, board="efr32") | {"elf": "firmware.elf", "map": "firmware.map"}


# --- through SCons: max_growth needs a baseline; a real digits build, then a change that grows the stack --------------
def test_max_growth_without_baseline_is_refused_everywhere(builds, tmp_path):
    elf = builds / "pr" / "firmware.elf"
    for none in (None, "", False):   # how build steps say "no baseline"
        with pytest.raises(QbuildError, match=r"^max_growth=512 needs a baseline"):
            analyze(elf, board="efr32", baseline=none, max_growth=512)   # env.QbuildFirmware's step
        assert analyze(elf, board="efr32", baseline=none)["baseline"] is None
    cli = qbuild("size", builds / "pr" / "firmware.elf", "--board", "efr32", "--max-growth", "1", cwd=tmp_path,
                 check=2)
    assert cli.stderr.splitlines()[-1] == ("python -m qbuild size: error: --max-growth needs --baseline "
                                           "old/footprint.json to compare with")
    tree = fresh_tree(tmp_path / "tree")
    for extra in ([], ["baseline="]):
        p = scons(tree, "board=efr32", "model=digits", "max_growth=512", *extra, check=False)
        assert p.returncode == 2
        assert p.stderr.strip() == "qbuild: error: max_growth=512 needs baseline=old/footprint.json to compare with"
    assert not (tree / "build" / "models").exists()   # refused before any step ran


def test_scons_digits_builds_compared(tmp_path):
    """main's digits firmware for efr32, then a change to the board (+2 KB stack): the SCons build's own baseline
    check and size-diff both name the stack, and neither report holds an absolute path."""
    tree = fresh_tree(tmp_path / "tree")
    scons(tree, "board=efr32", "model=digits")
    out = tree / "build" / "efr32" / "digits"
    (tree / "main").mkdir()
    (tree / "main" / "footprint.json").write_text((out / "footprint.json").read_text())
    board = tree / "boards" / "efr32.toml"
    board.write_text(board.read_text().replace(f"stack_size = {STACK}\n", f"stack_size = {STACK + 2048}\n"))

    p = scons(tree, "board=efr32", "model=digits", "baseline=main/footprint.json", "max_growth=1024", check=False)
    assert p.returncode == 2
    assert ("ram grew by 2,048 bytes since the baseline (max_growth 1,024); growing: stack +2,048; biggest growth: "
            "none (no symbol grew)") in p.stderr
    md = (out / "footprint.md").read_text()
    assert "- ram: stack +2,048" in md and "| stack | 0 | 0 | +0 | 8,192 | 10,240 | +2,048 |" in md
    no_absolute_paths(md + (out / "footprint.json").read_text(), tree)

    diff = qbuild("size-diff", "main/footprint.json", out / "footprint.json", "--max-growth", 2048, cwd=tree, check=0)
    assert "- flash: none\n- ram: stack +2,048\n" in diff.stdout
    assert "| ram | 0x20000000 |" in diff.stdout and "### Footprint on `efr32`: OK" in diff.stdout
    no_absolute_paths(diff.stdout, tree)


# --- the recipes ---------------------------------------------------------------------------------------------------
def _recipe_env(builds, tmp_path):
    """A checkout after its build: main's report where the recipe fetches it, the change's where scons writes it."""
    work = tmp_path / "checkout"
    out = work / "build" / "efr32" / "digits"
    out.mkdir(parents=True)
    (out / "footprint.json").write_text((builds / "pr" / "footprint.json").read_text())
    (work / ".venv").symlink_to(ROOT / ".venv")
    env = dict(os.environ, PYTHONPATH=str(ROOT), BOARD="efr32", MODEL="digits")
    return work, env


def test_github_actions_recipe(builds, tmp_path):
    wf = yaml.safe_load((RECIPES / "github-actions.yml").read_text())
    assert set(wf[True]) == {"push", "pull_request"} and wf[True]["push"]["branches"] == ["main"]  # YAML 1.1: on
    steps = wf["jobs"]["footprint"]["steps"]
    assert all("uses" in s or "run" in s for s in steps)
    saved = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))
    restored = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore"))
    assert saved["with"]["path"] == restored["with"]["path"] == "footprint-main/footprint.json"
    assert restored["with"]["restore-keys"] in saved["with"]["key"]
    compare = next(s for s in steps if s.get("id") == "compare")
    assert "always()" in compare["if"] and "size-diff" in compare["run"]
    docs = (ROOT / "docs" / "ci.md").read_text()
    assert all(f"  {line}\n" in docs for line in compare["run"].splitlines())   # docs/ci.md shows this very step

    for limit, want in ((wf["env"]["MAX_GROWTH"], 1), ("100000", 0)):
        work, env = _recipe_env(builds, tmp_path / limit)
        (work / "footprint-main").mkdir()
        (work / "footprint-main" / "footprint.json").write_text((builds / "main" / "footprint.json").read_text())
        summary = work / "summary.md"
        summary.write_text("earlier step\n")
        env.update(GITHUB_STEP_SUMMARY=str(summary), MAX_GROWTH=limit)
        p = subprocess.run(["bash", "-e", "-c", compare["run"]], cwd=work, env=env, capture_output=True, text=True)
        assert p.returncode == want, p.stderr
        text = summary.read_text()
        assert text.startswith("earlier step\n<!-- generated by qbuild") and "\n- ram: stack +4,096\n" in text
        no_absolute_paths(text, work, builds)
        if want:
            assert "ram grew by 4,096 bytes since the baseline (max_growth 1,024); growing: stack +4,096" in p.stderr


def test_gitlab_ci_recipe(builds, tmp_path):
    ci = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    job = ci["footprint"]
    assert job["artifacts"]["when"] == "always" and "footprint.json" in job["artifacts"]["paths"]
    compare = job["script"][-1]
    assert "size-diff" in compare

    work, env = _recipe_env(builds, tmp_path)
    (work / "footprint.json").write_text((builds / "pr" / "footprint.json").read_text())
    with zipfile.ZipFile(tmp_path / "artifacts.zip", "w") as z:   # what the jobs API answers for main's job
        z.write(builds / "main" / "footprint.json", "footprint.json")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "curl").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/curl-args\nwhile [ "$1" != --output ]; do '
                                f'shift; done\ncp {tmp_path}/artifacts.zip "$2"\n')
    (stubs / "curl").chmod(0o755)
    env.update(PATH=f"{stubs}:{env['PATH']}", MAX_GROWTH=ci["variables"]["MAX_GROWTH"], CI_JOB_NAME="footprint",
               CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main", CI_API_V4_URL="https://gitlab.example/api/v4",
               CI_PROJECT_ID="7", CI_JOB_TOKEN="token")
    p = subprocess.run(["bash", "-e", "-c", compare], cwd=work, env=env, capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert "JOB-TOKEN: token" in (tmp_path / "curl-args").read_text()
    assert "projects/7/jobs/artifacts/main/download?job=footprint" in (tmp_path / "curl-args").read_text()
    assert "growing: stack +4,096" in p.stderr and "\n- ram: stack +4,096\n" in p.stdout
    no_absolute_paths((work / "footprint-diff.md").read_text(), work, builds)
