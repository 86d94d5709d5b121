"""`env.QbuildFirmware(model, board)` (main.cc, firmware, footprint check, `run`) and `env.QbuildRuntime()` (the runtime
compiled with a user's own environment). Every runtime compile adds `qbuild.target.runtime.CXXFLAGS`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.scons.actions import (as_json, command, fail, in_project, literal, node, path, project_path, setting,
                                  text, unsigned)
from qbuild.scons.integrate import REGISTRY, objects, qbuild_main, registry_object
from qbuild.target import runtime
from qbuild.target.boards import SUPPORT_DIR


def _board(env):
    from qbuild.target.boards import load_board
    return load_board(in_project(env, "QBUILD_BOARD"))


# --- step actions (module level: stable action signatures; each imports the step it runs) -------------------------
def _linker_script(target, source, env):
    from qbuild.codegen.linker import write_linker_script
    write_linker_script(_board(env), path(target[0]))


def _footprint(target, source, env):
    from qbuild.footprint.check import check_footprint
    opts = setting(env, "QBUILD_FOOTPRINT")
    opts["map"] = str(path(source[1]))
    opts["baseline"] = str(in_project(env, "QBUILD_BASELINE")) if opts["baseline"] else None
    check_footprint(path(source[0]), _board(env), opts, path(target[0]), path(target[1]))


def _run(target, source, env):
    from qbuild.target.firmware import check_run
    board = _board(env)
    data = path(source[2]) if env["QBUILD_HAS_DATA"] else None
    r = check_run(board, path(source[0]), path(source[1]), data, path(target[0]))
    print(f"qbuild: {board.id}: firmware output identical to the reference on {r['samples']} samples "
          f"({r['output_type']} outputs, bit for bit)", flush=True)


def _profile(target, source, env):
    from qbuild.target.profile import run_profile
    run_profile(_board(env), path(source[0]), path(source[1]), path(source[2]), path(target[0]).parent)


def _plugin(target, source, env):
    from qbuild.target.profile import build_plugin
    build_plugin(path(target[0]))


def _board_page(target, source, env):
    from qbuild.codegen.model_page import write_model_page
    write_model_page(path(target[0]), model_dir=path(source[0]).parent, board_dir=path(target[0]).parent,
                     tflite=path(source[0]))


def _no_profile(target, source, env):
    print(f"qbuild: error: board '{_board(env).id}' does not run under QEMU; `profile` counts instructions on a QEMU "
          "board of the same CPU (e.g. board=qemu-m33 for efr32, board=qemu-m4 for a Cortex-M4)", file=sys.stderr)
    return 1


def _no_runner(target, source, env):
    print(f"qbuild: error: board '{_board(env).id}' has no runner; `run` works on boards that have one "
          "(e.g. board=qemu-m33 or board=host)", file=sys.stderr)
    return 1


# --- firmware ---------------------------------------------------------------------------------------------------------
class FirmwareNodes:
    def __init__(self, board, nodes: dict):
        self.board = board
        self.nodes = nodes

    def __getitem__(self, key):
        return self.nodes[key]

    def default(self):
        return [self.nodes[k] for k in ("main", "elf", "bin", "footprint", "page") if k in self.nodes]


def _board_env(env, board):
    """One environment per board (cached), for the objects every model on that board shares: runtime and support.
    C++ gets the board's C++ flags and the runtime's one flag set (main.cc too: it includes the runtime's headers)."""
    envs = env.get("QBUILD_BOARD_ENVS") or {}
    if board.id in envs:
        return envs[board.id]
    opt = ["-Os"] if board.bare_metal else ["-O2"]
    # Paths in objects (DWARF, __FILE__) relative to the project: two checkouts in different places build the same bytes
    prefix_map = unsigned([f"-ffile-prefix-map={env.Dir('#').abspath}=."])
    # Bare metal links with gcc: g++ would pull libstdc++ (not needed: no exceptions, RTTI or heap).
    benv = env.Clone(CC=board.cc, CXX=board.cxx, LINK=board.cc if board.bare_metal else board.cxx,
                     CCFLAGS=list(board.cflags) + opt + ["-g"] + prefix_map + runtime.WARNINGS, CFLAGS=["-std=c11"],
                     CXXFLAGS=list(runtime.CXXFLAGS) + [f for f in board.cxx_only_flags if f not in runtime.CXXFLAGS],
                     CPPPATH=[str(p) for p in runtime.include_dirs()] + [str(p) for p in board.include_dirs()],
                     LIBS=["m"], OBJSUFFIX=".o", PROGSUFFIX="", QBUILD_BOARD=literal(project_path(env, board.path)))
    if not env.get("QBUILD_VERBOSE"):
        benv.Replace(CCCOMSTR=f"{board.id}: compile $SOURCE", CXXCOMSTR=f"{board.id}: compile $SOURCE",
                     LINKCOMSTR=f"{board.id}: link $TARGET")
    envs[board.id] = benv
    env["QBUILD_BOARD_ENVS"] = envs
    return benv


def _prepared(target, source, env):
    from qbuild.codegen.prepared import write_prepared
    f = write_prepared(path(source[0]), path(target[0]), path(target[0]).parent.parent / "host",
                       text(env, "QBUILD_SYMBOL") or None)
    state = f" + op state {f['state_bytes']:,} B" if f["state_bytes"] else ""
    print(f"qbuild: prepared tables: {f['table_flash_bytes']:,} B of flash (32-bit target); RAM {f['ram_bytes']:,} B = "
          f"activations {f['arena_bytes']:,} B ({f['placement']}){state} + Model object {f['model_object_bytes']} B",
          flush=True)


def qbuild_firmware(env, model_nodes, board, baseline=None, max_growth=None, ram_margin=None, load=None):
    """Declare a model's firmware for a board: main.cc, objects, firmware.elf/.map/.bin, footprint, and `run`.
    `load`: "runtime" (Model::load into an arena) or "prepared" (the build-time tables: `python -m qbuild prepare`);
    default the `load=` option (runtime)."""
    from qbuild.target.boards import load_board

    try:
        b = load_board(board)
        if max_growth is not None and not baseline:
            raise QbuildError(f"QbuildFirmware(max_growth={max_growth}) needs baseline= (an earlier footprint.json to "
                              "compare with)")
    except QbuildError as e:
        fail(e)
    t = model_nodes.targets
    root = Path(env.Dir("#").abspath)
    board_dir = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath) / b.id
    out = board_dir / t.out_dir.name  # the model's own folder name: unique per source
    benv = _board_env(env, b)
    board_file = node(env, b.path)
    data_node = model_nodes.nodes.get("data") or (node(env, t.data) if t.kind == "keras" else None)
    has_data = data_node is not None
    nodes = {}

    script = None
    if b.bare_metal:  # SCons does not scan -T: the link depends on the script explicitly (below)
        script = command(benv, str(board_dir / "linker.ld"), [board_file], _linker_script, "linker script",
                         ["QBUILD_BOARD"])[0]

    load = load or env.get("QBUILD_LOAD", "runtime")
    nodes["main"] = qbuild_main(benv, model_nodes, b, target=str(out / "main.cc"), load=load)

    # Only the model's ops in the runtime's op table: registry.cc is compiled per model with a generated header of op
    # switches; every other runtime object is shared by all models on the board.
    registry_obj = registry_object(benv, model_nodes, out, os.path.relpath(t.tflite, root))  # counted as runtime

    menv = benv.Clone()
    menv.Append(CPPPATH=[str(t.out_dir)])
    objs = objects(benv, [s for s in runtime.sources() if s != REGISTRY], runtime.RUNTIME_DIR.parent,
                   board_dir / "obj") + registry_obj
    objs += objects(benv, b.support_sources(), SUPPORT_DIR.parent.parent, board_dir / "obj")
    objs += menv.Object(str(out / "main.o"), nodes["main"])
    model_c = next(n for n in model_nodes["carray"] if str(n).endswith(".c"))
    objs += menv.Object(str(out / "sl_tflite_micro_model.o"), model_c)
    if load == "prepared":  # the tables come from the runtime's own prepare, so they depend on its sources
        code = [str(f) for f in [*runtime.sources(), *runtime.headers(), runtime.RUNTIME_DIR / "tools" /
                                 "qbuild_prepare.cc"]]
        nodes["prepared"] = command(benv, str(out / "model_prepared.cc"), [model_nodes["tflite"]] + code, _prepared,
                                    "prepared tables", ["QBUILD_SYMBOL"], QBUILD_SYMBOL=t.symbol or "")[0]
        objs += menv.Object(str(out / "model_prepared.o"), nodes["prepared"])

    elf = out / "firmware.elf"
    map_path = out / "firmware.map"
    # Absolute paths (linker script, map, libm.specs) are kept out of the link's signature: the script is a dependency
    # of the link, the map its second target.
    link_flags = [g for f in b.link_flags(script.abspath if script else None, map_path)
                  for g in (unsigned([f]) if f.startswith("/") or "=/" in f else [f])]
    lenv = menv.Clone(LINKFLAGS=link_flags)
    # The map is a second target of the link (not a side effect), so a build cache stores and restores it with the ELF
    # and the footprint check that reads it never meets an ELF without its map.
    nodes["elf"], nodes["map"] = lenv.Program([str(elf), str(map_path)], objs)
    if script is not None:
        env.Depends(nodes["elf"], script)
        nodes["bin"] = lenv.Command(str(out / "firmware.bin"), nodes["elf"], f"{b.objcopy} -O binary $SOURCE $TARGET")[0]

    # Footprint: the full report is written first, then the build fails when over budget.
    fp_opts = {"baseline": bool(baseline), "max_growth": max_growth, "ram_margin": ram_margin}
    baseline_node = [node(env, env.File(baseline).abspath)] if baseline else []
    nodes["footprint"] = command(benv, [str(out / "footprint.json"), str(out / "footprint.md")],
                                 [nodes["elf"], nodes["map"], board_file] + baseline_node, _footprint, "footprint",
                                 ["QBUILD_BOARD", "QBUILD_FOOTPRINT", "QBUILD_BASELINE"],
                                 QBUILD_FOOTPRINT=as_json(fp_opts),
                                 QBUILD_BASELINE=literal(project_path(env, baseline_node[0].abspath) if baseline else ""))

    if b.runner_command(elf) is not None:
        nodes["run"] = command(benv, str(out / "run.json"),
                               [nodes["elf"], model_nodes["tflite"]] + ([data_node] if has_data else []), _run, "run",
                               ["QBUILD_BOARD", "QBUILD_HAS_DATA"], QBUILD_HAS_DATA=int(has_data))[0]
        env.Alias("run", nodes["run"])
    else:
        env.AlwaysBuild(benv.Alias("run", [], benv.Action(_no_runner, None)))
    if isinstance(b.runner, tuple) and b.runner[0].startswith("qemu-system"):
        plugin = command(env, "#build/tools/qemu_insn_plugin.so", [str(runtime.RUNTIME_DIR / "tools" /
                                                                       "qemu_insn_plugin.c")], _plugin,
                         "instruction-count plugin")[0]
        nodes["profile"] = command(benv, [str(out / f"profile.{ext}") for ext in ("json", "csv", "md", "html")],
                                   [nodes["elf"], model_nodes["tflite"], plugin, board_file], _profile, "profile",
                                   ["QBUILD_BOARD"])
        env.Alias("profile", nodes["profile"])
    else:
        env.AlwaysBuild(benv.Alias("profile", [], benv.Action(_no_profile, None)))
    # The model page of this board build: the model's artifacts, the footprint, and the profile when it is asked for
    # (`profile` on the command line; a page built without it leaves that section saying how to get it).
    from SCons.Script import COMMAND_LINE_TARGETS

    page_sources = [model_nodes["tflite"]] + [model_nodes[k] for k in ("metrics", "csv", "advice")
                                              if k in model_nodes.nodes] + list(nodes["footprint"])
    if "profile" in COMMAND_LINE_TARGETS and "profile" in nodes:
        page_sources += list(nodes["profile"])
    nodes["page"] = command(benv, str(out / "index.html"), page_sources, _board_page, "model page")[0]
    if "profile" in nodes:
        env.Alias("profile", nodes["page"])
    env.Alias("footprint", nodes["footprint"])
    env.Alias(f"{b.id}-{t.name}", [n for v in nodes.values() for n in (v if isinstance(v, list) else [v])])
    return FirmwareNodes(b, nodes)
