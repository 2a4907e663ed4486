"""The catalog of models, providers, offerings, terms and prices (see `Catalog`)."""

from modelrouter.catalog.catalog import Catalog, Entry, Target
from modelrouter.catalog.loader import bundled_models, bundled_providers
from modelrouter.catalog.prices import Price, micro_usd

__all__ = ["Catalog", "Entry", "Price", "Target", "bundled_models", "bundled_providers", "micro_usd"]
