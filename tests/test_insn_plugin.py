"""runtime/tools/qemu_insn_plugin.c, the exact instruction counter, validated on real firmware under real QEMU: the
multiply-accumulate instructions of a kernel execute exactly as often as the layer has MACs (SMLAD = 2 MACs,
SMLABB/SMLATT = 1 in the DSP kernels; MLA = 1 in the portable loop), spans are recorded once per call, and the same
ELF gives the same counts every run."""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.harness import build_firmware_harness
from test_runtime_corpus import convert

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm") and shutil.which("gcc")),
    reason="arm-none-eabi-g++ / qemu-system-arm / gcc missing: run scripts/setup")


def _profile_bench():
    spec = importlib.util.spec_from_file_location("profile_bench", ROOT / "bench" / "profile_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pb = _profile_bench()

# Conv 1x1: 5x5 pixels x 8 filters x 16 channels; depthwise 3x3 VALID on 6x6x8 (4x4 outputs); both without
# tails (channel counts multiples of 4, no padding), so the DSP kernels use only their dual/lane MAC instructions.
CONV_MACS = 5 * 5 * 8 * 16
DW_MACS = 4 * 4 * 8 * 9


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(4)
    L = keras.layers
    x = keras.Input(shape=(5, 5, 16), batch_size=1)
    conv = keras.Model(x, L.Conv2D(8, 1)(x))
    x = keras.Input(shape=(6, 6, 8), batch_size=1)
    dw = keras.Model(x, L.DepthwiseConv2D(3)(x))
    models = {"conv": convert(conv, {"int8_io": True}, rng), "dw": convert(dw, {"int8_io": True}, rng)}
    out = tmp_path_factory.mktemp("insn_plugin")
    plugin = pb.build_plugin(out)
    elfs = {}
    for dsp in (True, False):
        for name, data in models.items():
            inp = rng.integers(-128, 128, 5 * 5 * 16 if name == "conv" else 6 * 6 * 8, dtype=np.int8).tobytes()
            # Two cases: two inferences per run.
            cases = [(f"{name}1", data, inp), (f"{name}2", data, inp[::-1])]
            elfs[(name, dsp)] = build_firmware_harness(out / f"{name}_{dsp}", cases, 64 * 1024, board_id="qemu-m33",
                                                       opt="-Os", defines=[] if dsp else ["QBUILD_KERNELS_DSP=0"])
    return plugin, elfs, out


def _counts(plugin, elf, work, functions: tuple[str, ...], mnemonics: dict[str, int]) -> list[tuple[int, str]]:
    """(executions, mnemonic) of every instruction with one of these mnemonics inside the named functions."""
    funcs = pb.disassemble(elf)
    lines = []
    for name, insns in funcs.items():
        if not any(f in name for f in functions):
            continue
        for (addr, mn, _), (nxt, _, _) in zip(insns, insns[1:]):
            if mn in mnemonics:
                lines.append(f"{addr:#x} {nxt:#x} {mn}\n")
    assert lines, f"no {sorted(mnemonics)} in {functions}"
    rf = work / f"{elf.parent.name}.ranges"
    rf.write_text("".join(lines))
    r = pb.run_with_plugin(plugin, "qemu-m33", elf, ranges_file=rf, work=work)
    return [(n, name) for _, n, name in r["ranges"]]


def _count(plugin, elf, work, functions: tuple[str, ...], mnemonics: dict[str, int]) -> int:
    """Executed MACs: executions of each mnemonic inside the named functions, times its MACs per execution."""
    return sum(n * mnemonics[name] for n, name in _counts(plugin, elf, work, functions, mnemonics))


def test_dsp_mac_instructions_execute_once_per_mac_pair(setup):
    plugin, elfs, work = setup
    # Two inferences per run.
    assert _count(plugin, elfs[("conv", True)], work, ("conv_pixel",), {"smlad": 2}) == 2 * CONV_MACS
    assert _count(plugin, elfs[("dw", True)], work, ("depthwise_pixel",), {"smlabb": 1, "smlatt": 1}) == 2 * DW_MACS


def test_portable_mla_executes_once_per_mac(setup):
    # The portable loop also uses MLA for index math: its innermost MLA is the multiply-accumulate.
    plugin, elfs, work = setup
    assert max(_counts(plugin, elfs[("conv", False)], work, ("eval_conv(",), {"mla": 1}))[0] == 2 * CONV_MACS
    assert max(_counts(plugin, elfs[("dw", False)], work, ("eval_conv(",), {"mla": 1}))[0] == 2 * DW_MACS


def test_spans_per_call_and_repeatable(setup):
    plugin, elfs, work = setup
    elf = elfs[("conv", True)]
    a = pb.profile_elf(plugin, "qemu-m33", elf, work)
    b = pb.profile_elf(plugin, "qemu-m33", elf, work)
    assert a == b  # exact and deterministic
    assert len(a["inferences"]) == 2 and len(a["ops"]) == 2  # one CONV_2D per inference
    # The op's eval is part of the inference, the inference part of the whole run.
    assert all(0 < op < inf for op, inf in zip(a["ops"], a["inferences"]))
    assert sum(a["inferences"]) < a["total"]
    # Instructions per MAC of the 1x1 conv: the DSP kernel well below the portable loop.
    p = pb.profile_elf(plugin, "qemu-m33", elfs[("conv", False)], work)
    assert a["ops"][0] < p["ops"][0] / 3


def test_plugin_rejects_bad_arguments(setup, tmp_path):
    import subprocess

    plugin, elfs, _ = setup
    from qbuild.target.boards import load_board

    cmd = load_board("qemu-m33").runner_command(elfs[("conv", True)])
    r = subprocess.run([*cmd, "-plugin", f"{plugin},bogus=1"], capture_output=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0
