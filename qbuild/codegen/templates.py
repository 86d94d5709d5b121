"""The one Jinja environment for `templates/`: every generated C/C++, linker script, Markdown and HTML file.

Undefined variables are errors, the template's trailing newline is kept, `{% %}` lines leave no blank line
(trim_blocks, lstrip_blocks); `.html.j2` templates are autoescaped, nothing else is. Filters: the C literal and escaping
filters of qbuild.codegen.cformat, and number formatting for the Markdown reports.

A module that renders templates names them in a module-level `TEMPLATES` tuple: the build derives each step's template
dependencies from it (qbuild.deps).
"""
from __future__ import annotations

import functools
from pathlib import Path

from qbuild.errors import QbuildError
from qbuild.resources import data_dir

TEMPLATES_DIR = data_dir("templates")


def _markdown_filters() -> dict:
    return {
        "bytes": lambda v: "-" if v is None else f"{v:,}",
        "signed": lambda v: f"{v:+,}",
        "pct": lambda part, whole: f"{100.0 * part / whole:.1f} %" if whole else "-",
        "hex": lambda v: "-" if v is None else f"0x{v:08x}",
        "md": lambda s: str(s).replace("|", "\\|").replace("<", "&lt;"),
    }


@functools.lru_cache(maxsize=1)
def environment():
    """The environment for qbuild's own templates/ (cached per process)."""
    return make_environment(TEMPLATES_DIR)


def make_environment(templates_dir):
    """The same settings and filters over another folder (tests render their own templates with it)."""
    import jinja2

    from qbuild.codegen import cformat

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(templates_dir)] if isinstance(templates_dir, (str, Path))
                                       else [str(d) for d in templates_dir]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    )
    env.filters.update(c_string=cformat.c_string, c_comment=cformat.c_comment, c_float=cformat.c_float,
                       c_int=cformat.c_int, c_literal=cformat.c_literal, macro_name=cformat.macro_name)
    env.filters.update(_markdown_filters())
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)


def render_file(template: Path, **context) -> str:
    """A user's own template file, with qbuild's settings and filters; qbuild's templates stay importable from it
    (e.g. `{% import "_macros.j2" as m %}`)."""
    import jinja2

    template = Path(template)
    try:
        return make_environment([template.parent, TEMPLATES_DIR]).get_template(template.name).render(**context)
    except jinja2.TemplateError as e:
        raise QbuildError(f"template {template}: {e.message or e}; fix the template") from None
