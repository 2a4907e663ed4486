"""The app factory uvicorn imports in each worker process (config from $MODELROUTER_CONFIG)."""

from __future__ import annotations

from modelrouter.config import load_config
from modelrouter.gateway.app import Gateway, build_gateway

__all__ = ["create_app"]


def create_app() -> Gateway:
    """A gateway for the config `modelrouter serve` found (passed on through the environment)."""
    return build_gateway(load_config())
