"""C/C++ source formatting for generated files, and the Jinja environment every template is rendered with.

Every value that lands in generated C goes through one of these filters, so hostile strings (quotes, backslashes,
`*/`, newlines, trigraphs, non-ASCII) cannot break the output.
"""
import math
import re
import struct

from qbuild.errors import QbuildError

MACRO_PREFIX = "SL_TFLITE_MODEL_"

_FLT_MAX = 3.4028234663852886e38
_FLT_MIN_NORMAL = 1.1754943508222875e-38
_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "?": "\\?", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape_byte(byte: int) -> str:
    ch = chr(byte)
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    if 0x20 <= byte < 0x7F:
        return ch
    # Always three octal digits: an octal escape ends after three, so a following digit cannot extend it
    # (unlike \x, which swallows every hex digit that follows).
    return "\\%03o" % byte


_BYTE_ESCAPES = [_escape_byte(b) for b in range(256)]


def c_string(s) -> str:
    """A C/C++ string literal (with quotes) holding the UTF-8 bytes of `s`.

    Escapes quotes, backslashes, control characters and non-ASCII bytes (3-digit octal); every '?' is written `\\?`,
    so no trigraph (`??/`, `??=`...) can form, whatever the compiler's -trigraphs setting.
    """
    data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return '"' + "".join(_BYTE_ESCAPES[b] for b in data) + '"'


def c_comment(s) -> str:
    """`s` made safe to put inside a one-line /* ... */ comment.

    Line breaks and control characters become spaces; `*/` and `/*` are split so the comment neither ends early nor
    nests (-Wcomment), and `??` is split so no trigraph forms.
    """
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", " ", str(s))
    while True:
        fixed = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
        if fixed == text:
            return text
        text = fixed


def shortest_float32(v: float) -> float:
    """The shortest decimal (as a Python float) that rounds to the same float32 as `v`: 0.1f -> 0.1, 1/3 -> 0.33333334.

    Raises OverflowError beyond float32's range; inf/NaN pass through.
    """
    v = float(v)
    if not math.isfinite(v):
        return v
    want = struct.pack("<f", v)
    f32 = struct.unpack("<f", want)[0]
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        candidate = float("%.*g" % (digits, f32))
        try:
            if struct.pack("<f", candidate) == want:
                return candidate
        except OverflowError:  # rounding up past FLT_MAX (3.403e38)
            continue
    raise AssertionError("unreachable: 9 digits round-trip every float32")


def c_float(v) -> str:
    """A C float literal with the `f` suffix: the shortest decimal that rounds to the same float32, written like
    Python's repr (0.0625f, 80.0f, 1e-05f).

    inf/NaN and values beyond float32's range are errors (C has no float literal for them).
    """
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise QbuildError(f"{v!r} is not a number; a C float literal needs a finite number")
    v = float(v)
    if not math.isfinite(v):
        raise QbuildError(f"{v} has no C float literal; use a finite value")
    try:
        return repr(shortest_float32(v)) + "f"
    except OverflowError:
        raise QbuildError(f"{v!r} does not fit in a C float (max 3.4028235e38); use a smaller value") from None


def c_int(v: int) -> str:
    """An integer literal of the right C type: plain for int32, U / ULL / LL suffixes beyond it."""
    v = int(v)
    if -(1 << 31) < v < (1 << 31):
        return str(v)
    if v == -(1 << 31):
        return "(-2147483647 - 1)"  # `-2147483648` negates 2147483648, which is not an int
    if 0 < v < (1 << 32):
        return f"{v}U"
    if 0 < v < (1 << 64):
        return f"{v}ULL"
    if -(1 << 63) < v < 0:
        return f"{v}LL"
    if v == -(1 << 63):
        return "(-9223372036854775807LL - 1)"
    raise QbuildError(f"integer {v} does not fit in 64 bits; no C literal for it")


def c_literal(v) -> str:
    """Any parameter value as a C expression safe to put in a macro: floats with `f` (beyond float32's normal range:
    a double literal, so nothing is lost), bools lowercase, ints, escaped strings, lists and bytes as `{...}`; negative numbers in parentheses."""
    if hasattr(v, "tolist") and not isinstance(v, (bytes, bytearray)):
        v = v.tolist()  # numpy scalar/array
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, int):
            text = c_int(v)
        elif math.isfinite(v) and (abs(v) > _FLT_MAX or 0 < abs(v) < _FLT_MIN_NORMAL):
            text = repr(v)  # a float32 would overflow or lose precision: keep the double
        else:
            text = c_float(v)
        return f"({text})" if text.startswith("-") else text
    if isinstance(v, str):
        return c_string(v)
    if isinstance(v, (bytes, bytearray)):
        return "{" + ", ".join("0x%02x" % b for b in v) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(c_literal(x) for x in v) + "}"
    raise QbuildError(f"{v!r} ({type(v).__name__}) has no C literal; use bool, int, float, str, bytes or a list")


def macro_name(key: str, prefix: str = MACRO_PREFIX) -> str:
    """`samplewise_norm.rescale` -> `SL_TFLITE_MODEL_SAMPLEWISE_NORM_RESCALE` (every non-alphanumeric -> `_`)."""
    name = re.sub(r"[^A-Za-z0-9]", "_", str(key)).upper()
    if not name:
        raise QbuildError("an empty model parameter key cannot become a C macro; give the parameter a name")
    return prefix + name
