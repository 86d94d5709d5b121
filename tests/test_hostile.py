"""Hostile and careless input: each case ends with one `error:` line and a non-zero exit (or builds safely), leaves
no half-written artifact and creates nothing outside build/."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qbuild.errors import QbuildError
from qbuild.model.data import check_labels
from tests.scons_helpers import ROOT, SCONS, fresh_tree, scons


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    t = fresh_tree(tmp_path_factory.mktemp("hostile"))
    scons(t, "model=digits")
    return t


def _run(tree, *args, env=None):
    e = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", **(env or {}))
    return subprocess.run([sys.executable, SCONS, "-Q", *args], cwd=tree, env=e, capture_output=True, text=True,
                          timeout=900)


def _one_error(p) -> str:
    assert p.returncode != 0, p.stdout[-2000:]
    lines = [ln for ln in p.stderr.splitlines() if "error:" in ln and not ln.startswith("scons: ***")]
    assert len(lines) == 1, p.stderr[-3000:]
    assert "Traceback" not in p.stderr + p.stdout
    return lines[0]


def _files(root: Path) -> set:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if "build" not in p.relative_to(root).parts[:1]}


@pytest.mark.parametrize("stem", ["g;>pwned;h", "a`touch pwned2`b $(touch pwned3) $HOME"])
def test_injection_names_build_and_run_safely(tree, tmp_path, stem):
    src = tmp_path / f"{stem}.tflite"
    src.write_bytes((tree / "build" / "models" / "digits" / "digits.tflite").read_bytes())
    before = _files(tree)
    p = scons(tree, "board=host", f"model={src}", "run")
    assert "identical to the reference on 5 samples" in p.stdout
    assert _files(tree) == before and not list(tmp_path.glob("pwned*")) and not list(Path.cwd().glob("pwned*"))
    folders = [d.name for d in (tree / "build" / "host").iterdir()]
    assert all(set(n) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") for n in folders)


def test_a_file_model_never_shares_the_spec_folder(tree, tmp_path):
    spec_tflite = tree / "build" / "models" / "digits" / "digits.tflite"
    before = spec_tflite.read_bytes()
    other = tmp_path / "digits.tflite"
    other.write_bytes(before[:-4] + b"\0\0\0\0")  # a different file with the same stem
    p = _run(tree, f"model={other}")
    assert spec_tflite.read_bytes() == before
    assert "build/models/digits-" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["norm=rescale:1/0"], "finite, non-zero factor"),
    (["norm=rescale:nan"], "finite, non-zero factor"),
    (["board=efr32", "ram_margin=200%"], "ram_margin must be bytes"),
    (["board=efr32", "max_growth=10"], "needs baseline="),
    (["strict=yes"], "strict=yes"),
    (["clean=some"], "clean=some"),
])
def test_bad_options_fail_before_any_step(tree, tmp_path, args, needle):
    (tmp_path / "m.keras").write_bytes(b"not used")
    np.savez(tmp_path / "raw.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    model = [f"model={tmp_path / 'm.keras'}", f"data={tmp_path / 'raw.npz'}"] if args[0].startswith("norm") else [
        "model=digits"]
    footprint = tree / "build" / "efr32" / "digits" / "footprint.json"
    stamp = footprint.stat().st_mtime_ns if footprint.exists() else None
    p = _run(tree, *model, *args)
    line = _one_error(p)
    assert needle in line and p.returncode == 2
    assert "qbuild: " not in p.stdout  # no step ran
    assert (footprint.stat().st_mtime_ns if footprint.exists() else None) == stamp


def _bomb(path: Path, gib: float) -> None:
    """A .npz whose x.npy holds `gib` GiB of zeros: a few MB on disk, streamed (never materialised here)."""
    n = int(gib * 2**30) // 64
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (n, 64)})
        chunk = bytes(1 << 24)
        for _ in range(n * 64 // len(chunk)):
            f.write(chunk)


def test_decompression_bomb_is_refused_within_its_cap_using_little_memory(tree, tmp_path):
    bomb = tmp_path / "bomb.npz"
    _bomb(bomb, 3)
    assert bomb.stat().st_size < 8 << 20
    code = ("import sys\nfrom qbuild.model.data import load_user_npz\nfrom qbuild.errors import QbuildError\n"
            "try:\n    load_user_npz(sys.argv[1])\nexcept QbuildError as e:\n    print(e)\n"
            # VmHWM: this process's peak RSS (ru_maxrss can carry the forking parent's figure across exec)
            "print(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')))\n")
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert "unpacks to 3,221,225,600 bytes, over the 1,073,741,824-byte limit" in out[0]  # 3 GiB + the .npy header
    assert "QBUILD_MAX_DATA_BYTES" in out[0]
    assert int(out[1]) < 200 * 1024  # KiB: the arrays were never read
    # through the build: one line, nothing written for the model
    (tmp_path / "m.keras").write_bytes(b"x")
    p = _run(tree, f"model={tmp_path / 'm.keras'}", f"data={bomb}")
    assert "over the 1,073,741,824-byte limit" in _one_error(p)
    assert not any((tree / "build" / "models").glob("m-*/m.tflite"))


@pytest.mark.parametrize("y,needle", [
    (np.array(["cat", "dog"]), "dtype <U3"),
    (np.eye(2), "one-hot"),
    (np.array([0.0, np.nan]), "NaN"),
    (np.array([0, 7]), "below 3"),
    (np.array([-1, 0]), ">= 0"),
])
def test_bad_labels_are_one_line(y, needle):
    with pytest.raises(QbuildError, match=needle.replace("(", r"\(")):
        check_labels(y, 2, "raw.npz", num_classes=3)


def test_labels_out_of_range_through_the_build(tree, tmp_path):
    import keras

    m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    m.save(tmp_path / "m.keras")
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "raw.npz", x=rng.rand(16, 8, 8, 1).astype(np.float32), y=np.arange(16) % 5)
    line = _one_error(_run(tree, f"model={tmp_path / 'm.keras'}", f"data={tmp_path / 'raw.npz'}"))
    assert "labels range 0..4" in line and "below 3" in line


def test_plan_on_a_bit_flipped_model_and_into_a_closed_pipe(tree, tmp_path):
    data = bytearray((tree / "build" / "models" / "digits" / "digits.tflite").read_bytes())
    rng = np.random.RandomState(3)
    for i in rng.choice(len(data), 40, replace=False):
        data[i] ^= 0xFF
    bad = tmp_path / "flipped.tflite"
    bad.write_bytes(bytes(data))
    p = subprocess.run([sys.executable, "-m", "qbuild", "plan", str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and str(bad) in p.stderr and "Traceback" not in p.stderr
    good = tree / "build" / "models" / "digits" / "digits.tflite"
    sh = f"{sys.executable} -m qbuild plan --json {good} | head -c 10"
    p = subprocess.run(["bash", "-c", f"set -o pipefail; {sh}"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""


def _edit_params(src: Path, dst: Path, **changes) -> None:
    from qbuild.tflite.params import embed_params, read_params

    data = src.read_bytes()
    dst.write_bytes(embed_params(data, {**read_params(data), **changes}))


def test_rescale_stored_as_a_string_is_one_line(tree, tmp_path):
    bad = tmp_path / "strscale.tflite"
    _edit_params(tree / "build" / "models" / "digits" / "digits.tflite", bad, **{"samplewise_norm.rescale": "0.0625"})
    line = _one_error(_run(tree, "board=host", f"model={bad}"))
    assert "samplewise_norm.rescale" in line and "finite number" in line


@pytest.mark.parametrize("shape,needle", [([1, 32768, 32768, 1], "above the runtime's limit"),
                                          ([1, -3, 8, 1], "below 1"), ([1, 2**31 - 1, 1, 1], "above the runtime's")])
def test_crafted_dims_are_refused_alike_by_plan_and_the_build(tree, tmp_path, shape, needle):
    from tests.kernels.tflite_ops import mutate

    src = (tree / "build" / "models" / "digits" / "digits.tflite").read_bytes()

    def edit(m):
        g = m.subgraphs[0]
        g.tensors[g.inputs[0]].shape = np.array(shape, dtype=np.int32)
    bad = tmp_path / "dims.tflite"
    bad.write_bytes(mutate(src, edit))
    p = subprocess.run([sys.executable, "-m", "qbuild", "plan", str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 1 and needle in p.stderr and "Traceback" not in p.stderr
    line = _one_error(_run(tree, "board=qemu-m33", f"model={bad}"))
    assert needle in line


def test_two_builds_in_one_tree_take_turns(tmp_path):
    t = fresh_tree(tmp_path / "t")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    cmd = [sys.executable, SCONS, "-Q", "model=digits"]
    first = subprocess.Popen(cmd, cwd=t, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = t / "build" / ".qbuild-lock"
    deadline = __import__("time").time() + 120
    while not lock.exists() and __import__("time").time() < deadline:
        __import__("time").sleep(0.05)
    second = subprocess.run(cmd, cwd=t, env=env, capture_output=True, text=True, timeout=900)
    out1, err1 = first.communicate(timeout=900)
    assert first.returncode == 0 and second.returncode == 0, err1 + second.stderr
    assert "another build is running" in second.stderr
    assert scons(t, "model=digits").stdout.count("qbuild: ") == 0  # nothing lost: a no-op, .sconsign intact


def test_two_directories_build_the_same_bytes(tmp_path):
    """Clean builds in two checkouts at different paths: every file under build/ is byte-identical, except the
    timing fields of metrics.json and the spec cache (it records where the spec is)."""
    trees = [fresh_tree(tmp_path / "a"), fresh_tree(tmp_path / "much" / "deeper" / "b")]
    for t in trees:
        scons(t, "board=efr32", "model=digits")
    a, b = (t / "build" for t in trees)
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert {"efr32/digits/firmware.elf", "efr32/digits/firmware.bin", "efr32/digits/footprint.json",
            "models/digits/digits.keras", "models/digits/digits.tflite"} <= set(names)
    differ = []
    for n in names:
        x, y = (a / n).read_bytes(), (b / n).read_bytes()
        if n.endswith("metrics.json"):
            x, y = ({k: v for k, v in json.loads(z).items() if not k.endswith("_seconds")} for z in (x, y))
        if x != y and not n.startswith("models/.specs/") and n != ".qbuild-lock":
            differ.append(n)
    assert differ == []


def test_unwritable_output_is_one_line(tmp_path):
    from qbuild.fsutil import write_atomic

    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(QbuildError, match="cannot write .* check that its folder is writable"):
        write_atomic(blocker / "out.json", "{}")


def test_layer_names_tensorflow_rejects_are_one_line(tree, tmp_path):
    import keras

    i = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, name="conv <b> one")(i)
    m = keras.Model(i, keras.layers.Dense(3, name='out"q')(keras.layers.Flatten(name="flat & x")(x)))
    m.save(tmp_path / "weird.keras")
    np.savez(tmp_path / "raw.npz", x=np.random.RandomState(0).rand(16, 8, 8, 1).astype(np.float32))
    line = _one_error(_run(tree, f"model={tmp_path / 'weird.keras'}", f"data={tmp_path / 'raw.npz'}"))
    assert "'conv <b> one'" in line and "rename the layer" in line
    assert not any((tree / "build" / "models").glob("weird-*/weird.tflite"))
