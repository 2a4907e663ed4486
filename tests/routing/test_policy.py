"""Policy parsing, composition by intersection, and OpenRouter's `provider` object."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modelrouter.routing.policy import Policy, PolicyError
from tests.conftest import make_engine


def test_parses_every_spec_key() -> None:
    policy = Policy.parse(
        {
            "residency": ["EU", "eu-central-1"],
            "jurisdiction": {"allow": ["us", "IE"], "deny": ["CN"]},
            "max_retention_days": 0,
            "training": False,
            "private_endpoint": True,
            "compliance": ["soc2", "HIPAA"],
            "max_price": {"input": 5, "output": "20.5"},
            "capabilities": ["tools", "vision"],
            "allow_substitution": False,
            "lifecycle": ["active"],
            "sort": "latency",
            "providers": {
                "only": ["bedrock", "Vertex"],
                "ignore": ["openrouter"],
                "order": ["vertex", "bedrock"],
            },
            "allow_fallbacks": False,
        },
        name="strict",
    )
    assert policy == Policy(
        residency=frozenset({"EU", "eu-central-1"}),
        jurisdiction_allow=frozenset({"US", "IE"}),
        jurisdiction_deny=frozenset({"CN"}),
        max_retention_days=0,
        no_training=True,
        private_endpoint=True,
        compliance=frozenset({"SOC2", "HIPAA"}),
        max_price_input=Decimal(5),
        max_price_output=Decimal("20.5"),
        capabilities=frozenset({"tools", "vision"}),
        lifecycle=frozenset({"active"}),
        allow_substitution=False,
        only=frozenset({"bedrock", "vertex"}),
        ignore=frozenset({"openrouter"}),
        order=("vertex", "bedrock"),
        allow_fallbacks=False,
        sort="latency",
    )
    assert policy.name == "strict"


def test_string_values_from_the_command_line_parse_like_yaml_values() -> None:
    from_cli = Policy.parse({"max_retention_days": "0", "training": "false", "private_endpoint": "true"})
    assert from_cli == Policy.parse({"max_retention_days": 0, "training": False, "private_endpoint": True})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"residncy": ["EU"]}, "unknown policy key(s) residncy"),
        ({"max_retention_days": -1}, "max_retention_days must be a whole number of 0 or more"),
        ({"max_retention_days": "soon"}, "max_retention_days must be a whole number"),
        ({"max_retention_days": True}, "max_retention_days must be a whole number"),
        ({"training": True}, "only `false` is meaningful"),
        ({"capabilities": ["telepathy"]}, "capabilities: unknown telepathy"),
        ({"sort": "vibes"}, "sort must be one of price, latency, throughput"),
        ({"max_price": {"input": "free"}}, "max_price.input must be a price"),
        ({"max_price": {"input": -2}}, "max_price.input must be a price of 0 or more"),
        ({"max_price": 3}, "max_price must be {input: USD, output: USD}"),
        ({"jurisdiction": {"block": ["CN"]}}, "jurisdiction must be {allow"),
        ({"providers": {"first": ["x"]}}, "providers must be {only"),
        ({"residency": [""]}, "residency must hold non-empty strings"),
        ({"lifecycle": ["retired"]}, "lifecycle: unknown retired"),
    ],
)
def test_bad_policies_get_a_message_naming_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.parse(data)
    assert message in caught.value.message
    assert caught.value.status == 400


def test_tighten_is_an_intersection() -> None:
    key = Policy.parse(
        {"residency": ["EU", "US"], "max_retention_days": 30, "providers": {"only": ["bedrock", "vertex"]}},
        name="key",
    )
    request = Policy.parse(
        {"residency": ["EU"], "max_retention_days": 90, "jurisdiction": {"deny": ["CN"]}, "sort": "price"},
        name="request",
    )
    both = key.tighten(request)
    assert both.residency == frozenset({"EU"})
    assert both.max_retention_days == 30
    assert both.jurisdiction_deny == frozenset({"CN"})
    assert both.only == frozenset({"bedrock", "vertex"})
    assert both.sort == "price"
    assert both.name == "key + request"


def test_a_request_cannot_loosen_its_key_policy() -> None:
    key = Policy.parse(
        {"training": False, "allow_substitution": False, "allow_fallbacks": False, "private_endpoint": True}
    )
    loose = Policy.parse({"allow_substitution": True, "allow_fallbacks": True, "private_endpoint": False})
    both = key.tighten(loose)
    assert both.no_training and both.private_endpoint
    assert not both.allow_substitution and not both.allow_fallbacks


def test_disjoint_residency_intersects_to_nothing() -> None:
    both = Policy.parse({"residency": "EU"}).tighten(Policy.parse({"residency": "US"}))
    assert (both.residency, both.residency_also) == (frozenset({"EU"}), (frozenset({"US"}),))
    decision = make_engine().route("claude-sonnet-4.5", both)
    assert not decision.candidates
    assert all(any(r.startswith("residency") for r in rejected.reasons) for rejected in decision.rejected)


def test_a_narrower_name_survives_tightening() -> None:
    """EU then europe-west1 is europe-west1; US law then US-CA law is US-CA; a nested list wins."""
    engine = make_engine()
    eu = Policy.parse({"residency": ["EU"]}).tighten(Policy.parse({"residency": ["europe-west1"]}))
    assert [c.entry.id for c in engine.route("claude-sonnet-4.5", eu).candidates] == [
        "claude-sonnet-4.5@vertex:europe-west1"
    ]
    law = Policy.parse({"jurisdiction": {"allow": ["US", "IE"]}}).tighten(
        Policy.parse({"jurisdiction": {"allow": ["US-CA", "CN"]}})
    )
    assert law.jurisdiction_allow == frozenset({"US-CA"})
    nested = Policy.parse({"residency": ["EU", "US"]}).tighten(Policy.parse({"residency": ["EU"]}))
    assert (nested.residency, nested.residency_also) == (frozenset({"EU"}), ())
    slugs = Policy.parse({"providers": {"only": ["bedrock"]}}).tighten(
        Policy.from_openrouter({"only": ["amazon-bedrock", "anthropic"]})
    )
    assert {c.entry.provider.id for c in engine.route("claude-sonnet-4.5", slugs).candidates} == {"bedrock"}


def test_openrouter_provider_object_maps_onto_the_vocabulary() -> None:
    policy = Policy.from_openrouter(
        {
            "order": ["amazon-bedrock", "google-vertex"],
            "only": ["amazon-bedrock", "google-vertex", "anthropic"],
            "ignore": ["deepinfra"],
            "allow_fallbacks": False,
            "data_collection": "deny",
            "zdr": True,
            "sort": "throughput",
            "max_price": {"prompt": 4, "completion": 20},
            "require_parameters": True,
        }
    )
    assert policy.order == ("amazon-bedrock", "google-vertex")
    assert policy.only == frozenset({"amazon-bedrock", "google-vertex", "anthropic"})
    assert policy.ignore == frozenset({"deepinfra"})
    assert policy.no_training and policy.max_retention_days == 0 and not policy.allow_fallbacks
    assert policy.sort == "throughput"
    assert (policy.max_price_input, policy.max_price_output) == (Decimal(4), Decimal(20))
    assert Policy.from_openrouter({"sort": {"by": "price"}}).sort == "price"


def test_unsupported_openrouter_keys_are_refused_by_name() -> None:
    with pytest.raises(PolicyError, match=r"provider\.quantizations is not supported"):
        Policy.from_openrouter({"quantizations": ["fp8"]})
    with pytest.raises(PolicyError, match="data_collection must be 'allow' or 'deny'"):
        Policy.from_openrouter({"data_collection": "maybe"})


def test_describe_round_trips_through_parse() -> None:
    data = {
        "residency": ["EU"],
        "jurisdiction": {"deny": ["CN"]},
        "max_retention_days": 0,
        "training": False,
        "max_price": {"input": 5.0},
        "providers": {"order": ["bedrock"]},
        "sort": "price",
    }
    policy = Policy.parse(data)
    assert policy.describe() == data
    assert Policy.parse(policy.describe()) == policy
