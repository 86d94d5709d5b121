"""Footprint check benchmark: a real qbuild-style efr32 firmware (qbuild's runtime + an MLTK sample model + the board
support), the time `analyze` takes on it with and without the map file, and its component breakdown.

    .venv/bin/python bench/footprint_bench.py [--model .cache/mltk/tflite_micro_speech.tflite] [--arena 16384]
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qbuild.footprint.analyze import analyze  # noqa: E402
from qbuild.footprint.render import render_console  # noqa: E402
from qbuild.target.boards import load_board  # noqa: E402
from qbuild.codegen.linker import write_linker_script  # noqa: E402

MAIN_CC = r"""
#include <stddef.h>
#include <stdint.h>
#include "qbuild/model.h"
#include "qbuild_board.h"
extern "C" const uint8_t sl_tflite_model_array[];
alignas(16) static uint8_t tensor_arena[ARENA_BYTES];
int main() {
    qbuild::Model model;
    if (model.load(sl_tflite_model_array, tensor_arena, sizeof(tensor_arena)) != qbuild::Status::kOk) return 1;
    if (model.invoke() != qbuild::Status::kOk) return 2;
    qbuild_write("ok\n", 3);
    return 0;
}
"""


def sh(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"command failed: {' '.join(map(str, cmd))}\n{result.stderr}")


def build(out: Path, model: Path, arena: int) -> Path:
    board = load_board("efr32")
    data = model.read_bytes()
    (out / "sl_tflite_micro_model.c").write_text(
        "#include <stdint.h>\n__attribute__((aligned(16))) const uint8_t sl_tflite_model_array[] = {"
        + ",".join(str(b) for b in data) + "};\n")
    (out / "main.cc").write_text(MAIN_CC)
    sources = [out / "sl_tflite_micro_model.c", out / "main.cc", *board.support_sources()]
    runtime = sorted((ROOT / "runtime").glob("src/**/*.cc")) + sorted((ROOT / "runtime").glob("kernels/*.cc"))
    inc = [f"-I{ROOT / 'runtime/include'}", f"-I{ROOT / 'runtime/src'}", f"-I{ROOT / 'runtime'}",
           *(f"-I{d}" for d in board.include_dirs())]
    objs = []
    for src in sources + runtime:
        rel = src.relative_to(ROOT) if src.is_relative_to(ROOT) else Path(src.name)
        obj = out / "obj" / rel.with_suffix(".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        cxx = src.suffix == ".cc"
        sh([board.cxx if cxx else board.cc, *(board.cxxflags if cxx else board.cflags), "-Os", *inc,
            f"-DARENA_BYTES={arena}", "-c", src, "-o", obj])
        objs.append(obj)
    elf = out / "firmware.elf"
    sh([board.link, *objs, *board.link_flags(write_linker_script(board, out / "firmware.ld"), out / "firmware.map"),
        "-o", elf])
    return elf


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / ".cache/mltk/tflite_micro_speech.tflite")
    parser.add_argument("--arena", type=int, default=16384)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        elf = build(Path(tmp), args.model, args.arena)
        build_s = time.perf_counter() - t0
        report, with_map = timed(lambda: analyze(elf, "efr32"))
        bare = elf.with_name("copy.elf")
        bare.write_bytes(elf.read_bytes())
        _, without_map = timed(lambda: analyze(bare, "efr32"))
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "qbuild", "size", elf, "--board", "efr32"], cwd=ROOT,
                             capture_output=True, text=True)
        cli_s = time.perf_counter() - t0
    print(f"model {args.model.name} ({args.model.stat().st_size:,} B), arena {args.arena:,} B; "
          f"build {build_s:.1f} s; {len(report['symbols'])} symbols")
    print(f"analyze with map {with_map * 1000:.0f} ms, without map {without_map * 1000:.0f} ms, "
          f"`python -m qbuild size` process {cli_s * 1000:.0f} ms (exit {cli.returncode})")
    print(render_console(report), end="")


if __name__ == "__main__":
    main()
