"""cache=DIR: a build cache filled by one checkout restores another checkout's build at a different path — the
trained model, the .tflite and firmware.map included — without TensorFlow, and the footprint check passes."""
from __future__ import annotations

import json

from tests.scons_helpers import fresh_tree, scons, steps_run


def test_cache_restores_a_second_checkout_without_tensorflow(tmp_path):
    cache = tmp_path / "cache"
    first = fresh_tree(tmp_path / "a")
    scons(first, "board=efr32", "model=digits", f"cache={cache}")
    assert any(cache.rglob("*")), "the first build filled the cache"

    second = fresh_tree(tmp_path / "elsewhere" / "deeper" / "b")
    p = scons(second, "board=efr32", "model=digits", f"cache={cache}", importtime=True)
    ran = steps_run(p)
    assert not {"dataset", "train", "quantize"} & set(ran), ran
    assert "import time:" in p.stderr and " tensorflow" not in p.stderr  # -X importtime: TF never imported
    retrieved = p.stdout
    for artifact in ("build/models/digits/digits.keras", "build/models/digits/digits.tflite",
                     "build/efr32/digits/firmware.map"):
        assert f"Retrieved `{artifact}' from cache" in retrieved, artifact
    out = second / "build" / "efr32" / "digits"
    assert json.loads((out / "footprint.json").read_text())["ok"]
    assert (out / "firmware.elf").read_bytes() == (first / "build" / "efr32" / "digits" / "firmware.elf").read_bytes()


def test_cache_option_checked(tmp_path):
    tree = fresh_tree(tmp_path / "t")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    p = scons(tree, "model=digits", f"cache={not_a_dir}", check=False)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == (f"qbuild: error: cache={not_a_dir} is not a directory; pass a "
                                                "directory (created when missing)")
