"""The Jinja2 environment every page renders with: the cockpit's and both reports'.

Autoescape is on for every template (tenant names, field values and corpus names
come from configuration and recorded traffic). The reports inline the same
stylesheet the cockpit serves (``static/cockpit.css``): one file styles every page,
and a report stays one self-contained file that can be e-mailed.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from proxy.pages import charts
from proxy.pages.words import difference_words, field_words

__all__ = ["environment", "render", "static_file", "stylesheet"]


def _json(value: Any) -> str:
    """A value as JSON text (``null``, ``"Low"``, ``[1, 2]``), never a Python repr."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode("utf-8")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("proxy.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json
    env.globals.update(
        sparkline=charts.sparkline,
        bars=charts.bars,
        scatter=charts.scatter,
        matrix=charts.matrix,
        field_words=field_words,
        difference_words=difference_words,
    )
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def static_file(name: str) -> bytes:
    return files("proxy.pages").joinpath("static", name).read_bytes()


@cache
def stylesheet() -> str:
    return static_file("cockpit.css").decode("utf-8")
