"""Rendering shared by the listing commands: rich tables for people, JSON for scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

__all__ = ["CONFIG_OPTION", "FORMAT_OPTION", "console", "emit_json", "money", "table"]

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Readable table, or JSON for scripts.",
)
CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $MODELROUTER_CONFIG, else ./modelrouter.yaml if present).",
)


def console() -> Console:
    """A console that stays readable when piped (rich would squeeze tables to 80 columns)."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(width=width, soft_wrap=False)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Print `data` as indented JSON (Decimals as numbers, dates as ISO strings)."""
    click.echo(orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))


def money(value: Decimal | float | None) -> str:
    """A price per million tokens as a short dollar figure, or a dash when unknown."""
    if value is None:
        return "-"
    return f"${Decimal(str(value)).normalize():f}"


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    styles: Callable[[Sequence[Any]], str | None] | None = None,
) -> Table:
    """A rich table with one line per row; `styles` may dim or colour a row."""
    out = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(
            *("-" if cell is None else str(cell) for cell in row), style=styles(row) if styles else None
        )
    return out
