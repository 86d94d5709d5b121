"""The model as C sources: `sl_tflite_micro_model.c/.h` (Gecko SDK names: `sl_tflite_model_array`,
`sl_tflite_model_len`) and `sl_tflite_micro_model_parameters.h` (one `SL_TFLITE_MODEL_<KEY>` macro per parameter).

Python computes (the array text, the macro list), the templates in `templates/` lay it out. Output depends only on
the inputs, so identical inputs give byte-identical files.
"""
from pathlib import Path

from qbuild.codegen import cformat
from qbuild.codegen.templates import environment
from qbuild.tflite import params
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

MODEL_C = "sl_tflite_micro_model.c"
MODEL_H = "sl_tflite_micro_model.h"
PARAMETERS_H = "sl_tflite_micro_model_parameters.h"
OUTPUTS = (MODEL_C, MODEL_H, PARAMETERS_H)
TEMPLATES = ("sl_tflite_micro_model.c.j2", "sl_tflite_micro_model.h.j2", "sl_tflite_micro_model_parameters.h.j2")
ALIGNMENT = 16
BYTES_PER_LINE = 16

_HEX = ["0x%02x," % b for b in range(256)]


def _inputs_note(sources_note) -> str:
    if isinstance(sources_note, (list, tuple)):
        return ", ".join(str(s) for s in sources_note)
    return str(sources_note)


def array_body(data: bytes) -> str:
    """The initialiser lines: `  0x1c,0x00,...` 16 bytes per line (built with joins: 1 MB in ~0.1 s)."""
    hexes = list(map(_HEX.__getitem__, data))
    return "\n".join("  " + "".join(hexes[i:i + BYTES_PER_LINE]) for i in range(0, len(hexes), BYTES_PER_LINE))


def render_model_c(tflite: bytes, sources_note, env=None) -> str:
    env = env or environment()
    return env.get_template(MODEL_C + ".j2").render(
        inputs=_inputs_note(sources_note), length=len(tflite), alignment=ALIGNMENT, array_body=array_body(tflite))


def render_model_h(sources_note, env=None) -> str:
    env = env or environment()
    return env.get_template(MODEL_H + ".j2").render(inputs=_inputs_note(sources_note))


def parameter_macros(model_params: dict) -> list:
    """[{key, macro, type, literal}] sorted by macro name; two keys mapping to one macro name are an error."""
    rows, seen = [], {}
    for key, value in model_params.items():
        macro = cformat.macro_name(key)
        if macro in seen:
            raise QbuildError(f"model parameters '{seen[macro]}' and '{key}' both become {macro}; rename one of them")
        seen[macro] = key
        try:
            literal = cformat.c_literal(value)
        except QbuildError as e:
            raise QbuildError(f"model parameter '{key}': {e}") from None
        rows.append({"key": key, "macro": macro, "type": params.value_type(key, value), "literal": literal})
    return sorted(rows, key=lambda r: r["macro"])


def render_parameters_h(model_params: dict, sources_note, env=None) -> str:
    env = env or environment()
    return env.get_template(PARAMETERS_H + ".j2").render(
        inputs=_inputs_note(sources_note), params=parameter_macros(model_params))


def write_carray(tflite_path, out_dir, sources_note) -> list:
    """Render the three files for `tflite_path` into `out_dir`; returns their paths (.c, .h, parameters .h).

    `sources_note`: the inputs to name in the generated-by line (relative paths; a string or a list). All three are
    rendered before any is written, so a bad parameter leaves the old files untouched.
    """
    tflite_path, out_dir = Path(tflite_path), Path(out_dir)
    try:
        tflite = tflite_path.read_bytes()
    except OSError as e:
        raise QbuildError(f"cannot read {tflite_path}: {e.strerror}; build the .tflite first") from None
    model_params = params.read_params(tflite, what=str(tflite_path))
    env = environment()
    texts = {
        MODEL_C: render_model_c(tflite, sources_note, env),
        MODEL_H: render_model_h(sources_note, env),
        PARAMETERS_H: render_parameters_h(model_params, sources_note, env),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        write_atomic(out_dir / name, text)
        paths.append(out_dir / name)
    return paths
