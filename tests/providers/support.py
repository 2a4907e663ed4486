"""Helpers for adapter tests: an engine with a config and an environment, and an entry by id."""

from __future__ import annotations

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.engine import Engine
from modelrouter.providers import Provider, UpstreamCall, load_all
from tests.conftest import make_engine

CANARY = "sk-canary-0123456789abcdef"


def adapters(config: str = "", env: dict[str, str] | None = None) -> tuple[Engine, dict[str, Provider]]:
    engine = make_engine(config, env=env)
    return engine, load_all(engine.catalog, engine.config, env or {})


def entry(engine: Engine, offering: str) -> Entry:
    return next(e for e in engine.catalog.entries if e.id == offering)


def hello(model: str = "m", *, stream: bool = False) -> ir.Request:
    return ir.Request(
        model=model,
        messages=[ir.Message(role="user", content=[ir.TextPart(text="hello")])],
        stream=stream,
        max_tokens=64,
    )


async def built(adapter: Provider, target: Entry, *, stream: bool = False) -> UpstreamCall:
    body = adapter.encode(hello(stream=stream), target)
    return await adapter.authorize(adapter.prepare(target, body, stream=stream))
