"""qbuild.codegen.cformat: literals checked by real compilers (gcc, g++, with and without trigraphs), not only by string compare."""
import math
import struct
import subprocess

import pytest

from qbuild.codegen import cformat
from qbuild.codegen.templates import TEMPLATES_DIR, make_environment
from qbuild.codegen.cformat import c_comment, c_float, c_int, c_literal, c_string, macro_name
from qbuild.errors import QbuildError

HOSTILE = [
    "",
    'quote " and backslash \\ and \\"',
    "line\nbreak\r\ttab\x00nul\x01\x7f",
    "end */ of comment /* nested",
    "trigraphs ??/ ??= ??( ??' ??< ??! ??> ??- ???",
    "non-ASCII: é ü 中文 😀 \u2028",
    "octal trap: \x01" + "7 and \xe9" + "1",
    "hex trap \\x41 %s %n",
]


def _run_c(tmp_path, source: str, compiler="gcc", flags=("-std=c11",), name="t"):
    src = tmp_path / (name + (".cc" if compiler.endswith("++") else ".c"))
    src.write_text(source, encoding="utf-8")
    exe = tmp_path / name
    cc = subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", str(exe), str(src)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    return subprocess.run([str(exe)], check=True, capture_output=True).stdout


@pytest.mark.parametrize("compiler,flags", [("gcc", ("-std=c11",)), ("gcc", ("-std=c99", "-trigraphs")),
                                            ("g++", ("-std=c++17",)), ("g++", ("-std=c++11", "-trigraphs"))])
def test_c_string_and_comment_compile_and_round_trip(tmp_path, compiler, flags):
    lines = ["#include <stdio.h>", "static void dump(const char* s, unsigned long n) {",
             "  unsigned long i; printf(\"h\"); for (i = 0; i < n; ++i) printf(\"%02x\", (unsigned char)s[i]); printf(\"\\n\"); }",
             "int main(void) {"]
    for s in HOSTILE:
        lines.append(f"  /* {c_comment(s)} */")
        lines.append(f"  dump({c_string(s)}, sizeof({c_string(s)}) - 1);")
    lines += ["  return 0;", "}", ""]
    out = _run_c(tmp_path, "\n".join(lines), compiler, flags).decode().split()
    assert out == ["h" + s.encode("utf-8").hex() for s in HOSTILE]


def test_c_string_escapes_exactly():
    assert c_string('a"b\\c') == r'"a\"b\\c"'
    assert c_string("??/") == r'"\?\?/"'
    assert c_string("\n\t\r") == r'"\n\t\r"'
    assert c_string("\x01" + "7") == r'"\0017"'  # 3 octal digits: the following '7' is not swallowed
    assert c_string("é") == r'"\303\251"'
    assert c_string(b"\xff") == r'"\377"'


def test_c_comment_cannot_close_or_nest_or_break_lines():
    for s in HOSTILE + ["*/*/", "/*/", "**//", "?" * 5 + "/"]:
        text = c_comment(s)
        assert "*/" not in text and "/*" not in text and "??" not in text
        assert "\n" not in text and "\r" not in text


@pytest.mark.parametrize("value,text", [
    (0.0625, "0.0625f"), (1 / 16, "0.0625f"), (0.1, "0.1f"), (1 / 3, "0.33333334f"), (2, "2.0f"), (80.0, "80.0f"),
    (-0.0, "-0.0f"), (1e-5, "1e-05f"), (1e20, "1e+20f"), (3.4028235e38, "3.4028235e+38f"), (16777217.0, "16777216.0f"),
])
def test_c_float_shortest_round_trip(value, text):
    assert c_float(value) == text
    f32 = struct.unpack("<f", struct.pack("<f", value))[0]
    assert struct.pack("<f", float(text[:-1])) == struct.pack("<f", f32)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 1e39, "1.0", None])
def test_c_float_rejects_non_finite_and_out_of_range(bad):
    with pytest.raises(QbuildError):
        c_float(bad)


def test_c_float_values_read_back_by_the_compiler(tmp_path):
    values = [0.0625, 0.1, 1 / 3, 1e-45, 1.17549435e-38, 3.4028235e38, -2.5, 123456789.0, 6.02e23]
    body = "\n".join(f'  v = {c_float(v)}; memcpy(&u, &v, 4); printf("%08x\\n", u);' for v in values)
    src = f"#include <stdio.h>\n#include <string.h>\nint main(void) {{\n  float v; unsigned u;\n{body}\n  return 0;\n}}\n"
    out = _run_c(tmp_path, src).decode().split()
    assert out == ["%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in values]


def test_c_int_and_literal(tmp_path):
    assert c_int(5) == "5" and c_int(-5) == "-5"
    assert c_int(2**31) == "2147483648U" and c_int(2**64 - 1) == "18446744073709551615ULL"
    assert c_literal(-3) == "(-3)" and c_literal(-0.5) == "(-0.5f)"
    assert c_literal(True) == "true" and c_literal(False) == "false"
    assert c_literal(["a", 'b"']) == '{"a", "b\\""}'
    assert c_literal([1, 2.5]) == "{1, 2.5f}"
    assert c_literal(b"\x00\xff") == "{0x00, 0xff}"
    assert c_literal(1e300) == "1e+300" and c_literal(1e-39) == "1e-39"  # doubles: a float32 would lose them
    with pytest.raises(QbuildError):
        c_int(2**64)
    with pytest.raises(QbuildError):
        c_literal({"a": 1})
    # The literal's C type must hold the value: int while it fits, then unsigned / long long / unsigned long long.
    ints = {0: "int", -1: "int", 2**31 - 1: "int", -(2**31): "int", 2**31: "unsigned", 2**32 - 1: "unsigned",
            2**32: "ull", 2**63 - 1: "ull", -(2**63): "ll", -(2**40): "ll", 2**64 - 1: "ull"}
    kind = ('_Generic((X), int: "int", unsigned: "unsigned", long long: "ll", unsigned long long: "ull", '
            'default: "other")')
    body = "\n".join(f'  printf("%s %lld %llu\\n", {kind.replace("X", c_literal(v))}, (long long)({c_literal(v)}), '
                     f'(unsigned long long)({c_literal(v)}));' for v in ints)
    out = _run_c(tmp_path, f"#include <stdio.h>\nint main(void) {{\n{body}\n  return 0;\n}}\n").decode().splitlines()
    for line, (v, want) in zip(out, ints.items()):
        kind_name, signed, unsigned = line.split()
        assert kind_name == want, (v, line)
        assert (int(unsigned) if want in ("unsigned", "ull") else int(signed)) == v


def test_macro_name():
    assert macro_name("samplewise_norm.rescale") == "SL_TFLITE_MODEL_SAMPLEWISE_NORM_RESCALE"
    assert macro_name("fe.sample-rate Hz") == "SL_TFLITE_MODEL_FE_SAMPLE_RATE_HZ"
    assert macro_name("9lives") == "SL_TFLITE_MODEL_9LIVES"
    with pytest.raises(QbuildError):
        macro_name("")


def test_jinja_env_filters_strict_and_trailing_newline(tmp_path):
    (tmp_path / "t.j2").write_text("{{ s | c_string }} {{ v | c_float }} {{ k | macro_name }}\n")
    env = make_environment(tmp_path)
    assert env.get_template("t.j2").render(s='"', v=0.5, k="a.b") == '"\\"" 0.5f SL_TFLITE_MODEL_A_B\n'
    import jinja2
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t.j2").render(s="x", v=1.0)


def test_generated_by_macro_is_one_safe_line(tmp_path):
    (tmp_path / "g.j2").write_text('{% import "_macros.j2" as m %}{{ m.generated_by(inputs) }}\n')
    (tmp_path / "_macros.j2").write_text((TEMPLATES_DIR / "_macros.j2").read_text())
    text = make_environment(tmp_path).get_template("g.j2").render(inputs="a*/b\nc.tflite")
    assert text == "/* generated by qbuild from a* /b c.tflite — do not edit */\n"
