"""Test and benchmark harnesses around qbuild's runtime (not part of the product): the host tool `qbuild-run`, the
libFuzzer build of the loader, and a bare-metal harness that runs many (model, input) cases on a QEMU board.

Each compiles the runtime with `qbuild.target.runtime.CXXFLAGS`, the flag set every product build uses, and caches
its output by content (qbuild.fsutil.content_digest).
"""
from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

from qbuild.codegen.linker import write_linker_script
from qbuild.errors import QbuildError
from qbuild.fsutil import content_digest, is_fresh, record
from qbuild.target.boards import load_board
from qbuild.target.firmware import run_firmware
from qbuild.target.runtime import CXXFLAGS, RUNTIME_DIR, WARNINGS, headers, include_dirs, sources


def _build_cached(exe: Path, main_source: Path, flags: list[str], cxx: str, what: str) -> Path:
    """Compile the runtime + one main source into `exe`, unless a stamp says the same inputs and flags made it."""
    exe.parent.mkdir(parents=True, exist_ok=True)
    stamp = exe.with_suffix(".sha")
    digest = content_digest(sources() + headers() + [main_source], [*flags, cxx])
    if is_fresh(stamp, digest, [exe]):
        return exe
    tmp = exe.with_name(exe.name + ".tmp")
    cmd = [cxx, *flags, *[f"-I{d}" for d in include_dirs()], *map(str, sources()), str(main_source), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise QbuildError(f"building {what} failed ({cxx}): {r.stderr.strip().splitlines()[0] if r.stderr else '?'}")
    os.replace(tmp, exe)
    record(stamp, digest)
    return exe


def build_host_tool(out_dir, sanitize: bool = False, cxx: str = "g++", extra_flags: list[str] | None = None) -> Path:
    """Compiles runtime/tools/qbuild_run.cc with the runtime into out_dir/qbuild-run[-asan]; cached by content hash."""
    flags = CXXFLAGS + WARNINGS + ["-O2"] + list(extra_flags or [])
    if sanitize:
        flags += ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    exe = Path(out_dir) / ("qbuild-run-asan" if sanitize else "qbuild-run")
    return _build_cached(exe, RUNTIME_DIR / "tools" / "qbuild_run.cc", flags, cxx, "qbuild-run")


def build_fuzzer(out_dir, cxx: str = "clang++") -> Path:
    """libFuzzer + ASan + UBSan build of runtime/fuzz/fuzz_load.cc (clang 14 with libclang-rt)."""
    # Signed overflow is defined (-fwrapv): arithmetic on fuzzed weights may wrap, as in TFLM; every out-of-bounds
    # access that a wrapped index could cause is still caught by ASan.
    flags = CXXFLAGS + WARNINGS + ["-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize=signed-integer-overflow",
                        "-fno-sanitize-recover=all"]
    return _build_cached(Path(out_dir) / "fuzz-load", RUNTIME_DIR / "fuzz" / "fuzz_load.cc", flags, cxx, "the fuzzer")


def pack_cases(cases: list[tuple[str, bytes, bytes]]) -> bytes:
    """Test cases (name, model, input bytes) as the blob runtime/tools/qemu_run.cc reads (format documented there)."""
    header = 8 + 20 * len(cases)
    body = bytearray()
    entries = []

    def put(data: bytes, align: int) -> int:
        while (header + len(body)) % align:
            body.append(0)
        off = header + len(body)
        body.extend(data)
        return off

    for name, model, inp in cases:
        name_off = put(name.encode() + b"\0", 1)
        model_off = put(model, 16)
        input_off = put(inp, 16)
        entries.append((name_off, model_off, len(model), input_off, len(inp)))
    out = bytearray(b"QBTC" + struct.pack("<I", len(cases)))
    for e in entries:
        out += struct.pack("<5I", *e)
    return bytes(out + body)


def build_firmware_harness(out_dir, cases: list[tuple[str, bytes, bytes]], arena_bytes: int,
                           board_id: str = "qemu-m33", opt: str = "-O2", defines: list[str] | None = None,
                           extra_flags: list[str] | None = None, commands: list | None = None,
                           dry_run: bool = False) -> Path:
    """Cross-compiles runtime/tools/qemu_run.cc + the runtime + board support with the cases linked in.

    `defines` (e.g. ["QBUILD_OP_ADD=0"]) set port.h knobs; the link map is written next to the ELF (harness.map).
    `commands` collects every compile command; `dry_run` only collects them (tests/test_flags.py)."""
    board = load_board(board_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "qbuild_cases.bin").write_bytes(pack_cases(cases))
    script = write_linker_script(board, out_dir / "harness.ld")
    tools = RUNTIME_DIR / "tools"
    objs = []
    inc = [f"-I{d}" for d in include_dirs() + board.include_dirs()]
    jobs = [(src, board.cxx, [*board.cflags, *board.cxx_only_flags, *CXXFLAGS, *WARNINGS, opt, f"-DQBUILD_TEST_ARENA={arena_bytes}",
                                        *[f"-D{d}" for d in defines or []], *(extra_flags or [])])
            for src in sources() + [tools / "qemu_run.cc"]]
    jobs += [(src, board.cc, [*board.cflags, opt]) for src in board.support_sources()]
    jobs.append((tools / "qemu_blob.S", board.cc, [*board.cflags, f"-Wa,-I{out_dir}"]))
    for i, (src, compiler, flags) in enumerate(jobs):
        obj = out_dir / f"{i:02d}_{src.stem}.o"
        cmd = [compiler, *flags, *inc, "-c", str(src), "-o", str(obj)]
        if commands is not None:
            commands.append(cmd)
        if dry_run:
            continue
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise QbuildError(f"compiling {src.name} for {board_id} failed: {r.stderr.strip()[:400]}")
        objs.append(str(obj))
    elf = out_dir / "harness.elf"
    if dry_run:
        return elf
    r = subprocess.run([board.link, *board.link_flags(script, out_dir / "harness.map"), *(extra_flags or []), opt,
                        *objs, "-lm", "-o", str(elf)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise QbuildError(f"linking the {board_id} harness failed: {r.stderr.strip()[:400]}")
    return elf


def run_firmware_harness(elf, board_id: str = "qemu-m33") -> dict[str, dict]:
    """Runs the harness with the board's runner; returns {case name: {"status", "arena", "out" (bytes)}}."""
    code, text = run_firmware(load_board(board_id), elf)
    if code != 0:
        raise QbuildError(f"{board_id} harness exited with {code}: {text[-300:]}")
    results = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0] == "case":
            results[parts[1]] = {"status": int(parts[3]), "arena": int(parts[5]),
                                 "out": bytes.fromhex(parts[7]) if len(parts) > 7 else b""}
    return results
