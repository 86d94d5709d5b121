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


def _producer(g, t):
    return next(i for i, op in enumerate(g.ops) if t in op.outputs)


def test_reshape_aliases_and_elementwise_ops_overwrite_in_place(corpus):
    from qbuild.tflite.reader import read_model
    kinds = set()
    for path in corpus.values():
        g = read_model(path.read_bytes())
        p = plan_model(g, 4)
        lifetimes = {}
        for t, r in p.shared.items():
            lifetimes.setdefault(r, []).append(t)
        for t, r in p.shared.items():
            i = _producer(g, t)
            op = g.ops[i]
            kinds.add(op.name)
            assert p.offsets[t] == p.offsets[r] and g.tensors[t].bytes() == g.tensors[r].bytes(), path.stem
            assert r not in g.inputs or op.name == "RESHAPE", f"{path.stem}: a graph input was overwritten"
            if op.name != "RESHAPE":  # overwritten: no member of the input's group is read after op i
                group = [m for m, root in p.shared.items() if root == r and _producer(g, m) <= i] + [r]
                assert all(not any(m in o.inputs for o in g.ops[i + 1:]) for m in group if m != t), path.stem
    # Every in-place kind is exercised by the corpus (and so by the bit-exactness tests on host and QEMU).
    assert {"RESHAPE", "ADD", "MUL", "SUB", "RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
            "QUANTIZE"} <= kinds


def test_overwrite_needs_the_input_to_die_there(corpus):
    # residual_add_relu: the ADD's output overwrites the conv output that dies there, never the skip input that
    # lives on; relu_relu6_standalone: RELU, RELU6 and RESHAPE chain on one buffer.
    from qbuild.tflite.reader import read_model
    g = read_model(corpus["relu_relu6_standalone"].read_bytes())
    p = plan_model(g, 4)
    chain = [op.outputs[0] for op in g.ops if op.name in ("RELU", "RELU6", "RESHAPE")]
    assert len({p.offsets[t] for t in chain}) == 1 and len(p.shared) == len(chain)
    g = read_model(corpus["residual_add_relu"].read_bytes())
    p = plan_model(g, 4)
    add = next(op for op in g.ops if op.name == "ADD")
    assert p.shared == {add.outputs[0]: p.shared[add.outputs[0]]}
    assert p.shared[add.outputs[0]] in add.inputs
    assert all(t not in g.inputs for t in p.shared.values())


PLANNER_DRIVER = r"""
#include <stdio.h>
#include "planner.h"
// stdin: count, then size first last per buffer; stdout: the total, then each offset.
int main() {
  static qbuild::PlanBuffer b[4096];
  unsigned n = 0;
  if (scanf("%u", &n) != 1 || n > 4096) return 2;
  for (unsigned i = 0; i < n; ++i) {
    unsigned s, f, l;
    if (scanf("%u %u %u", &s, &f, &l) != 3) return 2;
    b[i] = qbuild::PlanBuffer{s, 0, (uint16_t)f, (uint16_t)l, 0, (uint16_t)i};
  }
  printf("%u\n", (unsigned)qbuild::plan_buffers(b, (uint16_t)n, 16));
  for (unsigned i = 0; i < n; ++i) printf("%u\n", (unsigned)b[i].offset);
  return 0;
}
"""


@pytest.fixture(scope="module")
def planner_driver(tmp_path_factory):
    d = tmp_path_factory.mktemp("planner")
    (d / "main.cc").write_text(PLANNER_DRIVER)
    exe = d / "plan_buffers"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(ROOT / "runtime/src"), "-I", str(ROOT / "runtime/include"),
                    str(d / "main.cc"), str(ROOT / "runtime/src/planner.cc"), "-o", str(exe)], check=True)
    return exe


def random_buffers(rng, n):
    out = []
    for k in range(n):
        first = rng.randint(0, n // 2 + 1)
        size = rng.choice([rng.randint(1, 3000), 16 * rng.randint(1, 64), rng.randint(1, 40)])
        out.append({"order": k, "size": size, "first": first, "last": first + rng.randint(0, 4)})
    return out


def test_cpp_planner_equals_python_on_random_graphs(planner_driver):
    # The run-time planner (C++) and its mirror agree on every offset: 300 random lifetimes/sizes, 1..120 buffers.
    import random
    rng = random.Random(15)
    for trial in range(300):
        buffers = random_buffers(rng, rng.randint(1, 120))
        text = f"{len(buffers)}\n" + "".join(f"{b['size']} {b['first']} {b['last']}\n" for b in buffers)
        r = subprocess.run([str(planner_driver)], input=text, capture_output=True, text=True, check=True)
        got = [int(v) for v in r.stdout.split()]
        total = plan_buffers(buffers)
        assert got == [total] + [b["offset"] for b in buffers], trial


def _first_fit_in_order(buffers, order):
    from qbuild.tflite.placement import _align
    placed, end = [], 0
    for i in order:
        b, candidate = buffers[i], 0
        for o, s, f, l in sorted(placed):
            if l < b["first"] or b["last"] < f:
                continue
            if candidate + b["size"] <= o:
                break
            candidate = max(candidate, _align(o + s, 16))
        placed.append((candidate, b["size"], b["first"], b["last"]))
        end = max(end, candidate + b["size"])
    return _align(end, 16)


def test_search_finds_the_optimum_of_every_order_on_small_graphs():
    # Brute force: first fit over every permutation reaches the optimum (placing an optimal packing's buffers in
    # offset order reproduces it or better); the search must find exactly that, with valid offsets.
    import itertools
    import random

    from qbuild.tflite.placement import lower_bound, search_buffers
    rng = random.Random(3)
    improved = 0
    for _ in range(150):
        buffers = random_buffers(rng, rng.randint(2, 6))
        best = min(_first_fit_in_order(buffers, p) for p in itertools.permutations(range(len(buffers))))
        greedy = plan_buffers([dict(b) for b in buffers])
        total, why = search_buffers(buffers)
        assert total == best and total >= lower_bound(buffers) and why
        improved += total < greedy
        for a, b in itertools.combinations(buffers, 2):
            if not (a["last"] < b["first"] or b["last"] < a["first"]):
                assert a["offset"] + a["size"] <= b["offset"] or b["offset"] + b["size"] <= a["offset"]
        assert max(b["offset"] + b["size"] for b in buffers) <= total
    assert improved > 0  # the search does better than the run-time orders on some of them


def test_every_corpus_model_plans_at_the_lower_bound(corpus):
    # Both paths place the activations at the aligned lower bound (the run-time path's region may still be larger:
    # the planner's records share it while planning).
    for path in corpus.values():
        g = path.read_bytes()
        built = plan_model(g, 4, search=True)
        assert built.activation_bytes == built.bound_bytes, path.stem
        assert built.placement_note.startswith("at the lower bound")
        run = plan_model(g, 4)
        assert run.offsets == built.offsets or run.activation_bytes >= built.activation_bytes


def test_ram_figures_match_the_prepared_tables(corpus, tmp_path):
    from qbuild.codegen.prepared import figures, tables
    from qbuild.tflite.plan import ram_figures
    from qbuild.tflite.reader import read_model
    for name in ("conv_same_relu", "fc_relu_softmax", "residual_add_relu"):
        g = read_model(corpus[name].read_bytes())
        ctx = tables(corpus[name], tmp_path / "tool")
        for ps in (4, 8):
            ram = ram_figures(g, plan_model(g, ps))
            got = figures(ctx, ps)
            assert ram["build_time"]["table_flash_bytes"] == got["table_flash_bytes"], (name, ps)
            assert ram["build_time"]["ram_bytes"] == got["ram_bytes"] < ram["ram_bytes"], (name, ps)


def test_cpp_offsets_equal_python_plan_on_every_model(corpus, tmp_path):
    # The loader's own placement (qbuild-prepare prints every activation's offset from the region start) equals
    # plan_model's, tensor by tensor, in-place sharing included (x86-64: pointer size 8).
    from qbuild.target.prepare import prepare_on_host
    from test_runtime_corpus import MLTK_DIR
    paths = list(corpus.values()) + (sorted(MLTK_DIR.glob("*.tflite")) if MLTK_DIR.is_dir() else [])
    for path in paths:
        dump = prepare_on_host(path, tmp_path / "tool")
        got = {i: t[1] for i, t in enumerate(dump["tensors"]) if t[0] == 2}
        assert got == plan_model(path.read_bytes(), 8).offsets, path.stem


def test_search_reaches_the_bound_where_the_orders_miss_it_and_says_when_it_stops():
    from qbuild.tflite.placement import lower_bound, search_buffers
    spec = [(1658, 3, 5), (2461, 0, 3), (528, 4, 8), (2013, 4, 4), (1815, 3, 5), (2300, 1, 2)]

    def buffers():
        return [{"order": i, "size": s, "first": f, "last": l} for i, (s, f, l) in enumerate(spec)]
    assert plan_buffers(buffers()) == 6480 > lower_bound(buffers()) == 6032  # every run-time order leaves a hole
    assert search_buffers(buffers()) == (6032, "at the lower bound (search)")
    assert search_buffers(buffers(), budget=1) == (6480, "448 B above the lower bound: the search stopped after 1 "
                                                          "nodes without reaching it")
