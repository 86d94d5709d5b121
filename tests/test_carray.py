"""qbuild.codegen.carray: the generated .c/.h compiled by gcc (C11), g++ (C++17), mixed C/C++ and arm-none-eabi-gcc; a linked
program checks the array bytes, alignment and length, and prints every parameter macro back."""
import struct
import subprocess
from pathlib import Path

import pytest

from qbuild.codegen import carray
from qbuild.tflite import params as P
from qbuild.codegen.cformat import macro_name
from qbuild.errors import QbuildError

ROOT = Path(__file__).resolve().parents[1]
NOTE = "models/hostile/model.py, build/models/hostile/hostile.tflite"
INT_KINDS = ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64")
ARM_FLAGS = ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"]

HOSTILE_PARAMS = {
    "name": 'quote " backslash \\ end */ nl \n tab \t ??/ trigraph',
    "classes": ["é", "中文", '"', "*/", "a\\", "line\nbreak", "??="],
    "version": 3, "runtime_memory_size": 70000, "neg": -5, "big": 2**40, "huge": 2**64 - 1, "min32": -(2**31),
    "samplewise_norm.rescale": 0.0625, "zero": 0.0, "tiny": 1e-39, "f64big": 1e39, "third": 1 / 3,
    "samplewise_norm.mean_and_std": True, "off": False,
    "int_list": [1, -2, 2**31 - 1, -(2**31)], "float_list": [0.5, -1.25, 3.0], "blob": b"\x00\x01\xff",
    "empty": "", "no_classes": [], 'key */ with\n"é" ??/': "hostile key",
}


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """A real .tflite (MLTK's image_example1, 15 KB) carrying the hostile parameters, and its generated sources."""
    src = ROOT / ".cache" / "mltk" / "image_example1.tflite"
    if not src.exists():
        pytest.fail(f"{src} missing: run scripts/setup")
    d = tmp_path_factory.mktemp("carray")
    tflite = d / "hostile.tflite"
    tflite.write_bytes(P.embed_params(src.read_bytes(), HOSTILE_PARAMS))
    out = d / "gen"
    paths = carray.write_carray(tflite, out, NOTE)
    return tflite, out, paths


def _compile(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, " ".join(map(str, cmd)) + "\n" + r.stderr
    return r


def check_program(params: dict) -> str:
    """C/C++ source that compares the array with the .tflite given as argv[1] and prints every parameter macro."""
    lines = ["#include <stdio.h>", "#include <string.h>", "#include <stdint.h>", '#include "sl_tflite_micro_model.h"',
             '#include "sl_tflite_micro_model_parameters.h"',
             "static void hex(const unsigned char* p, size_t n) { size_t i; printf(\"h\");"
             " for (i = 0; i < n; ++i) printf(\"%02x\", p[i]); printf(\"\\n\"); }",
             "static void f32(float v) { uint32_t u; memcpy(&u, &v, 4); printf(\"%08x\\n\", (unsigned)u); }",
             "static void f64(double v) { uint64_t u; memcpy(&u, &v, 8);"
             " printf(\"%016llx\\n\", (unsigned long long)u); }",
             "int main(int argc, char** argv) {",
             "  static unsigned char expect[1 << 20]; size_t n; FILE* f;",
             "  if (argc < 2 || !(f = fopen(argv[1], \"rb\"))) return 2;",
             "  n = fread(expect, 1, sizeof(expect), f); fclose(f);",
             "  printf(\"len %d\\n\", (int)(n == sl_tflite_model_len));",
             "  printf(\"bytes %d\\n\", memcmp(expect, sl_tflite_model_array, n) == 0);",
             "  printf(\"align %d\\n\", (int)((uintptr_t)sl_tflite_model_array % 16));"]
    for key, (kind, value) in params.items():
        m = macro_name(key)
        if kind == "str":
            lines.append(f"  hex((const unsigned char*){m}, sizeof({m}) - 1);")
        elif kind == "boolean":
            lines.append(f'  printf("%d\\n", (int)({m}));')
        elif kind in ("u64", "u32"):
            lines.append(f'  printf("%llu\\n", (unsigned long long)({m}));')
        elif kind in INT_KINDS:
            lines.append(f'  printf("%lld\\n", (long long)({m}));')
        elif kind == "f32":
            lines.append(f"  f32({m});")
        elif kind == "f64":
            lines.append(f"  f64({m});")
        elif value:  # lists and bytes (an empty `{}` initialiser is not valid before C23)
            ctype, fmt = {"str_list": ("const char* const", 'hex((const unsigned char*)a[i], strlen(a[i]))'),
                          "int32_list": ("const long long", 'printf("%lld\\n", a[i])'), "float_list": ("const float", "f32(a[i])"),
                          "bin": ("const unsigned char", 'printf("%d\\n", a[i])')}[kind]
            lines.append(f"  {{ static {ctype} a[] = {m}; size_t i;"
                         f" for (i = 0; i < sizeof(a) / sizeof(a[0]); ++i) {fmt}; }}")
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def expected_output(params: dict) -> list:
    def f32(v):
        return "%08x" % struct.unpack("<I", struct.pack("<f", v))[0]
    out = ["len 1", "bytes 1", "align 0"]
    for kind, value in params.values():
        if kind == "str":
            out.append("h" + value.encode().hex())
        elif kind == "boolean":
            out.append(str(int(value)))
        elif kind in INT_KINDS:
            out.append(str(value))
        elif kind == "f32":
            out.append(f32(value))
        elif kind == "f64":
            out.append("%016x" % struct.unpack("<Q", struct.pack("<d", value))[0])
        elif kind == "str_list":
            out += ["h" + s.encode().hex() for s in value]
        elif kind == "float_list":
            out += [f32(v) for v in value]
        else:
            out += [str(v) for v in value]
    return out


def test_writes_three_files_with_generated_by_line(model):
    _, out, paths = model
    assert [p.name for p in paths] == ["sl_tflite_micro_model.c", "sl_tflite_micro_model.h",
                                       "sl_tflite_micro_model_parameters.h"]
    for p in paths:
        first = p.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"/* generated by qbuild from {NOTE} — do not edit */"
    assert sorted(x.name for x in out.iterdir()) == sorted(p.name for p in paths)  # no temp files left


def test_output_is_byte_identical_for_identical_input(model, tmp_path):
    tflite, out, paths = model
    again = carray.write_carray(tflite, tmp_path, NOTE)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_parameters_header_has_every_key_sorted(model):
    _, out, _ = model
    text = (out / "sl_tflite_micro_model_parameters.h").read_text(encoding="utf-8")
    macros = [line.split()[1] for line in text.splitlines() if line.startswith("#define SL_TFLITE_MODEL_")]
    assert len(macros) == len(HOSTILE_PARAMS) and macros == sorted(macros)
    assert "#define SL_TFLITE_MODEL_SAMPLEWISE_NORM_RESCALE 0.0625f" in text
    assert "#define SL_TFLITE_MODEL_SAMPLEWISE_NORM_MEAN_AND_STD true" in text
    assert "#define SL_TFLITE_MODEL_NEG (-5)" in text


@pytest.mark.parametrize("array_lang,main_lang", [("c", "c"), ("c++", "c++"), ("c", "c++"), ("c++", "c")])
def test_host_program_checks_array_and_every_parameter(model, tmp_path, array_lang, main_lang):
    tflite, out, _ = model
    typed = P.decode_params_typed(P.encode_params(P.read_params(tflite.read_bytes())))
    (tmp_path / "check.c").write_text(check_program(typed), encoding="utf-8")
    std = {"c": "-std=c11", "c++": "-std=c++17"}
    objs = []
    for src, lang in ((out / "sl_tflite_micro_model.c", array_lang), (tmp_path / "check.c", main_lang)):
        obj = tmp_path / (src.stem + ".o")
        _compile(["gcc", "-x", lang, std[lang], "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(out), "-c",
                  str(src), "-o", str(obj)], tmp_path)
        objs.append(str(obj))
    _compile(["g++" if "c++" in (array_lang, main_lang) else "gcc", *objs, "-o", str(tmp_path / "check")], tmp_path)
    result = subprocess.run([str(tmp_path / "check"), str(tflite)], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == expected_output(typed)


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_arm_none_eabi_image_holds_the_exact_aligned_bytes(model, tmp_path, lang):
    from elftools.elf.elffile import ELFFile
    tflite, out, _ = model
    main = tmp_path / "main.c"
    main.write_text('#include "sl_tflite_micro_model.h"\n#include "sl_tflite_micro_model_parameters.h"\n'
                    "int main(void) { return sl_tflite_model_array[4] + (int)sl_tflite_model_len"
                    " + SL_TFLITE_MODEL_VERSION; }\n")
    compiler = "arm-none-eabi-gcc" if lang == "c" else "arm-none-eabi-g++"
    std = "-std=c11" if lang == "c" else "-std=c++17"
    objs = []
    for src in (main, out / "sl_tflite_micro_model.c"):
        objs.append(str(tmp_path / (src.stem + ".o")))
        _compile([compiler, "-x", lang, std, *ARM_FLAGS, "-O2", "-ffunction-sections", "-fdata-sections", "-Wall",
                  "-Wextra", "-Werror", "-pedantic", "-I", str(out), "-c", str(src), "-o", objs[-1]], tmp_path)
    elf = tmp_path / "fw.elf"  # linked by gcc: no libstdc++ needed (and none installed for arm-none-eabi)
    _compile(["arm-none-eabi-gcc", *ARM_FLAGS, *objs, "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf)],
             tmp_path)
    with open(objs[1], "rb") as f:  # the alignment is requested, not just luck of the link
        section = ELFFile(f).get_section_by_name(".rodata.sl_tflite_model_array")
        assert section["sh_addralign"] == 16
    data = tflite.read_bytes()
    with open(elf, "rb") as f:
        e = ELFFile(f)
        symbols = {s.name: s for s in e.get_section_by_name(".symtab").iter_symbols()}
        array, length = symbols["sl_tflite_model_array"], symbols["sl_tflite_model_len"]
        assert array["st_value"] % 16 == 0 and array["st_size"] == len(data)

        def read(sym):
            for sec in e.iter_sections():
                start = sec["sh_addr"]
                if sec["sh_type"] == "SHT_PROGBITS" and start <= sym["st_value"] < start + sec["sh_size"]:
                    off = sym["st_value"] - start
                    return sec.data()[off:off + sym["st_size"]]
            raise AssertionError(f"{sym.name} is in no PROGBITS section")
        assert read(array) == data
        assert struct.unpack("<I", read(length))[0] == len(data)


def test_model_without_parameters_gives_a_compiling_empty_header(tmp_path):
    src = ROOT / ".cache" / "mltk" / "image_classification.tflite"
    paths = carray.write_carray(src, tmp_path, "image_classification.tflite")
    text = paths[2].read_text()
    assert "#define SL_TFLITE_MODEL_" not in text
    main = tmp_path / "main.c"
    main.write_text('#include "sl_tflite_micro_model_parameters.h"\nint main(void) { return 0; }\n')
    _compile(["gcc", "-std=c11", "-Wall", "-Werror", "-pedantic", "-I", str(tmp_path), "-fsyntax-only", str(main)],
             tmp_path)


@pytest.mark.parametrize("bad,match", [({"a.b": 1, "A_B": 2}, "both become SL_TFLITE_MODEL_A_B"),
                                       ({"nan_value": float("nan")}, "'nan_value'"),
                                       ({"inf_list": [1.0, float("inf")]}, "'inf_list'")])
def test_bad_parameters_fail_in_one_line_and_leave_old_files(model, tmp_path, bad, match):
    tflite, _, _ = model
    bad_tflite = tmp_path / "bad.tflite"
    bad_tflite.write_bytes(P.embed_params(tflite.read_bytes(), bad))
    out = tmp_path / "gen"
    out.mkdir()
    (out / "sl_tflite_micro_model.c").write_text("old")
    with pytest.raises(QbuildError, match=match) as e:
        carray.write_carray(bad_tflite, out, "bad.tflite")
    assert "\n" not in str(e.value)
    assert [p.name for p in out.iterdir()] == ["sl_tflite_micro_model.c"]
    assert (out / "sl_tflite_micro_model.c").read_text() == "old"


def test_missing_or_corrupt_tflite(tmp_path):
    with pytest.raises(QbuildError, match="cannot read"):
        carray.write_carray(tmp_path / "nope.tflite", tmp_path, "nope.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"definitely not a flatbuffer")
    with pytest.raises(QbuildError, match="not a .tflite"):
        carray.write_carray(junk, tmp_path / "gen", "junk.tflite")
    assert not (tmp_path / "gen").exists()


def test_symbol_prefix_renames_files_symbols_macros_and_guards(model, tmp_path):
    """Two models' headers in one translation unit (C and C++), both arrays linked into one program."""
    tflite, default_out, _ = model
    paths = carray.write_carray(tflite, tmp_path, NOTE, symbol="kws")
    assert [p.name for p in paths] == ["kws_model.c", "kws_model.h", "kws_model_parameters.h"]
    h, params_h = paths[1].read_text(), paths[2].read_text()
    assert "#ifndef KWS_MODEL_H" in h and "extern const uint8_t kws_model_array[];" in h
    assert "extern const uint32_t kws_model_len;" in h and "sl_tflite" not in h
    assert "#ifndef KWS_MODEL_PARAMETERS_H" in params_h and "#define KWS_MODEL_SAMPLEWISE_NORM_RESCALE 0.0625f" in params_h
    assert "SL_TFLITE" not in params_h and "SL_TFLITE" not in paths[0].read_text()
    main = tmp_path / "two.c"
    main.write_text('#include <stdio.h>\n#include "sl_tflite_micro_model.h"\n#include "sl_tflite_micro_model_parameters.h"\n'
                    '#include "kws_model.h"\n#include "kws_model_parameters.h"\n'
                    'int main(void) { printf("%u %u %d %d\\n", (unsigned)sl_tflite_model_len, (unsigned)kws_model_len,'
                    ' &sl_tflite_model_array[0] != &kws_model_array[0], KWS_MODEL_VERSION + SL_TFLITE_MODEL_VERSION);'
                    ' return 0; }\n')
    for lang, std in (("c", "-std=c11"), ("c++", "-std=c++17")):
        objs = []
        for src in (main, paths[0], default_out / "sl_tflite_micro_model.c"):
            objs.append(str(tmp_path / f"{lang}_{src.stem}.o"))
            _compile(["gcc", "-x", lang, std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(tmp_path), "-I",
                      str(default_out), "-c", str(src), "-o", objs[-1]], tmp_path)
        _compile(["gcc", *objs, "-o", str(tmp_path / "two")], tmp_path)
        out = subprocess.run([str(tmp_path / "two")], capture_output=True, text=True, check=True).stdout.split()
        n = len(tflite.read_bytes())
        assert out == [str(n), str(n), "1", "6"]


def test_no_symbol_is_the_mltk_names(model, tmp_path):
    tflite, _, paths = model
    for symbol in (None, ""):
        again = carray.write_carray(tflite, tmp_path / repr(symbol), NOTE, symbol=symbol)
        assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


@pytest.mark.parametrize("bad", ["9lives", "a__b", "kws_", "_kws", "k-ws", "k ws", "x" * 33, "ü"])
def test_bad_symbol_fails_in_one_line_before_writing(model, tmp_path, bad):
    tflite, _, _ = model
    with pytest.raises(QbuildError, match="cannot prefix C names") as e:
        carray.write_carray(tflite, tmp_path / "gen", NOTE, symbol=bad)
    assert "\n" not in str(e.value) and not (tmp_path / "gen").exists()
