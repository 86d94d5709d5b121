"""qbuild.tflite.plan: the planner's exact placement rules, the op check, the CLI, and that it never imports TensorFlow."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qbuild.errors import QbuildError
from qbuild.tflite.plan import check_ops, plan_buffers, plan_model
from test_runtime_corpus import corpus  # noqa: F401
from tests.kernels.tflite_ops import mutate as repack  # edit a .tflite through the schema's object API

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_greedy_placement_exact_offsets():
    # (size, first op, last op): A and C never live together, so they share offset 0; B must go above both,
    # D (live throughout) above B. Offsets are 16-aligned.
    spec = [(100, 0, 1), (50, 1, 2), (100, 2, 3), (30, 0, 3)]
    buffers = [{"order": i, "size": s, "first": f, "last": l} for i, (s, f, l) in enumerate(spec)]
    total = plan_buffers(buffers)
    assert [b["offset"] for b in buffers] == [0, 112, 0, 176]
    assert total == 208


def test_buffers_with_disjoint_lifetimes_share_space():
    # A (op 0) and B (op 1) share offset 0; C, live at both ops, goes above the larger of them (16-aligned).
    spec = [(100, 0, 0), (64, 1, 1), (8, 0, 1)]
    buffers = [{"order": i, "size": s, "first": f, "last": l} for i, (s, f, l) in enumerate(spec)]
    assert plan_buffers(buffers) == 128  # 112 + 8, aligned to 16
    assert [b["offset"] for b in buffers] == [0, 0, 112]


def test_small_buffer_fills_a_gap_first_fit():
    # A [0,100) ops 0-1, B [112,162) ops 1-2 ... D (size 8, op 0 only) fits in the hole left where B's lifetime
    # does not overlap: at 112, below the 30-byte buffer placed at 176.
    spec = [(100, 0, 1), (50, 1, 2), (30, 0, 2), (8, 0, 0)]
    buffers = [{"order": i, "size": s, "first": f, "last": l} for i, (s, f, l) in enumerate(spec)]
    plan_buffers(buffers)
    assert [b["offset"] for b in buffers] == [0, 112, 176, 112]


def test_plan_has_lower_bound_below_arena(corpus):
    for path in corpus.values():
        p = plan_model(path.read_bytes(), 4)
        assert 0 < p.lower_bound_bytes <= p.activation_bytes < p.arena_bytes
        assert p.ops and all(isinstance(n, str) and isinstance(t, str) for n, t in p.ops)


def test_pointer_size_changes_only_runtime_data(corpus):
    data = corpus["pools"].read_bytes()
    p4, p8 = plan_model(data, 4), plan_model(data, 8)
    assert p4.activation_bytes == p8.activation_bytes and p4.offsets == p8.offsets
    assert p8.persistent_bytes > p4.persistent_bytes


def test_check_ops_names_unsupported_op_tensor_and_supported_list(corpus):
    def to_gelu(m):
        m.operatorCodes[0].builtinCode = 150  # GELU
        m.operatorCodes[0].deprecatedBuiltinCode = 127
    data = repack(corpus["fc_per_tensor_int8io"].read_bytes(), to_gelu)
    with pytest.raises(QbuildError) as e:
        check_ops(data)
    msg = str(e.value)
    assert "\n" not in msg
    assert "GELU (output tensor '" in msg and "supported ops: ADD, AVERAGE_POOL_2D" in msg


def test_cli_json_matches_api_and_never_imports_tensorflow(corpus):
    path = corpus["residual_add_relu"]
    code = ("import sys, json; from qbuild.__main__ import main; rc = main(['plan', sys.argv[1], '--json', "
            "'--pointer-size', '8']); assert 'tensorflow' not in sys.modules, 'plan imported TF'; sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["arena_bytes"] == plan_model(path.read_bytes(), 8).arena_bytes
    assert [tuple(o) for o in out["ops"]] == plan_model(path.read_bytes(), 8).ops


def test_cli_missing_file_is_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "qbuild", "plan", str(tmp_path / "nope.tflite")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "nope.tflite" in r.stderr and "Traceback" not in r.stderr


def test_check_ops_rejects_float_arithmetic(corpus):
    def to_float(m):
        conv = next(op for op in m.subgraphs[0].operators if m.operatorCodes[op.opcodeIndex].builtinCode == 3)
        m.subgraphs[0].tensors[conv.outputs[0]].type = 0  # FLOAT32
    data = repack(corpus["conv_same_relu"].read_bytes(), to_float)
    with pytest.raises(QbuildError, match=r"int8 only.*CONV_2D \(output tensor '"):
        check_ops(data)
