"""Applies the operator's config to the bundled catalog: their facts, offerings and providers.

What an operator states wins over the bundled catalog and is marked `origin: operator` in
every listing: a Bedrock account with data_retention_mode=none (retention 0), an Azure
deployment name, a local OpenAI-compatible server (Ollama, vLLM, llama.cpp) with its models.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from modelrouter.catalog.catalog import Catalog
from modelrouter.catalog.loader import bundled_models, bundled_providers, validation_message
from modelrouter.catalog.records import Fact, Model, Offering, Provider, Region
from modelrouter.config import Config, ProviderConfig
from modelrouter.errors import ConfigError

__all__ = ["build_catalog"]

CUSTOM_REGION = "local"
_RowT = TypeVar("_RowT", Model, Provider, Offering, Fact)


def build_catalog(config: Config, now: datetime) -> Catalog:
    """The bundled catalog with the operator's config applied."""
    source = f"operator config {config.source or ''}".strip()
    models = {m.id: m for m in bundled_models()}
    for raw in config.models:
        model = _row(Model, {"maker": "operator", **raw, "origin": "operator", "as_of": now.date()}, "models")
        models[model.id] = model
    providers = {p.id: p for p in bundled_providers()}
    for provider_id, section in config.providers.items():
        if not section.enabled:
            providers.pop(provider_id, None)
            continue
        base = providers.get(provider_id)
        if base is None:
            base = _custom_provider(provider_id, section, models, now.date())
        providers[provider_id] = _apply(base, section, source, now.date())
    try:
        return Catalog(models.values(), providers.values(), now=now, aliases=config.aliases)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _apply(provider: Provider, section: ProviderConfig, source: str, today: date) -> Provider:
    terms = dict(provider.terms)
    for name, value in section.terms.items():
        terms[name] = _fact(value, source, today, f"providers.{provider.id}.terms.{name}")
    offerings = [_deployment(o, section) for o in provider.offerings]
    for raw in section.offerings:
        where = f"providers.{provider.id}.offerings"
        offerings.append(_row(Offering, {**raw, "provider": provider.id, "origin": "operator"}, where))
    data = {**provider.model_dump(), "terms": terms, "offerings": offerings}
    return _row(Provider, data, f"providers.{provider.id}")


def _deployment(offering: Offering, section: ProviderConfig) -> Offering:
    """Azure-style `deployments: {MODEL: NAME}` renames the provider model id of that model."""
    deployments = section.settings.get("deployments") or {}
    name = deployments.get(offering.model)
    if not isinstance(name, str):
        return offering
    price_ref = offering.price_ref or offering.provider_model
    return offering.model_copy(update={"provider_model": name, "price_ref": price_ref, "origin": "operator"})


def _custom_provider(
    provider_id: str, section: ProviderConfig, models: dict[str, Model], today: date
) -> Provider:
    if section.kind not in ("openai-compatible", "custom") and section.protocol is None:
        raise ConfigError(
            f"providers.{provider_id} is not a known provider; to add your own server give it "
            "`kind: openai-compatible`, a `base_url` and its `models`"
        )
    if not section.setting("base_url"):
        raise ConfigError(f"providers.{provider_id} needs a base_url (e.g. http://127.0.0.1:11434/v1)")
    offerings = []
    for item in section.models:
        spec = {"id": item} if isinstance(item, str) else dict(item)
        model_id = _model_for(spec, models, provider_id, today)
        offerings.append(
            {
                "model": model_id,
                "provider_model": spec.get("provider_model", spec["id"]),
                "region": CUSTOM_REGION,
                "context_window": spec.get("context_window"),
                "origin": "operator",
                "source": "operator config",
                "as_of": today,
            }
        )
    region = Region(geo=section.geo, source="operator config", as_of=today, note="the operator's own server")
    return _row(
        Provider,
        {
            "id": provider_id,
            "name": section.name or provider_id,
            "kind": "custom",
            "protocol": section.protocol or "openai_chat",
            "base_url": section.setting("base_url"),
            "regions": {CUSTOM_REGION: region},
            "origin": "operator",
            "source": "operator config",
            "as_of": today,
            "offerings": [{**o, "provider": provider_id} for o in offerings],
        },
        f"providers.{provider_id}",
    )


def _model_for(spec: dict[str, Any], models: dict[str, Model], provider_id: str, today: date) -> str:
    """The catalog model a custom provider's entry serves; unknown names become operator models."""
    name = str(spec["id"])
    lowered = name.lower()
    for model in models.values():
        if lowered == model.id.lower() or lowered in (a.lower() for a in model.aliases):
            return model.id
    fields = {k: v for k, v in spec.items() if k in Model.model_fields and k != "provider_model"}
    models[name] = _row(
        Model,
        {"name": name, "maker": provider_id, **fields, "id": name, "origin": "operator", "as_of": today},
        f"providers.{provider_id}.models",
    )
    return name


def _fact(value: Any, source: str, today: date, where: str) -> Fact:
    data = dict(value) if isinstance(value, dict) and "value" in value else {"value": value}
    data.setdefault("source", source)
    data.setdefault("as_of", today)
    return _row(Fact, {**data, "origin": "operator"}, where)


def _row(kind: type[_RowT], data: dict[str, Any], where: str) -> _RowT:
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {validation_message(exc)}") from exc
