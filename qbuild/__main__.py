"""`python -m qbuild <command> ...`: each command lives in the module that owns the concern."""
import importlib
import os
import sys

from qbuild.errors import QbuildError, ReportedError, debug, internal_error_line

# command -> (module, one-line help). Each module defines `cli_main(argv) -> int`.
COMMANDS = {
    "build": ("qbuild.pipeline.standalone", "build model artifacts without SCons (for Make/CMake)"),
    "params": ("qbuild.tflite.params", "print the model parameters (SL_PARAMSv1) of a .tflite as JSON"),
    "plan": ("qbuild.tflite.plan", "print the op list and planned arena size of a .tflite"),
    "prepare": ("qbuild.codegen.prepared", "write a .tflite's prepare as const C++ tables (the build-time load path)"),
    "summarize": ("qbuild.tflite.summary", "per-op shapes, parameters, MACs, live activation bytes and quantization"),
    "size": ("qbuild.footprint.cli", "flash/RAM footprint of an ELF against a board's budget"),
    "size-diff": ("qbuild.footprint.diff", "compare a change's footprint.json with main's (CI: Markdown, exit 1 on breach)"),
    "advise": ("qbuild.advise.cli", "run the quantization advisor checks alone"),
    "profile": ("qbuild.target.profile", "executed instructions per op of a firmware under QEMU (exact counts)"),
    "runtime": ("qbuild.target.runtime", "the runtime's sources, include dirs and compile flags (CMake, Make)"),
    "linker": ("qbuild.codegen.linker", "print or write a board's linker script"),
    "board": ("qbuild.target.board_cli", "a board's flags, support sources and linker script (CMake, Make)"),
    "ops": ("qbuild.codegen.op_table", "write qbuild_ops.h: only a model's ops in the runtime (CMake, Make)"),
    "firmware": ("qbuild.pipeline.buildsys", "a model's artifact paths, main.cc and bit-exact run (CMake, Make)"),
}


def usage() -> str:
    lines = ["usage: python -m qbuild <command> [args...]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"qbuild: unknown command '{name}'; valid: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.cli_main(rest) or 0)
    except ReportedError:
        return 1
    except QbuildError as e:
        print(f"qbuild {name}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `python -m qbuild plan --json | head`: the reader is gone, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"qbuild {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 (the CLI's last word: one line, not a traceback)
        if debug():
            raise
        print(internal_error_line(f"qbuild {name}", e), file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
