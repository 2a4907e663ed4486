"""Routing decisions against the bundled catalog: who passes, who is rejected and why, in what order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelrouter.engine import Engine
from modelrouter.errors import ModelNotFound, ModelRetired
from modelrouter.routing.select import Decision, Needs
from tests.conftest import make_engine


def ids(decision: Decision) -> list[str]:
    return [c.entry.id for c in decision.candidates]


def reasons(decision: Decision) -> dict[str, tuple[str, ...]]:
    return {r.entry.id: r.reasons for r in decision.rejected}


def test_eu_residency_keeps_only_eu_offerings_and_says_why_the_rest_fail(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", {"residency": ["EU"]})
    assert ids(decision) == ["claude-sonnet-4.5@bedrock:eu", "claude-sonnet-4.5@vertex:europe-west1"]
    rejected = reasons(decision)
    assert rejected["claude-sonnet-4.5@anthropic"] == (
        "residency: global gives no residency guarantee; policy requires EU",
    )
    assert rejected["claude-sonnet-4.5@bedrock:us"] == (
        "residency: processed in US (us); policy requires EU",
    )
    assert len(decision.candidates) + len(decision.rejected) == len(
        engine.catalog.by_model["claude-sonnet-4.5"]
    )


def test_an_exact_region_name_is_a_residency_too(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", {"residency": ["europe-west1"]})
    assert ids(decision) == ["claude-sonnet-4.5@vertex:europe-west1"]
    assert "policy requires europe-west1" in reasons(decision)["claude-sonnet-4.5@bedrock:eu"][0]


def test_unknown_facts_never_qualify(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", {"jurisdiction": {"deny": ["CN"]}, "max_retention_days": 0})
    assert ids(decision) == []
    bedrock = reasons(decision)["claude-sonnet-4.5@bedrock:eu"]
    assert bedrock[0].startswith("jurisdiction unknown")
    assert bedrock[1].startswith("retention unknown")
    assert reasons(decision)["claude-sonnet-4.5@anthropic"] == (
        "retention: 30 days; policy allows at most 0; zero retention: contract",
    )


def test_jurisdiction_deny_rejects_the_matching_country(engine: Engine) -> None:
    decision = engine.route("deepseek-v4-flash", {"jurisdiction": {"deny": ["CN"]}})
    assert reasons(decision)["deepseek-v4-flash@deepseek:cn"] == ("jurisdiction: CN is denied",)
    assert ids(decision) == ["deepseek-v4-flash@openrouter"]


def test_a_country_code_covers_its_subdivisions(engine: Engine) -> None:
    decision = engine.route("grok-4.3", {"jurisdiction": {"allow": ["US"]}})
    assert set(ids(decision)) == {"grok-4.3@xai", "grok-4.3@openrouter"}
    denied = engine.route("grok-4.3", {"jurisdiction": {"deny": ["US-TX"]}})
    assert reasons(denied)["grok-4.3@xai"] == ("jurisdiction: US-TX is denied",)
    assert ids(denied) == ["grok-4.3@openrouter"]


def test_jurisdiction_that_depends_on_the_customer_needs_customer_location() -> None:
    anywhere = make_engine()
    decision = anywhere.route("claude-sonnet-4.5@anthropic", {"jurisdiction": {"allow": ["IE"]}})
    assert reasons(decision)["claude-sonnet-4.5@anthropic"] == (
        "jurisdiction: IE or US-CA is not in the allowed IE"
        " (depends on where you contract from: set customer_location)",
    )
    in_europe = make_engine("customer_location: EEA")
    assert ids(in_europe.route("claude-sonnet-4.5@anthropic", {"jurisdiction": {"allow": ["IE"]}})) == [
        "claude-sonnet-4.5@anthropic"
    ]


def test_operator_facts_override_the_catalog() -> None:
    config = """
providers:
  bedrock:
    terms:
      retention_days: {value: 0, note: "data_retention_mode=none on our account"}
      jurisdiction: {value: US-WA, source: "https://aws.amazon.com/agreement/"}
"""
    engine = make_engine(config)
    decision = engine.route("claude-sonnet-4.5", {"max_retention_days": 0, "jurisdiction": {"deny": ["CN"]}})
    assert set(ids(decision)) == {
        f"claude-sonnet-4.5@bedrock{r}" for r in ("", ":us", ":eu", ":apac", ":jp", ":au")
    }
    fact = engine.catalog.providers["bedrock"].terms["retention_days"]
    assert (fact.value, fact.origin, fact.note) == (0, "operator", "data_retention_mode=none on our account")


def test_a_retired_model_is_answered_by_its_replacement_and_says_so(engine: Engine) -> None:
    decision = engine.route("grok-4.1")
    assert (decision.substituted_from, decision.model.id) == ("grok-4.1", "grok-4.3")
    assert ids(decision) == ["grok-4.3@xai", "grok-4.3@openrouter"]
    assert decision.to_json()["substituted"] == {"from": "grok-4.1", "to": "grok-4.3"}


def test_substitution_follows_the_pin_to_the_same_provider(engine: Engine) -> None:
    decision = engine.route("grok-4-1-fast-reasoning@xai")
    assert (decision.substituted_from, ids(decision)) == ("grok-4.1", ["grok-4.3@xai"])


def test_no_substitution_means_410_naming_the_replacement(engine: Engine) -> None:
    with pytest.raises(ModelRetired) as caught:
        engine.route("gemini-3-pro", {"allow_substitution": False})
    assert caught.value.status == 410
    assert caught.value.replacement == "gemini-3.1-pro"
    assert "gemini-3-pro was retired on 2026-03-09; its replacement is gemini-3.1-pro" in caught.value.message


def test_a_name_resolved_once_is_resolved_alike_whether_substitution_is_allowed_or_not(
    engine: Engine,
) -> None:
    """Names are resolved once per (name, allow_substitution): one answer must not serve the other."""
    for _ in range(2):
        assert engine.route("gemini-3-pro").substituted_from == "gemini-3-pro"
        with pytest.raises(ModelRetired):
            engine.route("gemini-3-pro", {"allow_substitution": False})
        with pytest.raises(ModelNotFound):
            engine.route("no-such-model")
    first, again = engine.route("grok-4-1-fast-reasoning@xai"), engine.route("grok-4-1-fast-reasoning@xai")
    assert first == again and ids(first) == ["grok-4.3@xai"]


def test_a_deprecation_date_that_passed_is_a_retirement() -> None:
    before = make_engine(now=datetime(2026, 11, 29, tzinfo=UTC)).route("claude-sonnet-4.5")
    after = make_engine(now=datetime(2026, 11, 30, tzinfo=UTC)).route("claude-sonnet-4.5")
    assert (before.model.id, before.substituted_from) == ("claude-sonnet-4.5", None)
    assert (after.model.id, after.substituted_from) == ("claude-sonnet-5.5", "claude-sonnet-4.5")


AFTER_SONNET_45 = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_pinned_region_holds_the_replacement_to_that_region() -> None:
    """The caller chose europe-west1: the replacement is not served from anywhere else."""
    decision = make_engine(now=AFTER_SONNET_45).route("claude-sonnet-4.5@vertex:europe-west1")
    assert (decision.substituted_from, decision.model.id) == ("claude-sonnet-4.5", "claude-sonnet-5.5")
    assert ids(decision) == []
    assert reasons(decision)["claude-sonnet-5.5@vertex:eu"] == (
        "not the pinned provider (vertex:europe-west1)",
    )


def test_a_pinned_provider_model_id_holds_the_replacement_to_its_provider_and_region() -> None:
    decision = make_engine(now=AFTER_SONNET_45).route("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert decision.substituted_from == "claude-sonnet-4.5"
    assert ids(decision) == ["claude-sonnet-5.5@bedrock:eu"]


def test_a_pinned_provider_alone_keeps_every_region_of_it() -> None:
    decision = make_engine(now=AFTER_SONNET_45).route("claude-sonnet-4.5@bedrock")
    assert ids(decision) and {c.entry.provider.id for c in decision.candidates} == {"bedrock"}
    assert "claude-sonnet-5.5@bedrock:eu" in ids(decision)


def test_pinning_an_offering_that_still_answers_skips_substitution(engine: Engine) -> None:
    decision = engine.route("deepseek-v3.2@openrouter")
    assert (decision.substituted_from, ids(decision)) == (None, ["deepseek-v3.2@openrouter"])
    unpinned = engine.route("deepseek-v3.2")
    assert unpinned.model.id == "deepseek-v4-flash"


def test_lifecycle_policy_rejects_deprecated_and_legacy(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", {"lifecycle": ["active"]})
    assert ids(decision) == []
    assert reasons(decision)["claude-sonnet-4.5@anthropic"] == (
        "lifecycle: deprecated, retires 2026-11-30; policy allows active",
    )


def test_pins(engine: Engine) -> None:
    assert {c.entry.provider.id for c in engine.route("claude-sonnet-4.5@bedrock").candidates} == {"bedrock"}
    assert ids(engine.route("claude-sonnet-4.5@bedrock:eu")) == ["claude-sonnet-4.5@bedrock:eu"]
    assert ids(engine.route("claude-sonnet-4.5@amazon-bedrock:eu")) == ["claude-sonnet-4.5@bedrock:eu"]
    exact = engine.route("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert ids(exact) == ["claude-sonnet-4.5@bedrock:eu"]
    assert reasons(exact)["claude-sonnet-4.5@anthropic"] == ("not the requested provider model id",)
    vertex_id = engine.route("claude-sonnet-4-5@20250929")
    assert {c.entry.provider.id for c in vertex_id.candidates} == {"vertex"}


def test_a_slash_never_pins(engine: Engine) -> None:
    decision = engine.route("anthropic/claude-sonnet-4.5")
    assert {c.entry.provider.id for c in decision.candidates} == {
        "anthropic",
        "bedrock",
        "vertex",
        "openrouter",
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("claude-sonet-4.5", "unknown model 'claude-sonet-4.5'; did you mean 'claude-sonnet-4.5'"),
        ("claude-sonnet-4.5@nowhere", "unknown provider 'nowhere'"),
        (
            "claude-sonnet-4.5@bedrock:mars-1",
            "has no offering at bedrock in region 'mars-1'; regions there: apac, au",
        ),
        ("../../etc/passwd", "unknown model '../../etc/passwd'"),
    ],
)
def test_unknown_names_are_404_with_a_hint(engine: Engine, name: str, message: str) -> None:
    with pytest.raises(ModelNotFound) as caught:
        engine.route(name)
    assert message in caught.value.message
    assert caught.value.status == 404


def test_context_fit_is_checked_against_the_request(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", needs=Needs(input_tokens=250_000, max_tokens=8000))
    assert ids(decision) == ["claude-sonnet-4.5@openrouter"]
    assert reasons(decision)["claude-sonnet-4.5@anthropic"] == (
        "context: 250,000 input + 8,000 output tokens exceed the 200,000-token window",
    )


def test_price_order_uses_the_tier_the_prompt_falls_in(engine: Engine) -> None:
    small = engine.route("claude-sonnet-4.5", {"providers": {"only": ["bedrock", "anthropic"]}})
    assert ids(small)[:2] == ["claude-sonnet-4.5@anthropic", "claude-sonnet-4.5@bedrock"]
    # Above 200k tokens the anthropic offering bills $6/$22.50 while Bedrock's global profile
    # has no long-context tier in genai-prices; Bedrock's window (200k) no longer fits either.
    big = engine.route(
        "claude-sonnet-4.5", {"providers": {"only": ["openrouter", "anthropic"]}}, needs=Needs(199_000)
    )
    assert [float(c.score or 0) for c in big.candidates] == [6.0, 6.0]


def test_request_capabilities_are_checked_whatever_the_policy(engine: Engine) -> None:
    decision = engine.route("deepseek-v4-flash", needs=Needs(capabilities=frozenset({"vision"})))
    assert ids(decision) == []
    assert reasons(decision)["deepseek-v4-flash@openrouter"] == ("capabilities: no vision support",)
    unknown = engine.route("claude-sonnet-5.5@anthropic", {"capabilities": ["json_schema"]})
    assert reasons(unknown)["claude-sonnet-5.5@anthropic"] == ("capabilities: json_schema support unknown",)


def test_provider_only_ignore_and_order_accept_openrouter_slugs(engine: Engine) -> None:
    only = engine.route("claude-sonnet-4.5", {"providers": {"only": ["google-vertex"]}})
    assert {c.entry.provider.id for c in only.candidates} == {"vertex"}
    ignored = engine.route("gpt-5.2", {"providers": {"ignore": ["azure", "openrouter"]}})
    assert ids(ignored) == ["gpt-5.2@openai"]
    assert reasons(ignored)["gpt-5.2@azure"] == ("provider azure is in providers.ignore",)
    ordered = engine.route("gpt-5.2", {"providers": {"order": ["openrouter", "azure"]}})
    assert ids(ordered) == [
        "gpt-5.2@openrouter",
        "gpt-5.2@azure",
        "gpt-5.2@azure:eu",
        "gpt-5.2@azure:us",
        "gpt-5.2@openai",
    ]


def test_default_order_is_cheapest_first_then_direct_providers(engine: Engine) -> None:
    assert ids(engine.route("gpt-5.2")) == [
        "gpt-5.2@openai",
        "gpt-5.2@azure",
        "gpt-5.2@openrouter",
        "gpt-5.2@azure:eu",
        "gpt-5.2@azure:us",
    ]


def test_max_price(engine: Engine) -> None:
    decision = engine.route("claude-sonnet-4.5", {"max_price": {"input": 3}})
    assert "claude-sonnet-4.5@bedrock:eu" in reasons(decision)
    assert reasons(decision)["claude-sonnet-4.5@bedrock:eu"] == ("input price $3.3/M above the $3/M cap",)
    assert "claude-sonnet-4.5@anthropic" in ids(decision)


def test_readiness_names_missing_credentials_and_disabled_regions() -> None:
    engine = make_engine(
        "providers:\n  bedrock: {regions: [eu-central-1], access_key_id: env:AKID,"
        " secret_access_key: env:SAK}\n",
        env={"AKID": "AKIAEXAMPLE", "SAK": "secret", "ANTHROPIC_API_KEY": "sk-ant-x"},
    )
    decision = engine.route("claude-sonnet-4.5")
    ready = {c.entry.id: c.not_ready for c in decision.candidates}
    assert ready["claude-sonnet-4.5@anthropic"] == ()
    assert ready["claude-sonnet-4.5@bedrock:eu"] == ()
    assert ready["claude-sonnet-4.5@bedrock"] == ()
    assert ready["claude-sonnet-4.5@bedrock:us"] == (
        "region us is not enabled: providers.bedrock.regions lists eu-central-1",
    )
    assert ready["claude-sonnet-4.5@vertex"] == (
        "no credentials for vertex: set GOOGLE_CLOUD_PROJECT"
        " (or providers.vertex.project in modelrouter.yaml)",
    )
    assert [e.id for e in decision.attempt_order] == [
        "claude-sonnet-4.5@anthropic",
        "claude-sonnet-4.5@bedrock",
        "claude-sonnet-4.5@bedrock:eu",
    ]
    no_fallbacks = engine.route("claude-sonnet-4.5", {"allow_fallbacks": False})
    assert [e.id for e in no_fallbacks.attempt_order] == ["claude-sonnet-4.5@anthropic"]


def test_latency_sort_without_measurements_falls_back_to_price(engine: Engine) -> None:
    decision = engine.route("gpt-5.2", {"sort": "latency"})
    assert decision.sort == "price"
    assert decision.notes == ("no latency measurements yet: ordered by price",)


def test_operator_aliases_map_names_clients_insist_on(engine: Engine) -> None:
    aliased = make_engine("aliases: {claude-haiku-4-5: deepseek-v4-flash@openrouter}")
    decision = aliased.route("claude-haiku-4-5")
    assert ids(decision) == ["deepseek-v4-flash@openrouter"]


def test_named_and_default_policies_compose() -> None:
    engine = make_engine(
        "policies:\n  eu-private: {residency: [EU], training: false}\n  cheap: {max_price: {input: 3.2}}\n"
        "default_policy: eu-private\n"
    )
    decision = engine.route("claude-sonnet-4.5", "cheap")
    assert decision.policy.name == "eu-private + cheap"
    assert ids(decision) == []
    assert ids(engine.route("claude-sonnet-4.5")) == [
        "claude-sonnet-4.5@bedrock:eu",
        "claude-sonnet-4.5@vertex:europe-west1",
    ]


def test_the_python_api_gives_the_same_explanation(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import modelrouter

    monkeypatch.delenv("MODELROUTER_CONFIG", raising=False)
    decision = modelrouter.route("claude-sonnet-5.5", {"residency": ["EU"]}, input_tokens=1000)
    assert [c.entry.id for c in decision.candidates] == [
        "claude-sonnet-5.5@bedrock:eu",
        "claude-sonnet-5.5@vertex:eu",
    ]
    assert decision.to_json()["rejected"][0]["reasons"]
