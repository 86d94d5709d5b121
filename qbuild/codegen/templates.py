"""Rendering of `templates/*.j2`: one environment, C filters from qbuild.cformat, HTML autoescaped."""
from __future__ import annotations

import functools

from jinja2 import select_autoescape


@functools.lru_cache(maxsize=1)
def environment():
    from qbuild.cformat import jinja_env

    env = jinja_env()
    env.autoescape = select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False)
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
