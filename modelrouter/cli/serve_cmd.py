"""`modelrouter serve`: run the gateway (uvicorn, one or more worker processes on one port)."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import resource
from typing import Any

import click

from modelrouter.cli.output import CONFIG_OPTION
from modelrouter.cli.route_cmd import check_report
from modelrouter.config import LOG_LEVELS, Config, load_config, master_key
from modelrouter.engine import Engine
from modelrouter.errors import ConfigError
from modelrouter.gateway.transport import provider_tls
from modelrouter.urlguard import check_provider_urls

__all__ = ["serve"]

CONFIG_ENV = "MODELROUTER_CONFIG"


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable_keys(config: Config) -> int:
    from modelrouter.cli.keys_cmds import open_keys

    store = open_keys(config)
    try:
        return store.count_usable()
    finally:
        store.close()


def _startup_report(config: Config) -> str:
    report = check_report(Engine(config))
    ready = [p["id"] for p in report["providers"] if p["credentials"]]
    lines = [f"providers with credentials: {', '.join(ready) or 'none'}"]
    for policy in report["policies"]:
        met = ", ".join(policy["ready_models"]) or "nothing can be served yet"
        lines.append(f"policy {policy['name']}: {met}")
    return "\n".join(lines)


@click.command()
@CONFIG_OPTION
@click.option("--host", default=None, help="Address to listen on (default: server.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: server.port, 4000).")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Worker processes sharing the port."
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default=None,
    help="What to log to stderr (default: server.log_level, info); secrets are scrubbed at every level.",
)
def serve(
    config_file: str | None, host: str | None, port: int | None, workers: int | None, log_level: str | None
) -> None:
    """Run the gateway: OpenAI and Anthropic endpoints that route by your policies.

    With no config file it runs on embedded defaults: the bundled catalog, a SQLite ledger in
    ./modelrouter.db, in-process state, listening on 127.0.0.1:4000.

    \b
    Example usage:
      modelrouter serve
      modelrouter serve --config modelrouter.yaml --port 8080 --workers 2
      modelrouter serve --log-level debug
    """
    import uvicorn

    from modelrouter.gateway.protocol import GatewayHttpProtocol

    config = load_config(config_file)
    check_provider_urls(config)
    provider_tls(config)  # a ca_bundle that cannot be read stops serve here, not in a worker
    host = host or config.server.host
    port = port or config.server.port
    workers = workers or config.server.workers
    level = (log_level or config.server.log_level).lower()
    master = master_key(config)
    has_keys = _usable_keys(config) > 0
    if not master and not has_keys and not is_loopback(host):
        raise ConfigError(
            f"refusing to listen on {host} without authentication: set server.master_key "
            "(or MODELROUTER_MASTER_KEY), create keys with `modelrouter keys create`, or listen on 127.0.0.1"
        )
    click.echo(_startup_report(config), err=True)
    if workers > 1 and config.state == "memory":
        click.echo(
            f"{workers} workers with state: memory: rate limits and budgets hold per worker; "
            "set state: redis://… to share them",
            err=True,
        )
    if not master and not has_keys:
        click.echo(
            "no master key and no virtual keys: requests need no key; listening on loopback only", err=True
        )
    if config.source:
        os.environ[CONFIG_ENV] = os.path.abspath(config.source)
    _raise_open_file_limit()
    uvicorn.run(
        "modelrouter.gateway.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=GatewayHttpProtocol,  # uvicorn's httptools protocol, one write per answer
        access_log=False,
        log_config=logging_config(level),
        log_level=level,
        timeout_graceful_shutdown=math.ceil(config.server.shutdown_grace_s),
        lifespan="on",
        # Nothing reads the client's address, so X-Forwarded-For is not parsed on every
        # request; and the answer does not name the server software (both are uvicorn's
        # defaults, costing about 1% of a request's instructions: bench/instructions.py).
        proxy_headers=False,
        server_header=False,
    )


def logging_config(level: str) -> dict[str, Any]:
    """Every logger (the gateway's, uvicorn's, the libraries') at `level`, to stderr, one line each.

    Applied by uvicorn in every worker process. Records are scrubbed of secrets where they are
    made (`modelrouter.redact`), so no handler here can print one unscrubbed.
    """
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(asctime)s %(levelprefix)s %(name)s: %(message)s",
                "use_colors": False,
            }
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": upper},
        "loggers": {name: {"level": upper} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def _raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one.

    Each open stream needs two sockets: a soft limit of 1,024 (a common default) would refuse
    callers at about 500 streams.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
