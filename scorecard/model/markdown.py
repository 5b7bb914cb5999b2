"""Text quoted in a Markdown report, made inert: a value or file name from outside is shown, never run."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(text: object) -> str:
    """Any text as it reads, on one line: HTML escaped, Markdown's punctuation backslashed,
    line breaks and other control characters shown as spaces."""
    one_line = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))
