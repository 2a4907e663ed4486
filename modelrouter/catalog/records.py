"""Typed catalog rows: models (capability), providers (terms) and offerings (model x provider x region).

Every term is a `Fact`: a value with the source URL and as-of date it rests on. A value of
`None` means *unknown*, never a guess; the policy engine treats unknown as "does not qualify"
for hard constraints. Rows are frozen pydantic models so bundled data and operator config are
validated the same way, with errors that name the offending key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Confidence = Literal["high", "medium", "low"]
Origin = Literal["catalog", "operator"]
ProviderKind = Literal["direct", "cloud", "aggregator", "custom"]
LifecycleStatus = Literal["active", "legacy", "deprecated", "retired"]
ZeroRetention = Literal["none", "contract", "approval", "self_serve", "setting"]
Capability = Literal["tools", "vision", "json_schema", "reasoning"]

TERM_NAMES = (
    "jurisdiction",
    "retention_days",
    "training",
    "zero_retention",
    "residency",
    "private_endpoint",
    "compliance",
)
"""The provider terms every listing shows, in this order (SPEC section 2)."""


class Row(BaseModel):
    """Base of every catalog row: frozen, and strict about unknown keys (typos fail loudly)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(Row):
    """Where a statement comes from: the page, the date it was true, how far to trust it."""

    source: str | None = None
    as_of: date | None = None
    confidence: Confidence | None = None
    note: str | None = None


def check_term_names(terms: dict[str, Fact]) -> dict[str, Fact]:
    """Term overrides may only name the terms every listing shows."""
    unknown = set(terms) - set(TERM_NAMES)
    if unknown:
        raise ValueError(f"unknown term(s) {sorted(unknown)}; terms are {', '.join(TERM_NAMES)}")
    return terms


class Fact(Sourced):
    """One sourced statement. `value=None` is unknown; `origin` says who asserted it."""

    value: Any = None
    origin: Origin = "catalog"

    @property
    def known(self) -> bool:
        """Whether the value is established (unknown never qualifies for a hard constraint)."""
        return self.value is not None


class Jurisdiction(Row):
    """The law a provider's contract falls under: a default, and overrides by customer location.

    Codes are ISO 3166 (`US`, `IE`, `CN`, or a subdivision such as `US-CA`); `by_customer`
    keys are customer locations (`EEA`, `CH`, `GB`, or a country code).
    """

    default: str
    by_customer: dict[str, str] = Field(default_factory=dict)

    def possible(self, customer: str | None = None) -> frozenset[str]:
        """Jurisdictions that may apply: exactly one when the customer's location is known."""
        if customer is not None:
            return frozenset({self.by_customer.get(customer, self.default)})
        return frozenset({self.default, *self.by_customer.values()})


class Lifecycle(Sourced):
    """Where a model (or one offering of it) is in its life, as its maker or provider says."""

    status: LifecycleStatus = "active"
    retires_on: date | None = None
    """For `deprecated` (and `legacy` with an announced date): the day it stops answering."""
    retired_on: date | None = None
    replacement: str | None = None
    """The maker's named successor (a catalog model id), when there is one."""

    def effective(self, today: date) -> LifecycleStatus:
        """The status on `today`: a deprecation whose date has passed is a retirement."""
        if self.status != "retired" and self.retires_on is not None and today >= self.retires_on:
            return "retired"
        return self.status


class Model(Row):
    """What a model can do, independent of who sells it."""

    id: str
    name: str
    maker: str
    aliases: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    context_window: int | None = None
    max_output: int | None = None
    modalities: tuple[str, ...] = ("text",)
    """Input modalities: text, image, pdf, audio, video."""
    tools: bool | None = None
    reasoning: bool | None = None
    json_schema: bool | None = None
    """Capabilities: None is unknown, which never qualifies for a capability requirement."""
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    source: str | None = None
    as_of: date | None = None
    origin: Origin = "catalog"

    @property
    def capabilities(self) -> frozenset[str]:
        """The policy vocabulary's capability names this model has."""
        caps = {name for name in ("tools", "reasoning", "json_schema") if getattr(self, name) is True}
        if "image" in self.modalities:
            caps.add("vision")
        return frozenset(caps)


class PriceOverride(Row):
    """A catalog price where genai-prices is wrong or silent, always with its source.

    Either explicit USD-per-million figures, or a `factor` applied to genai-prices' price
    (regional premiums: tiers and cache prices scale with it).
    """

    input: Decimal | None = None
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    factor: Decimal | None = None
    same_as: str | None = None
    """Another genai-prices entry whose price applies, as `PROVIDER:MODEL_REF` (aggregator pass-through)."""
    source: str
    as_of: date
    confidence: Confidence | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> PriceOverride:
        kinds = [self.factor is not None, self.same_as is not None, self.input is not None]
        if sum(kinds) != 1 or (self.input is None) != (self.output is None):
            raise ValueError(
                "a price override gives exactly one of `factor`, `same_as` or `input` and `output`"
            )
        return self


class Offering(Sourced):
    """One model sold by one provider in one region or deployment, on that provider's terms."""

    model: str
    provider: str = ""
    """Filled from the provider file the offering is listed in."""
    provider_model: str
    """The provider's own id for the model (deployment name for Azure)."""
    region: str = "global"
    variant: str | None = None
    """Tells apart two offerings of one model at one provider and region (an operator's own
    inference profile beside the catalog's); it becomes part of the offering id."""
    context_window: int | None = None
    max_output: int | None = None
    protocol: str | None = None
    """The wire protocol of this offering, when not the provider's (Claude on Vertex speaks
    Anthropic Messages through rawPredict while Vertex's Gemini models speak generateContent)."""
    price_ref: str | None = None
    """The genai-prices model reference, when it differs from `provider_model`."""
    price: PriceOverride | None = None
    terms: dict[str, Fact] = Field(default_factory=dict)
    """Terms that differ from the provider's defaults (residency comes from the region)."""
    lifecycle: Lifecycle | None = None
    """Overrides the model's lifecycle at this provider (a provider may retire earlier or later)."""
    capabilities: tuple[str, ...] | None = None
    """Restricts the model's capabilities here, when this provider supports fewer."""
    base_url: str | None = None
    """An offering-specific endpoint (a regional host), when not the provider's."""
    origin: Origin = "catalog"

    @property
    def id(self) -> str:
        """`MODEL@PROVIDER[:REGION][#VARIANT]`: the form a caller pins with, plus any variant."""
        suffix = "" if self.region == "global" else f":{self.region}"
        variant = f"#{self.variant}" if self.variant else ""
        return f"{self.model}@{self.provider}{suffix}{variant}"

    _known_terms = field_validator("terms")(check_term_names)


class Region(Sourced):
    """Where a provider region processes data: a geography code, or None for 'anywhere' (global)."""

    geo: str | None = None
    invoke_from: tuple[str, ...] | None = None
    """Prefixes of the configured regions this one is reachable from (Bedrock's geographic
    profiles are invoked from a source region in their geography); None: only itself."""

    def reachable_from(self, name: str, configured: Iterable[str]) -> bool:
        """Whether this region can be used when the operator enabled only `configured` regions."""
        prefixes = self.invoke_from
        return any(c == name or (prefixes is not None and c.startswith(prefixes)) for c in configured)


class Provider(Row):
    """Who sells models, on which terms, over which wire protocol."""

    id: str
    name: str
    kind: ProviderKind
    protocol: str
    """The wire protocol its endpoint speaks (a `modelrouter.protocols` module name)."""
    base_url: str | None = None
    credentials: tuple[tuple[tuple[str, str], ...], ...] = ()
    """Ways to authenticate: any one alternative, each a list of `(config key, ENV_VAR)` pairs that
    must all be set (in the provider's config section or the environment). Empty: none needed."""
    company: Fact = Field(default_factory=Fact)
    terms: dict[str, Fact] = Field(default_factory=dict)
    regions: dict[str, Region] = Field(default_factory=lambda: {"global": Region()})
    openrouter_slugs: tuple[str, ...] = ()
    """The names OpenRouter's `provider` object uses for this provider."""
    prices_provider: str | None = None
    """The genai-prices provider id whose prices apply (None: none apply)."""
    codec_options: dict[str, Any] = Field(default_factory=dict)
    """Keyword options for this provider's codec `encode_request` (DeepSeek documents only
    `max_tokens`; OpenRouter wants reasoning signatures back as `reasoning_details`)."""
    source: str | None = None
    as_of: date | None = None
    origin: Origin = "catalog"
    offerings: tuple[Offering, ...] = ()

    _known_terms = field_validator("terms")(check_term_names)

    @model_validator(mode="after")
    def _offerings_belong_here(self) -> Provider:
        for offering in self.offerings:
            if offering.provider not in ("", self.id):
                raise ValueError(f"offering {offering.model} names provider {offering.provider!r}")
            if offering.region not in self.regions:
                raise ValueError(
                    f"offering {offering.model} is in region {offering.region!r}, "
                    f"which provider {self.id} does not list under regions"
                )
        return self

    def term(self, name: str) -> Fact:
        """The provider's default fact for a term (unknown when the catalog has none)."""
        return self.terms.get(name) or Fact(note="not in the catalog")
