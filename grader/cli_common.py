"""What every `grade` command shares: how it says why it cannot go on (its own module, so command modules need not import each other)."""

from __future__ import annotations

import typer


def fail(sentence: str) -> None:
    """One plain line on stderr: no markup, no wrapping, no traceback."""
    typer.echo(f"grade: {sentence}", err=True)
