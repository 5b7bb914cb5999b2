"""HTML pages from the Jinja2 templates in ``templates/``, with autoescaping always on: every
value from the marts is escaped where it is written, and markup lives only in the templates."""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, StrictUndefined


def first_upper(text: str) -> str:
    """"no target" -> "No target" (Jinja's ``capitalize`` would lower the rest)."""
    return text[:1].upper() + text[1:]


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("scorecard.publish", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      undefined=StrictUndefined)  # a misspelt name fails, not a blank
    env.filters["first_upper"] = first_upper
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
