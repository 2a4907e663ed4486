"""The bundled catalog: complete, sourced, consistent, and what SPEC section 1 names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modelrouter.catalog import bundled_models, bundled_providers
from modelrouter.catalog.records import TERM_NAMES
from modelrouter.engine import Engine

SPEC_PROVIDERS = {
    "anthropic",
    "openai",
    "google",
    "vertex",
    "bedrock",
    "azure",
    "xai",
    "deepseek",
    "openrouter",
}
SEED_MODELS = {"claude-opus-4.5", "claude-sonnet-4.5", "gpt-5.2", "gemini-3-pro", "grok-4.1", "deepseek-v3.2"}
SUCCESSORS = {"claude-sonnet-5.5", "gemini-3.1-pro", "grok-4.3", "deepseek-v4-flash", "deepseek-v4-pro"}
PROTOCOLS = {"openai_chat", "anthropic_messages", "gemini", "bedrock_converse"}


def test_the_nine_providers_and_the_seed_models_with_their_successors(engine: Engine) -> None:
    assert set(engine.catalog.providers) == SPEC_PROVIDERS
    assert set(engine.catalog.models) >= SEED_MODELS | SUCCESSORS


def test_every_provider_speaks_a_known_protocol_and_has_a_kind() -> None:
    for provider in bundled_providers():
        assert provider.protocol in PROTOCOLS, provider.id
        assert provider.kind in {"direct", "cloud", "aggregator"}, provider.id


def test_every_known_term_has_a_source_and_date_and_every_unknown_says_why() -> None:
    for provider in bundled_providers():
        assert provider.company.known and provider.company.source, provider.id
        for name in TERM_NAMES:
            fact = provider.terms.get(name)
            assert fact is not None, f"{provider.id} lacks term {name} (write it as unknown with a note)"
            if fact.known:
                assert fact.source and fact.source.startswith("http"), (provider.id, name)
                assert fact.as_of is not None, (provider.id, name)
                assert fact.confidence in {"high", "medium", "low"}, (provider.id, name)
            else:
                assert fact.note, f"{provider.id}.{name} is unknown without a note saying why"


def test_every_offering_and_region_is_sourced() -> None:
    for provider in bundled_providers():
        for name, region in provider.regions.items():
            assert region.source, (provider.id, name)
        for offering in provider.offerings:
            assert offering.source and offering.as_of and offering.confidence, offering.id
            if offering.price is not None:
                assert offering.price.source and offering.price.as_of, offering.id


def test_every_bundled_offering_has_a_price(engine: Engine) -> None:
    unpriced = [e.id for e in engine.catalog.entries if e.price is None]
    assert unpriced == []


def test_lifecycle_replacements_are_catalog_models(engine: Engine) -> None:
    for model in bundled_models():
        assert model.source and model.as_of, model.id
        assert model.lifecycle.source, model.id
        if model.lifecycle.replacement is not None:
            assert model.lifecycle.replacement in engine.catalog.models, model.id
        if model.lifecycle.status == "retired":
            assert model.lifecycle.retired_on is not None, model.id
    for entry in engine.catalog.entries:
        replacement = entry.lifecycle.replacement
        assert replacement is None or replacement in engine.catalog.models, entry.id


def test_seed_models_lifecycle_as_of_today(engine: Engine) -> None:
    status = {m: engine.catalog.models[m].lifecycle.effective(engine.catalog.today) for m in SEED_MODELS}
    assert status == {
        "claude-opus-4.5": "legacy",
        "claude-sonnet-4.5": "deprecated",
        "gpt-5.2": "active",
        "gemini-3-pro": "retired",
        "grok-4.1": "retired",
        "deepseek-v3.2": "retired",
    }
    sonnet = engine.catalog.models["claude-sonnet-4.5"].lifecycle
    assert (str(sonnet.retires_on), sonnet.replacement) == ("2026-11-30", "claude-sonnet-5.5")


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4.5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4.5"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4.5"),
        ("grok-4-1-fast-reasoning", "grok-4.1"),
        ("deepseek-chat", "deepseek-v3.2"),
        ("gemini-3-pro-preview", "gemini-3-pro"),
        ("GPT-5.2", "gpt-5.2"),
    ],
)
def test_maker_ids_and_openrouter_slugs_are_aliases(engine: Engine, name: str, model: str) -> None:
    target = engine.catalog.resolve(name)
    assert (target.model.id, target.provider, target.offerings) == (model, None, None)


def _sonnet_prices(engine: Engine) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    out = {}
    for entry in engine.catalog.by_model["claude-sonnet-4.5"]:
        assert entry.price is not None
        out[entry.id] = (entry.price.per_million("input"), entry.price.per_million("output"))
    return out


def test_claude_sonnet_4_5_is_sold_by_anthropic_bedrock_and_vertex_at_sourced_prices(engine: Engine) -> None:
    prices = _sonnet_prices(engine)
    assert prices["claude-sonnet-4.5@anthropic"] == (Decimal(3), Decimal(15))
    assert prices["claude-sonnet-4.5@bedrock"] == (Decimal(3), Decimal(15))
    for geo in ("us", "eu"):
        assert prices[f"claude-sonnet-4.5@bedrock:{geo}"] == (Decimal("3.3"), Decimal("16.5"))
    assert prices["claude-sonnet-4.5@vertex"] == (Decimal(3), Decimal(15))
    for region in ("us-east5", "europe-west1"):
        assert prices[f"claude-sonnet-4.5@vertex:{region}"] == (Decimal("3.30"), Decimal("16.50"))


def test_offering_provider_model_ids(engine: Engine) -> None:
    ids = {e.id: e.offering.provider_model for e in engine.catalog.by_model["claude-sonnet-4.5"]}
    assert ids["claude-sonnet-4.5@bedrock:eu"] == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert ids["claude-sonnet-4.5@bedrock"] == "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert ids["claude-sonnet-4.5@vertex:europe-west1"] == "claude-sonnet-4-5@20250929"
    assert ids["claude-sonnet-4.5@anthropic"] == "claude-sonnet-4-5-20250929"


def test_global_endpoints_never_count_as_residency(engine: Engine) -> None:
    for entry in engine.catalog.entries:
        if entry.offering.region == "global":
            assert entry.terms["residency"].value is None, entry.id


def test_each_offering_names_the_protocol_it_speaks(engine: Engine) -> None:
    protocols = {e.id: e.protocol for e in engine.catalog.entries if e.provider.id == "vertex"}
    assert protocols["claude-sonnet-4.5@vertex:europe-west1"] == "anthropic_messages"
    assert protocols["gemini-3.1-pro@vertex"] == "gemini"
    assert {e.protocol for e in engine.catalog.entries} <= PROTOCOLS
