"""Reads the bundled catalog data (YAML shipped inside the package) into typed rows.

One file per provider under `data/providers/` and one per model family under `data/models/`:
adding an OpenAI-compatible provider is one new YAML file and no code.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from modelrouter.catalog.records import Model, Provider
from modelrouter.errors import ConfigError

__all__ = ["bundled_models", "bundled_providers", "validation_message"]

_RowT = TypeVar("_RowT", Model, Provider)
_DATA = resources.files("modelrouter.catalog") / "data"


def bundled_models() -> list[Model]:
    """Every model row in the bundled catalog."""
    rows: list[Model] = []
    for path in _yaml_files(_DATA / "models"):
        document = _read(path)
        if not isinstance(document, list):
            raise ConfigError(f"catalog file models/{path.name} must hold a list of models")
        rows.extend(_parse(Model, item, f"models/{path.name}") for item in document)
    return rows


def bundled_providers() -> list[Provider]:
    """Every provider row (with its offerings) in the bundled catalog."""
    providers = []
    for path in _yaml_files(_DATA / "providers"):
        provider = _parse(Provider, _read(path), f"providers/{path.name}")
        if path.name != f"{provider.id}.yaml":
            raise ConfigError(f"catalog file providers/{path.name} defines provider {provider.id!r}")
        providers.append(_with_provider_ids(provider))
    return providers


def _with_provider_ids(provider: Provider) -> Provider:
    offerings = tuple(o.model_copy(update={"provider": provider.id}) for o in provider.offerings)
    return provider.model_copy(update={"offerings": offerings})


def _yaml_files(folder: Traversable) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def _read(path: Traversable) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _parse(kind: type[_RowT], data: Any, where: str) -> _RowT:
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"catalog file {where}: {validation_message(exc)}") from exc


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one readable line per problem, each with its key path."""
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        lines.append(f"{path}: {error['msg']}" if path else error["msg"])
    return "; ".join(lines)
