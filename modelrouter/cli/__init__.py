"""The `modelrouter` command line (SPEC section 2)."""

from __future__ import annotations

import sys

import click

from modelrouter.cli.catalog_cmds import models, prices, providers
from modelrouter.cli.keys_cmds import keys, usage
from modelrouter.cli.route_cmd import check, route
from modelrouter.cli.serve_cmd import serve
from modelrouter.errors import ModelRouterError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelrouter")
def cli() -> None:
    """Route LLM requests to providers whose terms you accept.

    Models decide capability; providers decide terms (price, retention, jurisdiction,
    residency, private networking). These commands explain the catalog and the routing.
    """


for command in (models, providers, prices, route, check, serve, keys, usage):
    cli.add_command(command)


def main() -> None:
    """Entry point: errors of modelrouter become one clear line and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ModelRouterError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
