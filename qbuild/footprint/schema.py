"""footprint.json: its version, components and JSON Schema (`python -m qbuild size --schema`)."""
from __future__ import annotations



VERSION = 1
COMPONENTS = ("model", "arena", "runtime", "app", "startup", "libc", "stack", "heap", "other")
MODEL_SYMBOL = "sl_tflite_model_array"
ARENA_SYMBOL = "tensor_arena"
RESERVATIONS = {"heap": (".heap", "__HeapBase", "__HeapLimit"), "stack": (".stack", "__StackLimit", "__StackTop")}


# JSON Schema (draft 2020-12 subset) of footprint.json; `python -m qbuild size --schema` prints it.
_INT = {"type": "integer", "minimum": 0}
_INT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
_REGION_NAMES = {"type": "array", "items": {"enum": ["flash", "ram"]}}
_PER_REGION = {"type": "object", "required": ["flash", "ram"], "additionalProperties": False,
               "properties": {"flash": _INT, "ram": _INT}}
_DELTA = {"type": "object", "required": ["before", "after", "delta"], "additionalProperties": False,
          "properties": {"before": _INT, "after": _INT, "delta": {"type": "integer"}}}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "qbuild footprint.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "board", "elf", "map", "attribution", "pointer_bits", "regions", "sections",
                 "reservations", "components", "top", "symbols", "baseline", "max_growth", "ok", "failures"],
    "properties": {
        "version": {"const": VERSION},
        "board": {"type": ["string", "null"]},
        "elf": {"type": "string"},
        "map": {"type": ["string", "null"]},
        "attribution": {"enum": ["map", "symbols"]},
        "pointer_bits": {"enum": [32, 64]},
        "regions": {
            "type": "object", "required": ["flash", "ram"], "additionalProperties": False,
            "properties": {name: {
                "type": "object", "additionalProperties": False,
                "required": ["origin", "length", "used", "padding", "budget", "margin", "limit"],
                "properties": {"origin": _INT_OR_NULL, "length": _INT_OR_NULL, "used": _INT, "padding": _INT,
                               "budget": _INT_OR_NULL, "margin": {"type": ["string", "null"]},
                               "limit": {"type": ["integer", "null"]}}} for name in ("flash", "ram")}},
        "sections": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "type", "flags", "vma", "lma", "size", "regions"],
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}, "flags": {"type": "string"},
                           "vma": _INT, "lma": _INT, "size": _INT, "regions": _REGION_NAMES}}},
        "reservations": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["component", "name", "start", "size", "from"],
            "properties": {"component": {"enum": ["heap", "stack"]}, "name": {"type": "string"}, "start": _INT,
                           "size": _INT, "from": {"enum": ["section", "symbols"]}}}},
        "components": {"type": "object", "additionalProperties": False, "required": list(COMPONENTS),
                       "properties": {c: _PER_REGION for c in COMPONENTS}},
        "top": _INT,
        "symbols": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "mangled", "size", "address", "section", "component", "regions"],
            "properties": {"name": {"type": "string"}, "mangled": {"type": "string"}, "size": _INT,
                           "address": _INT, "section": {"type": "string"}, "component": {"enum": list(COMPONENTS)},
                           "regions": _REGION_NAMES}}},
        "baseline": {"oneOf": [{"type": "null"}, {
            "type": "object", "additionalProperties": False, "required": ["elf", "regions", "components", "symbols"],
            "properties": {
                "elf": {"type": ["string", "null"]},
                "regions": {"type": "object", "additionalProperties": _DELTA},
                "components": {"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": _DELTA}},
                "symbols": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "before", "after", "delta", "status"],
                    "properties": {"name": {"type": "string"}, "before": _INT, "after": _INT,
                                   "delta": {"type": "integer"},
                                   "status": {"enum": ["grown", "shrunk", "new", "gone"]}}}}}}]},
        "max_growth": _INT_OR_NULL,
        "ok": {"type": "boolean"},
        "failures": {"type": "array", "items": {"type": "string"}},
    },
}


