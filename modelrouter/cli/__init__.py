"""The `modelrouter` command line."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Route LLM requests to providers whose terms you accept."""
