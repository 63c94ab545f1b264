"""Markdown for the terminal: rendered by ``rich`` on a terminal, plain text otherwise.

Specs, hints and debriefs are markdown. On a terminal, headings, tables and
code are drawn (colours only without ``NO_COLOR``, which rich honours); piped
or redirected, the text is printed as written, so it stays greppable.
"""

from __future__ import annotations

from typing import TextIO


def print_markdown(text: str, stream: TextIO, *, width: int | None = None) -> None:
    """Print markdown ``text`` to ``stream``: rendered on a TTY, as is otherwise."""
    if not stream.isatty():
        stream.write(text if text.endswith("\n") else text + "\n")
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console(file=stream, width=width).print(Markdown(text))
