"""F21: fallback under a caller's policy never leaves it (reference/reliability.md section 5.1).

Hypothesis draws a policy in up to three layers (a named policy by header, an inline `route`,
OpenRouter's `provider` object), a model (maybe pinned to a provider, maybe with a `models`
fallback list), a door, streaming or not, and a failure plan for the fake providers: which of
them fail before the commit point, how (an HTTP status, an in-band error event, a cut or
unreadable stream) and how many times. Each example goes through the real gateway to the fake
upstream; the gateway is built in this process and its ASGI app called directly, so thousands
of examples fit in CI time.

The oracle is the fake's request log, read against the catalog's facts by `allows` below, a
restatement of SPEC section 4 written from the policy mappings the caller sent, not through
the gateway's policy code: every request a provider received must be for an offering that
every layer allows, of a model the caller named. At the end the ledger must hold exactly
one attempt row per request the fake received, each naming an offering the policy allows (for
Azure, where one deployment serves the global and Data Zone offerings alike, the wire cannot
tell them apart and the ledger row says which the gateway meant).

`MODELROUTER_F21_EXAMPLES` sets the number of examples (default 2,000, the plan's figure).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelrouter.catalog.catalog import Catalog, Entry
from tests.fakes import FakeUpstream
from tests.fakes.server import Logged
from tests.gateway.conftest import gateway_config
from tests.gateway.inprocess import InProcessGateway, Reply

EXAMPLES = int(os.environ.get("MODELROUTER_F21_EXAMPLES", "2000"))

NAMED: dict[str, dict[str, Any]] = {
    "eu-only": {"residency": ["EU"]},
    "zdr": {"max_retention_days": 0},
    "no-training": {"training": False},
    "cheap": {"max_price": {"input": 2, "output": 12}},
    "clouds": {"providers": {"only": ["bedrock", "vertex", "azure"]}},
    "us-law": {"jurisdiction": {"allow": ["US"]}},
}
"""Named policies of the gateway's config, chosen by the `x-modelrouter-policy` header."""

MODELS = [
    "gpt-5.2",
    "claude-sonnet-4.5",
    "claude-opus-4.5",
    "gemini-3.1-pro",
    "grok-4.3",
    "deepseek-v4-flash",
    "gemini-3-pro",  # retired: answered by its replacement unless the policy forbids it
    "anthropic/claude-sonnet-4.5",  # an OpenRouter-style slug: the model, from anyone allowed
    "claude-sonnet-4.5@bedrock",
    "claude-sonnet-4.5@vertex:europe-west1",
    "claude-opus-4.5@bedrock:us",
    "gpt-5.2@azure",
    "gpt-5.2@openrouter",
]
PROVIDERS = ["openai", "azure", "anthropic", "vertex", "xai", "openrouter", "google", "bedrock", "deepseek"]
SLUGS = [
    "openai",
    "azure",
    "anthropic",
    "google-vertex",
    "x-ai",
    "google-ai-studio",
    "amazon-bedrock",
    "deepseek",
]
"""OpenRouter's names for the providers, as its `provider` object spells them."""
LAWS = ["US", "US-CA", "US-TX", "IE", "CN"]
LABELS = [
    "openai",
    "azure",
    "anthropic",
    "vertex",
    "xai",
    "openrouter",
    "google",
    "bedrock-eu-central-1",
    "bedrock-us-east-1",
]
"""Where the fake tells providers apart (the first path segment; Bedrock by invoke region)."""
READY_REGIONS = {"bedrock": {"global", "eu", "us"}, "vertex": {"global", "europe-west1", "us-east5"}}
"""What the test config enables (Bedrock invoked from eu-central-1 and us-east-1)."""
CONFIGURED = set(PROVIDERS) - {"deepseek"}
"""Providers the test config gives credentials (DeepSeek has none: never tried)."""


# --- the oracle --------------------------------------------------------------------------


def allows(layer: Mapping[str, Any], entry: Entry) -> bool:
    """Whether one policy layer (SPEC section 4 keys, or OpenRouter's `provider`) admits `entry`."""
    terms = entry.terms
    names = {entry.provider.id, *entry.provider.openrouter_slugs}
    price = entry.price
    checks = []
    if "residency" in layer:
        where = {terms["residency"].value, entry.offering.region} - {None}
        checks.append(bool(where & set(layer["residency"])))
    retention = layer.get("max_retention_days", 0 if layer.get("zdr") else None)
    if retention is not None:
        days = terms["retention_days"].value
        checks.append(days is not None and days <= retention)
    if layer.get("training") is False or layer.get("data_collection") == "deny":
        checks.append(terms["training"].value is False)
    limit = layer.get("max_price") or {}
    for ours, theirs in (("input", "prompt"), ("output", "completion")):
        most = limit.get(ours, limit.get(theirs))
        if most is not None:
            rate = price.per_million(ours) if price else None
            checks.append(rate is not None and rate <= Decimal(str(most)))
    laws = entry.jurisdiction.possible(None) if entry.jurisdiction else None
    jurisdiction = layer.get("jurisdiction") or {}
    if "allow" in jurisdiction:
        checks.append(laws is not None and all(_within(law, jurisdiction["allow"]) for law in laws))
    if "deny" in jurisdiction:
        checks.append(laws is not None and not any(_within(law, jurisdiction["deny"]) for law in laws))
    providers = layer.get("providers") or layer
    if providers.get("only") is not None:
        checks.append(bool(names & set(providers["only"])))
    checks.append(not names & set(providers.get("ignore") or ()))
    checks.append(set(layer.get("capabilities") or ()) <= entry.capabilities)
    return all(checks)


def _within(law: str, codes: list[str]) -> bool:
    """US covers US and US-CA; US-CA covers only US-CA."""
    return any(law == code or law.startswith(code + "-") for code in codes)


def named_models(catalog: Catalog, name: str, substitution: bool) -> set[tuple[str, str | None, str | None]]:
    """(model id, pinned provider, pinned region) a requested name stands for."""
    base, provider, region = name, None, None
    if "@" in name:
        base, _, pin = name.rpartition("@")
        provider, _, region_part = pin.partition(":")
        region = region_part or None
    model = catalog.resolve(base).model
    found = {(model.id, provider, region)}
    if model.lifecycle.effective(catalog.today) == "retired" and substitution and model.lifecycle.replacement:
        found.add((model.lifecycle.replacement, provider, region))
    return found


@dataclass
class Case:
    """One drawn example: what the caller sent and what the fake will do."""

    model: str
    fallbacks: list[str]
    named: str | None
    route: dict[str, Any] | None
    provider: dict[str, Any] | None
    door: str
    stream: bool
    faults: dict[str, tuple[str, int, int]]
    """Label to (kind, status, how many requests)."""

    def layers(self) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = [NAMED[self.named]] if self.named else []
        return found + [layer for layer in (self.route, self.provider) if layer is not None]

    def permitted(self, catalog: Catalog, entry: Entry) -> bool:
        """The oracle: a model the caller named (its pin kept), under every layer of the policy."""
        layers = self.layers()
        substitution = all(layer.get("allow_substitution", True) for layer in layers)
        names = [self.model, *self.fallbacks]
        targets = set().union(*(named_models(catalog, n, substitution) for n in names))
        named = any(
            entry.model.id == model
            and (provider is None or entry.provider.id == provider)
            and (region is None or entry.offering.region == region)
            for model, provider, region in targets
        )
        live = entry.lifecycle.effective(catalog.today) != "retired"
        return named and live and all(allows(layer, entry) for layer in layers)

    def refuses_retired(self, catalog: Catalog) -> bool:
        """Whether the model named first is retired and no layer allows substitution.

        A retired model further down `models` is skipped like any fallback that cannot serve.
        """
        if all(layer.get("allow_substitution", True) for layer in self.layers()):
            return False
        name = self.model.rpartition("@")[0] or self.model
        return catalog.resolve(name).model.lifecycle.effective(catalog.today) == "retired"

    def ready(self, entry: Entry) -> bool:
        """Whether the test config lets the gateway call this offering at all."""
        if entry.provider.id not in CONFIGURED:
            return False
        regions = READY_REGIONS.get(entry.provider.id)
        return regions is None or entry.offering.region in regions


def wire_offerings(catalog: Catalog, logged: Logged) -> list[Entry]:
    """The catalog offerings a request the fake received can be for, read from the wire alone."""
    label, path, body = logged.label, unquote(logged.path), logged.body
    region: str | None = None
    if label.startswith("bedrock-"):
        provider, model = "bedrock", path.split("/model/", 1)[1].rsplit("/", 1)[0]
    elif label == "vertex":
        found = re.search(r"/locations/([^/]+)/publishers/[^/]+/models/([^/:]+):", path)
        assert found, path
        provider, region, model = "vertex", found[1], found[2]
    elif label == "google":
        found = re.search(r"/models/([^/:]+):", path)
        assert found, path
        provider, model = "google", found[1]
    elif label == "azure":
        found = re.search(r"/deployments/([^/]+)/", path)
        assert found, path
        provider, model = "azure", found[1]
    else:
        provider, model = label, body["model"]
    matches = [
        e
        for e in catalog.entries
        if e.provider.id == provider
        and e.offering.provider_model == model
        and (region is None or e.offering.region == region)
    ]
    if provider == "bedrock":  # a geographic profile is invoked from a region of its geography
        invoked = label.removeprefix("bedrock-")
        matches = [e for e in matches if e.offering.region in ("global", invoked.split("-")[0])]
    return matches


# --- strategies --------------------------------------------------------------------------


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _seldom(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None three times in four: a layer sets a few keys, so most examples reach a provider."""
    return st.one_of(st.none(), st.none(), st.none(), strategy)


def _prune(data: dict[str, Any]) -> dict[str, Any] | None:
    kept = {k: v for k, v in data.items() if v is not None}
    return kept or None


PRICES_IN = [Decimal("1.25"), Decimal("1.75"), Decimal(2), Decimal(3), Decimal("3.3"), Decimal(5)]
PRICES_OUT = [Decimal("2.5"), Decimal(12), Decimal(14), Decimal(15), Decimal("16.5"), Decimal(25)]
subset_of_providers = st.lists(st.sampled_from(PROVIDERS), min_size=1, max_size=4, unique=True)
subset_of_slugs = st.lists(st.sampled_from(SLUGS), min_size=1, max_size=4, unique=True)


def _route(
    residency: Any, law: Any, retention: Any, training: Any, price_in: Any, price_out: Any, *more: Any
) -> dict[str, Any] | None:
    """An inline `route` policy from the drawn keys (None where a key was not drawn)."""
    only, ignore, order, capabilities, substitution, fallbacks, sort = more
    return _prune(
        {
            "residency": residency,
            "jurisdiction": law,
            "max_retention_days": retention,
            "training": training,
            "max_price": _prune(
                {
                    "input": float(price_in) if price_in else None,
                    "output": float(price_out) if price_out else None,
                }
            ),
            "providers": _prune({"only": only, "ignore": ignore, "order": order}),
            "capabilities": capabilities,
            "allow_substitution": substitution,
            "allow_fallbacks": fallbacks,
            "sort": sort,
        }
    )


routes = st.builds(
    _route,
    _seldom(
        st.lists(
            st.sampled_from(["EU", "US", "europe-west1", "us-east5"]), min_size=1, max_size=2, unique=True
        )
    ),
    _seldom(
        st.builds(
            lambda allow, deny: _prune({"allow": allow, "deny": deny}),
            _maybe(st.lists(st.sampled_from(LAWS), min_size=1, max_size=2, unique=True)),
            _maybe(st.lists(st.sampled_from(LAWS), min_size=1, max_size=2, unique=True)),
        )
    ),
    _seldom(st.sampled_from([0, 30, 55, 365])),
    _seldom(st.just(False)),
    _seldom(st.sampled_from(PRICES_IN)),
    _seldom(st.sampled_from(PRICES_OUT)),
    _seldom(subset_of_providers),
    _seldom(subset_of_providers),
    _seldom(subset_of_providers),
    _seldom(st.lists(st.sampled_from(["tools", "vision", "reasoning"]), min_size=1, max_size=2, unique=True)),
    _seldom(st.booleans()),
    _seldom(st.booleans()),
    _seldom(st.sampled_from(["price", "latency", "throughput"])),
)
openrouter_objects = st.builds(
    lambda only, ignore, zdr, collection, price_in, fallbacks: _prune(
        {
            "only": only,
            "ignore": ignore,
            "zdr": zdr,
            "data_collection": collection,
            "max_price": _prune({"prompt": float(price_in) if price_in else None}),
            "allow_fallbacks": fallbacks,
        }
    ),
    _seldom(subset_of_slugs),
    _seldom(subset_of_slugs),
    _seldom(st.just(True)),
    _seldom(st.sampled_from(["allow", "deny"])),
    _seldom(st.sampled_from(PRICES_IN)),
    _seldom(st.booleans()),
)
FAULT_KINDS = ["status", "status", "status", "in_band", "cut", "malformed"]
STATUSES = [400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 529]
faults = st.dictionaries(
    st.sampled_from(LABELS),
    st.tuples(st.sampled_from(FAULT_KINDS), st.sampled_from(STATUSES), st.integers(1, 3)),
    max_size=len(LABELS),
)
cases = st.builds(
    Case,
    model=st.sampled_from(MODELS),
    fallbacks=st.lists(st.sampled_from(MODELS), max_size=2, unique=True),
    named=_seldom(st.sampled_from(sorted(NAMED))),
    route=_maybe(routes),
    provider=_seldom(openrouter_objects),
    door=st.sampled_from(["openai", "anthropic"]),
    stream=st.booleans(),
    faults=faults,
)


# --- the gateway, the plan, one request ----------------------------------------------------


@pytest.fixture(scope="module")
def gateway(
    fake_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessGateway]:
    directory = tmp_path_factory.mktemp("f21")
    config = gateway_config(fake_server.url, store=f"sqlite:///{directory}/ledger.db", policies=NAMED)
    running = InProcessGateway(config)
    yield running
    running.close()


def arm(fake: FakeUpstream, plan: Mapping[str, tuple[str, int, int]]) -> None:
    """Script the fake: each label's fault, for its next `n` requests."""
    for label, (kind, status, n) in plan.items():
        if kind == "status":
            fake.fail_next(n, status=status, label=label)
        elif kind == "in_band":  # an error event first thing in a 200 stream
            fake.in_band_error(label=label, n=n)
        elif kind == "cut":  # headers, then the connection drops before any event
            fake.cut_stream_after(0, label=label, n=n)
        else:
            fake.malformed(label=label, n=n)


def send(gateway: InProcessGateway, case: Case) -> Reply:
    body: dict[str, Any] = {"model": case.model, "stream": case.stream}
    if case.door == "openai":
        path = "/v1/chat/completions"
        body["messages"] = [{"role": "user", "content": "hello there"}]
    else:
        path = "/v1/messages"
        body.update(max_tokens=64, messages=[{"role": "user", "content": "hello there"}])
    if case.fallbacks:
        body["models"] = case.fallbacks
    if case.route is not None:
        body["route"] = case.route
    if case.provider is not None:
        body["provider"] = case.provider
    headers = [("x-modelrouter-policy", case.named)] if case.named else []
    return gateway.post(path, body, headers)


NARROWED_BY_REGION = Case(
    "claude-sonnet-4.5", [], "eu-only", {"residency": ["europe-west1"]}, None, "openai", False, {}
)
"""The operator's EU narrowed by the caller to one EU region: that region's offering answers."""
NARROWED_BY_SLUG = Case(
    "claude-sonnet-4.5", [], "clouds", None, {"only": ["amazon-bedrock"]}, "anthropic", True, {}
)
"""`bedrock` in the operator's list, OpenRouter's `amazon-bedrock` in the caller's: Bedrock answers."""


@dataclass
class Seen:
    """What one example sent upstream, for the ledger check at the end."""

    case: Case
    request_id: str
    wire: list[list[Entry]]


def check(catalog: Catalog, case: Case, reply: Reply, log: list[Logged]) -> Seen:
    """Every request the fake received was allowed; the reply agrees with the log."""
    by_id = {e.id: e for e in catalog.entries}
    wire = [wire_offerings(catalog, logged) for logged in log]
    for logged, possible in zip(log, wire, strict=True):
        assert possible, f"{logged.label} {logged.path}: not an offering of the catalog"
        allowed = [e.id for e in possible if case.permitted(catalog, e)]
        assert allowed, f"{[e.id for e in possible]} was tried, outside the caller's policy"
    assert reply.headers.get("x-modelrouter-attempts") == str(len(log)), (reply.status, reply.body[:300])
    fallbacks = all(layer.get("allow_fallbacks", True) for layer in case.layers())
    if not fallbacks:  # one offering per model named (a `models` list still moves on to the next name)
        tried = {(logged.label, logged.path) for logged in log}
        assert len(tried) <= len({case.model, *case.fallbacks}), f"allow_fallbacks: false, yet {tried}"
    if reply.status == 200:
        assert log, "answered without asking a provider"
        assert reply.headers["x-modelrouter-provider"] == wire[-1][0].provider.id
        assert case.permitted(catalog, by_id[reply.headers["x-modelrouter-offering"]])
    else:
        assert 400 <= reply.status < 600 and reply.status != 500, (reply.status, reply.body[:300])
        error = reply.json()
        assert ("error" in error) if case.door == "openai" else (error["type"] == "error")
    if reply.status in (410, 422):  # refused for the model or the policy: nothing may go upstream
        assert not log, [logged.label for logged in log]
    if case.refuses_retired(catalog):  # a retired first model, substitution forbidden: 410
        assert reply.status == 410 and not log, (reply.status, reply.body[:300])
    elif not case.faults:
        reachable = [e.id for e in catalog.entries if case.permitted(catalog, e) and case.ready(e)]
        if reachable:
            assert reply.status == 200, (reply.status, reachable, reply.body[:300])
        else:
            assert not log and reply.status in (410, 422, 503), (reply.status, reply.body[:300])
    return Seen(case, reply.headers["x-request-id"], wire)


def test_fallback_never_leaves_the_callers_policy(gateway: InProcessGateway, fake: FakeUpstream) -> None:
    catalog = gateway.app.engine.catalog
    seen: list[Seen] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases)
    @example(NARROWED_BY_REGION)
    @example(NARROWED_BY_SLUG)
    def one(case: Case) -> None:
        fake.reset()
        gateway.app.health.reset()  # each example starts with every breaker closed
        arm(fake, case.faults)
        reply = send(gateway, case)
        seen.append(check(catalog, case, reply, list(fake.requests)))
        statuses[reply.status] = statuses.get(reply.status, 0) + 1

    one()
    assert gateway.app.ledger.flush(30), "the ledger did not catch up"
    rows: dict[str, list[tuple[int, str]]] = {}
    for request_id, number, offering in gateway.app.ledger.query(
        "SELECT request_id, attempt_no, offering FROM attempts ORDER BY request_id, attempt_no"
    ):
        rows.setdefault(request_id, []).append((number, offering))
    by_id = {e.id: e for e in catalog.entries}
    for s in seen:
        attempts = rows.get(s.request_id, [])
        assert [n for n, _ in attempts] == list(range(1, len(s.wire) + 1)), (s.request_id, attempts)
        for (_, offering), possible in zip(attempts, s.wire, strict=True):
            assert offering in {e.id for e in possible}, (offering, [e.id for e in possible])
            assert s.case.permitted(catalog, by_id[offering]), offering
    tried = sum(len(s.wire) for s in seen)
    fell_back = sum(len(s.wire) > 1 for s in seen)
    elapsed = time.monotonic() - started
    print(
        f"F21: {len(seen)} requests, {tried} upstream attempts ({fell_back} requests with fallbacks), "
        f"none outside the policy, {elapsed:.1f}s; statuses {sorted(statuses.items())}"
    )
