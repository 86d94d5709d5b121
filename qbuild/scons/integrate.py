"""Builders for a user's own firmware build: the runtime compiled with *their* compiler and flags, a generated main.cc,
and the footprint check of *their* ELF.

    rt = env.QbuildRuntime(model)                        # only the model's ops; env's CC/CXX/flags + the runtime's set
    main = env.QbuildMain(model, board="efr32")          # qbuild's main.cc for a board (or template="my_main.cc.j2")
    elf = env.Program("app.elf", [main, model["carray"][0], rt], LINKFLAGS=[..., "-Wl,-Map=app.map"])
    env.QbuildFootprint(elf, board="efr32", map="app.map")   # or memory={"flash": (0x0, 1 << 20), "ram": (...)}

Nothing here replaces a construction variable of the calling environment: each builder works on a clone and adds only
what the runtime needs (`qbuild.target.runtime.CXXFLAGS` and its include directory).
"""
from __future__ import annotations

from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.scons.actions import (as_json, command, fail, in_project, literal, node, path, project_path, setting,
                                  text, unsigned)
from qbuild.target import runtime

REGISTRY = runtime.RUNTIME_DIR / "src" / "ops" / "registry.cc"
LOADS = ("runtime", "prepared")


def _op_table(target, source, env):
    from qbuild.codegen.op_table import write_op_table
    write_op_table([path(s) for s in source if str(s).endswith(".tflite")], text(env, "QBUILD_NOTE"), path(target[0]))


def _main_cc(target, source, env):
    from qbuild.codegen.main_cc import write_main_cc
    from qbuild.target.boards import load_board
    data = path(source[1]) if env["QBUILD_HAS_DATA"] else None
    template = in_project(env, "QBUILD_TEMPLATE") if text(env, "QBUILD_TEMPLATE") else None
    write_main_cc(path(source[0]), data, load_board(in_project(env, "QBUILD_BOARD")), setting(env, "QBUILD_CLASSES"),
                  text(env, "QBUILD_NOTE"), path(target[0]), template=template, symbol=text(env, "QBUILD_SYMBOL") or None,
                  prepared=env["QBUILD_LOAD"] == "prepared")


def _footprint(target, source, env):
    from qbuild.footprint.analyze import analyze
    from qbuild.footprint.render import render_console, write_reports
    from qbuild.target.boards import Region, load_board
    opts = setting(env, "QBUILD_FOOTPRINT")
    board = load_board(opts["board"]) if opts["board"] else None
    regions = [Region(n, o, n_) for n, (o, n_) in sorted(opts["memory"].items())] if opts["memory"] else None
    report = analyze(path(source[0]), board=board, map_path=opts["map"], baseline=opts["baseline"],
                     max_growth=opts["max_growth"], regions=regions)
    write_reports(report, path(target[0]), path(target[1]))
    print(render_console(report), end="", flush=True)
    if not report["ok"]:
        who = board.id if board else path(source[0]).name
        raise QbuildError(f"{who}: footprint check failed: " + "; ".join(report["failures"]))


def objects(benv, sources, src_root: Path, obj_root: Path):
    """One object per source under obj_root, at the source's path relative to src_root (runtime/src/ops/x.o and
    runtime/kernels/x.o stay apart; the footprint check tells the runtime's objects by those folder names)."""
    objs = []
    for s in map(Path, sources):
        rel = s.resolve().relative_to(src_root)
        objs += benv.Object(str(obj_root / rel.with_suffix(".o")), str(s))
    return objs


def registry_object(benv, models, out: Path, note: str):
    """registry.cc compiled with the op switches (qbuild_ops.h) of one model or several (the union of their ops): the
    only runtime object that differs per model, and the one that decides which ops' code is linked."""
    models = models if isinstance(models, (list, tuple)) else [models]
    ops_h = command(benv, str(out / "qbuild_ops.h"), [m["tflite"] for m in models], _op_table, "op table",
                    ["QBUILD_NOTE"], QBUILD_NOTE=literal(note))[0]
    renv = benv.Clone()
    renv.Append(CCFLAGS=["-include", *unsigned([ops_h.abspath])])  # a dependency below: its content is tracked
    obj = renv.Object(str(out / "runtime" / "src" / "ops" / "registry.o"), str(REGISTRY))
    benv.Depends(obj, ops_h)
    return obj


def qbuild_runtime(env, model=None, target=None):
    """qbuild's runtime compiled with the calling environment's compiler and flags plus the runtime's one flag set, as
    a static library; with `model` (what QbuildModel returned, or a list of them for several models in one firmware)
    only those models' ops are linked. Adds the runtime's include directory to env's CPPPATH; returns the library."""
    models = [] if model is None else list(model) if isinstance(model, (list, tuple)) else [model]
    if target is None:
        sub = "+".join(m.targets.out_dir.name for m in models) or "all-ops"
        target = f"#build/qbuild-runtime/{sub}/libqbuild_runtime.a"
    renv = env.Clone()
    renv.AppendUnique(CXXFLAGS=runtime.CXXFLAGS, CPPPATH=[str(p) for p in runtime.include_dirs()])
    out = Path(env.File(target).abspath).parent
    shared = [s for s in runtime.sources() if s != REGISTRY] if models else runtime.sources()
    objs = objects(renv, shared, runtime.RUNTIME_DIR.parent, out / "obj")
    if models:
        objs += registry_object(renv, models, out, ", ".join(m.targets.tflite.name for m in models))
    env.AppendUnique(CPPPATH=[str(p) for p in runtime.include_dirs()])
    return renv.StaticLibrary(target, objs)[0]


def qbuild_main(env, model, board, target=None, template=None, load="runtime"):
    """main.cc for `model` on `board` (an id, a board .toml or a loaded Board): qbuild's board template, or the user's
    own Jinja template given as `template` (rendered with the same variables; qbuild's templates/ stays importable
    from it). `load="prepared"`: main.cc loads with the build-time tables (QbuildFirmware compiles them). Returns the
    main.cc node."""
    from qbuild.target.boards import Board, load_board

    try:
        b = board if isinstance(board, Board) else load_board(board)
        if load not in LOADS:
            raise QbuildError(f"load={load!r} is not one of {', '.join(LOADS)} (run-time load into an arena, or the "
                              "tables prepared at build time)")
    except QbuildError as e:
        fail(e)
    t = model.targets
    target = target or str(Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath) / b.id / t.out_dir.name
                           / "main.cc")
    data_node = model.nodes.get("data") or (node(env, t.data) if t.kind == "keras" else None)
    sources = [model["tflite"]] + ([data_node] if data_node is not None else []) + [node(env, b.path)]
    tpl = Path(env.File(template).abspath) if template else None
    if tpl is not None:
        sources.append(node(env, tpl))
    # The inputs named in main.cc's first line: project-relative, or by file name when outside the project.
    named = [t.tflite] + ([t.data] if data_node is not None else []) + [b.path] + ([tpl] if tpl else [])
    note = ", ".join(p if not p.startswith("/") else Path(p).name for p in (project_path(env, p) for p in named))
    return command(env, target, sources, _main_cc, "main.cc",
                   ["QBUILD_BOARD", "QBUILD_HAS_DATA", "QBUILD_CLASSES", "QBUILD_NOTE", "QBUILD_TEMPLATE",
                    "QBUILD_SYMBOL", "QBUILD_LOAD"], QBUILD_LOAD=load,
                   QBUILD_BOARD=literal(project_path(env, b.path)), QBUILD_HAS_DATA=int(data_node is not None),
                   QBUILD_CLASSES=as_json(t.settings.get("classes", [])), QBUILD_NOTE=literal(note),
                   QBUILD_TEMPLATE=literal(project_path(env, tpl) if tpl else ""), QBUILD_SYMBOL=t.symbol or "")[0]


def _memory(memory) -> dict:
    """{"flash": (origin, length), "ram": (origin, length)} checked: both regions, whole positive numbers."""
    if set(memory) != {"flash", "ram"}:
        raise QbuildError(f"memory= needs exactly the regions flash and ram, got {sorted(memory)}; "
                          "e.g. memory={'flash': (0x08000000, 1024 * 1024), 'ram': (0x20000000, 256 * 1024)}")
    out = {}
    for name, value in memory.items():
        try:
            origin, length = (int(v) for v in value)
        except (TypeError, ValueError):
            raise QbuildError(f"memory['{name}'] must be (origin, length) in bytes, got {value!r}") from None
        if length <= 0 or origin < 0:
            raise QbuildError(f"memory['{name}'] = {value!r}: origin must be >= 0 and length > 0 bytes")
        out[name] = (origin, length)
    return out


def qbuild_footprint(env, elf, board=None, memory=None, map=None, baseline=None, max_growth=None, target=None):
    """The flash/RAM footprint check of any ELF against a board's budget (`board=`) or a memory map (`memory=`):
    footprint.json and footprint.md beside the ELF (or at `target`, a .json path); fails the build over budget."""
    try:
        if (board is None) == (memory is None):
            raise QbuildError("QbuildFootprint needs exactly one of board= (an id or a board .toml) or memory="
                              "{'flash': (origin, length), 'ram': (origin, length)}")
        if max_growth is not None and baseline is None:
            raise QbuildError("QbuildFootprint(max_growth=...) needs baseline= (an earlier footprint.json to compare "
                              "with)")
        mem = _memory(memory) if memory is not None else None
        if board is not None:
            from qbuild.target.boards import load_board
            board = str(load_board(board).path)
    except QbuildError as e:
        fail(e)
    elf = node(env, env.Flatten([elf])[0])
    out = Path(env.File(target).abspath) if target else Path(elf.abspath).parent / "footprint.json"
    sources = [elf] + [node(env, p) for p in (map, baseline, board) if p]
    opts = {"board": board, "memory": mem, "map": env.File(map).abspath if map else None,
            "baseline": env.File(baseline).abspath if baseline else None, "max_growth": max_growth}
    nodes = command(env, [str(out), str(out.with_suffix(".md"))], sources, _footprint, "footprint",
                    ["QBUILD_FOOTPRINT"], QBUILD_FOOTPRINT=as_json(opts))
    env.Alias("footprint", nodes)
    return nodes
