"""The SCons side of qbuild: the only package that imports SCons (inside its modules, never here)."""
from pathlib import Path

# The folder holding the `qbuild_tool` SCons tool: `Environment(tools=["default", "qbuild_tool"], toolpath=[TOOLPATH])`.
TOOLPATH = str(Path(__file__).resolve().parent / "site_tools")
