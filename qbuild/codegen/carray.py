"""The model as C sources: `sl_tflite_micro_model.c/.h` (Gecko SDK names: `sl_tflite_model_array`,
`sl_tflite_model_len`) and `sl_tflite_micro_model_parameters.h` (one `SL_TFLITE_MODEL_<KEY>` macro per parameter).

Several models in one firmware: a symbol prefix `<p>` (e.g. `kws`) renames everything a second model would collide on:
`<p>_model.c/.h`, `<p>_model_parameters.h`, `<p>_model_array`, `<p>_model_len`, macros `<P>_MODEL_<KEY>`, include
guards `<P>_MODEL_H` / `<P>_MODEL_PARAMETERS_H`. Without a prefix the output is the MLTK names, byte for byte.

Python computes (the array text, the macro list), the templates in `templates/` lay it out. Output depends only on
the inputs, so identical inputs give byte-identical files.
"""
import re
from dataclasses import dataclass
from pathlib import Path

from qbuild.codegen import cformat
from qbuild.codegen.templates import environment
from qbuild.tflite import params
from qbuild.errors import QbuildError
from qbuild.fsutil import write_atomic

MODEL_C = "sl_tflite_micro_model.c"
MODEL_H = "sl_tflite_micro_model.h"
PARAMETERS_H = "sl_tflite_micro_model_parameters.h"
TEMPLATES = ("sl_tflite_micro_model.c.j2", "sl_tflite_micro_model.h.j2", "sl_tflite_micro_model_parameters.h.j2")
# A prefix is a C identifier without '__' (reserved in C++) or a trailing '_'; it also names files, so it stays short.
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
SYMBOL_MAX = 32
ALIGNMENT = 16
BYTES_PER_LINE = 16

_HEX = ["0x%02x," % b for b in range(256)]


def valid_c_name(name: str, max_len: int = SYMBOL_MAX) -> bool:
    """Letters, digits and single '_', starting with a letter, at most max_len characters: every C name qbuild takes
    from a user (a symbol prefix, a shared arena)."""
    return len(name) <= max_len and _SYMBOL.fullmatch(name) is not None


def check_symbol(symbol):
    """None/"" (the MLTK names) or a valid prefix; anything else is a one-line error."""
    if not symbol:
        return None
    if not valid_c_name(symbol):
        raise QbuildError(f"symbol {symbol!r} cannot prefix C names; use letters, digits and single '_' (start with a "
                          f"letter, at most {SYMBOL_MAX} characters), e.g. kws")
    return symbol


@dataclass(frozen=True)
class Naming:
    """Every name the three files use: the MLTK ones, or `<symbol>_model...` (see the module docstring)."""
    symbol: str | None = None

    @property
    def base(self) -> str:
        return f"{self.symbol}_model" if self.symbol else "sl_tflite_model"

    @property
    def stem(self) -> str:
        return f"{self.symbol}_model" if self.symbol else "sl_tflite_micro_model"

    @property
    def array(self) -> str:
        return self.base + "_array"

    @property
    def length(self) -> str:
        return self.base + "_len"

    @property
    def macro_prefix(self) -> str:
        return self.base.upper() + "_"

    @property
    def source(self) -> str:
        return self.stem + ".c"

    @property
    def header(self) -> str:
        return self.stem + ".h"

    @property
    def parameters_header(self) -> str:
        return self.stem + "_parameters.h"

    @property
    def outputs(self) -> tuple:
        return (self.source, self.header, self.parameters_header)

    @staticmethod
    def guard(file_name: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", file_name).upper()


def naming(symbol=None) -> Naming:
    return Naming(check_symbol(symbol))


OUTPUTS = Naming().outputs


def _inputs_note(sources_note) -> str:
    if isinstance(sources_note, (list, tuple)):
        return ", ".join(str(s) for s in sources_note)
    return str(sources_note)


def array_body(data: bytes) -> str:
    """The initialiser lines: `  0x1c,0x00,...` 16 bytes per line (built with joins: 1 MB in ~0.1 s)."""
    hexes = list(map(_HEX.__getitem__, data))
    return "\n".join("  " + "".join(hexes[i:i + BYTES_PER_LINE]) for i in range(0, len(hexes), BYTES_PER_LINE))


def render_model_c(tflite: bytes, sources_note, env=None, names: Naming = Naming()) -> str:
    env = env or environment()
    return env.get_template(MODEL_C + ".j2").render(
        inputs=_inputs_note(sources_note), length=len(tflite), alignment=ALIGNMENT, array_body=array_body(tflite),
        n=names)


def render_model_h(sources_note, env=None, names: Naming = Naming()) -> str:
    env = env or environment()
    return env.get_template(MODEL_H + ".j2").render(inputs=_inputs_note(sources_note), n=names)


def parameter_macros(model_params: dict, prefix: str = cformat.MACRO_PREFIX) -> list:
    """[{key, macro, type, literal}] sorted by macro name; two keys mapping to one macro name are an error."""
    rows, seen = [], {}
    for key, value in model_params.items():
        macro = cformat.macro_name(key, prefix)
        if macro in seen:
            raise QbuildError(f"model parameters '{seen[macro]}' and '{key}' both become {macro}; rename one of them")
        seen[macro] = key
        try:
            literal = cformat.c_literal(value)
        except QbuildError as e:
            raise QbuildError(f"model parameter '{key}': {e}") from None
        rows.append({"key": key, "macro": macro, "type": params.value_type(key, value), "literal": literal})
    return sorted(rows, key=lambda r: r["macro"])


def render_parameters_h(model_params: dict, sources_note, env=None, names: Naming = Naming()) -> str:
    env = env or environment()
    return env.get_template(PARAMETERS_H + ".j2").render(
        inputs=_inputs_note(sources_note), params=parameter_macros(model_params, names.macro_prefix), n=names)


def write_carray(tflite_path, out_dir, sources_note, symbol=None) -> list:
    """Render the three files for `tflite_path` into `out_dir`; returns their paths (.c, .h, parameters .h).

    `sources_note`: the inputs to name in the generated-by line (relative paths; a string or a list). `symbol`: the
    prefix of every name (None: the MLTK names). All three are rendered before any is written, so a bad parameter
    leaves the old files untouched.
    """
    names = naming(symbol)
    tflite_path, out_dir = Path(tflite_path), Path(out_dir)
    try:
        tflite = tflite_path.read_bytes()
    except OSError as e:
        raise QbuildError(f"cannot read {tflite_path}: {e.strerror}; build the .tflite first") from None
    model_params = params.read_params(tflite, what=str(tflite_path))
    env = environment()
    texts = {
        names.source: render_model_c(tflite, sources_note, env, names),
        names.header: render_model_h(sources_note, env, names),
        names.parameters_header: render_parameters_h(model_params, sources_note, env, names),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        write_atomic(out_dir / name, text)
        paths.append(out_dir / name)
    return paths
