"""Policies: what terms a caller accepts (hard constraints) and how to order what passes.

A `Policy` is frozen and hashable, so compiled checks and decisions can be cached per
policy. Policies compose by intersection (`tighten`): a key's policy and a request's policy
together can only narrow what qualifies, never widen it, and keep exactly what both accept.
Names are not all disjoint, so an intersection is not always one of sets: `EU` contains
`europe-west1`, US law contains US-CA law, and `bedrock` is OpenRouter's `amazon-bedrock`.
Jurisdiction codes nest by their own spelling and meet exactly; residency and provider lists
whose meaning needs the catalog are kept side by side (`residency_also`, `only_also`), each
one checked. OpenRouter's `provider` object maps onto the same vocabulary (`from_openrouter`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeAlias

from typing_extensions import override

from modelrouter.errors import BadRequest

__all__ = ["CAPABILITIES", "LIFECYCLE_STATUSES", "SORTS", "Policy", "PolicyError", "described"]

Sort: TypeAlias = Literal["price", "latency", "throughput"]
SORTS: tuple[Sort, ...] = ("price", "latency", "throughput")
CAPABILITIES = frozenset({"tools", "vision", "json_schema", "reasoning"})
LIFECYCLE_STATUSES = frozenset({"active", "legacy", "deprecated"})

POLICY_KEYS = frozenset(
    {
        "residency",
        "jurisdiction",
        "max_retention_days",
        "training",
        "private_endpoint",
        "compliance",
        "max_price",
        "capabilities",
        "allow_substitution",
        "lifecycle",
        "sort",
        "providers",
        "allow_fallbacks",
    }
)


class PolicyError(BadRequest):
    """A policy that cannot be understood; the message names the key and what is allowed."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The terms a caller accepts. Every field's default accepts everything."""

    residency: frozenset[str] | None = None
    """Geographies (EU, US, …) or exact region names; None: anywhere."""
    residency_also: tuple[frozenset[str], ...] = ()
    """More residency lists an offering must meet as well (from policies tightened together)."""
    jurisdiction_allow: frozenset[str] | None = None
    jurisdiction_deny: frozenset[str] = frozenset()
    max_retention_days: int | None = None
    no_training: bool = False
    private_endpoint: bool = False
    compliance: frozenset[str] = frozenset()
    max_price_input: Decimal | None = None
    max_price_output: Decimal | None = None
    capabilities: frozenset[str] = frozenset()
    lifecycle: frozenset[str] | None = None
    """Lifecycle statuses allowed (retired is never served); None: any that still answers."""
    allow_substitution: bool = True
    only: frozenset[str] | None = None
    only_also: tuple[frozenset[str], ...] = ()
    """More `providers.only` lists an offering must meet as well (ids and OpenRouter slugs mix)."""
    ignore: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()
    allow_fallbacks: bool = True
    sort: Sort | None = None
    name: str | None = field(default=None, compare=False)
    """The policy's name, for display only (two equal policies with different names are equal)."""
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    @override
    def __hash__(self) -> int:
        """The fields' hash, worked out once: every request hashes its policy as a cache key."""
        cached = self._hash
        if cached is None:
            cached = hash(tuple(getattr(self, name) for name in _COMPARED))
            object.__setattr__(self, "_hash", cached)
        return cached

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None, name: str | None = None) -> Policy:
        """A policy from its SPEC section 4 mapping (config, route body, `--require`)."""
        if not data:
            return cls(name=name)
        if not isinstance(data, Mapping):
            raise PolicyError(f"a policy must be a mapping of SPEC section 4 keys, not {type(data).__name__}")
        unknown = set(data) - POLICY_KEYS
        if unknown:
            keys = ", ".join(sorted(POLICY_KEYS))
            raise PolicyError(f"unknown policy key(s) {', '.join(sorted(unknown))}; keys are {keys}")
        values: dict[str, Any] = {"name": name}
        for key, raw in data.items():
            if raw is not None:
                values.update(_PARSERS[key](raw))
        return cls(**values)

    @classmethod
    def from_openrouter(cls, provider: Mapping[str, Any]) -> Policy:
        """OpenRouter's `provider` routing object, read as a policy."""
        if not isinstance(provider, Mapping):
            raise PolicyError("`provider` must be an object (OpenRouter provider routing)")
        unknown = set(provider) - _OPENROUTER_KEYS
        if unknown:
            raise PolicyError(
                f"provider.{sorted(unknown)[0]} is not supported by modelrouter; supported: "
                + ", ".join(sorted(_OPENROUTER_KEYS))
            )
        data: dict[str, Any] = {}
        providers = {k: provider[k] for k in ("only", "ignore", "order") if provider.get(k) is not None}
        if providers:
            data["providers"] = providers
        if provider.get("allow_fallbacks") is not None:
            data["allow_fallbacks"] = provider["allow_fallbacks"]
        if provider.get("data_collection") is not None:
            data.update(_data_collection(provider["data_collection"]))
        if provider.get("zdr"):
            data["max_retention_days"] = 0
        if provider.get("sort") is not None:
            sort = provider["sort"]
            data["sort"] = sort.get("by") if isinstance(sort, Mapping) else sort
        if provider.get("max_price") is not None:
            data["max_price"] = _openrouter_price(provider["max_price"])
        return cls.parse(data, name="provider")

    def tighten(self, other: Policy) -> Policy:
        """The intersection: what both policies accept. Preferences come from `other` when it has them."""
        residency, residency_also = _conjoin(
            self.residency, self.residency_also, other.residency, other.residency_also
        )
        only, only_also = _conjoin(self.only, self.only_also, other.only, other.only_also)
        return Policy(
            residency=residency,
            residency_also=residency_also,
            jurisdiction_allow=_meet_codes(self.jurisdiction_allow, other.jurisdiction_allow),
            jurisdiction_deny=self.jurisdiction_deny | other.jurisdiction_deny,
            max_retention_days=_least(self.max_retention_days, other.max_retention_days),
            no_training=self.no_training or other.no_training,
            private_endpoint=self.private_endpoint or other.private_endpoint,
            compliance=self.compliance | other.compliance,
            max_price_input=_least(self.max_price_input, other.max_price_input),
            max_price_output=_least(self.max_price_output, other.max_price_output),
            capabilities=self.capabilities | other.capabilities,
            lifecycle=_meet(self.lifecycle, other.lifecycle),
            allow_substitution=self.allow_substitution and other.allow_substitution,
            only=only,
            only_also=only_also,
            ignore=self.ignore | other.ignore,
            order=other.order or self.order,
            allow_fallbacks=self.allow_fallbacks and other.allow_fallbacks,
            sort=other.sort or self.sort,
            name=" + ".join(n for n in (self.name, other.name) if n) or None,
        )

    def describe(self) -> dict[str, Any]:
        """The policy in SPEC section 4 vocabulary, without the keys left at their defaults."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.residency is not None:
            out["residency"] = sorted(self.residency)
        if self.residency_also:
            out["residency_also"] = [sorted(names) for names in self.residency_also]
        jurisdiction = {}
        if self.jurisdiction_allow is not None:
            jurisdiction["allow"] = sorted(self.jurisdiction_allow)
        if self.jurisdiction_deny:
            jurisdiction["deny"] = sorted(self.jurisdiction_deny)
        if jurisdiction:
            out["jurisdiction"] = jurisdiction
        out.update(self._describe_scalars())
        providers: dict[str, Any] = {"only": sorted(self.only) if self.only is not None else None}
        providers.update(only_also=[sorted(names) for names in self.only_also] or None)
        providers.update(ignore=sorted(self.ignore) or None, order=list(self.order) or None)
        providers = {k: v for k, v in providers.items() if v is not None}
        if providers:
            out["providers"] = providers
        return out

    def _describe_scalars(self) -> dict[str, Any]:
        prices = {"input": self.max_price_input, "output": self.max_price_output}
        candidates: dict[str, Any] = {
            "max_retention_days": self.max_retention_days,
            "training": False if self.no_training else None,
            "private_endpoint": True if self.private_endpoint else None,
            "compliance": sorted(self.compliance) or None,
            "max_price": {k: float(v) for k, v in prices.items() if v is not None} or None,
            "capabilities": sorted(self.capabilities) or None,
            "lifecycle": sorted(self.lifecycle) if self.lifecycle is not None else None,
            "allow_substitution": None if self.allow_substitution else False,
            "allow_fallbacks": None if self.allow_fallbacks else False,
            "sort": self.sort,
        }
        return {key: value for key, value in candidates.items() if value is not None}

    @property
    def is_empty(self) -> bool:
        """Whether the policy constrains nothing and prefers nothing."""
        return self == Policy()

    def with_name(self, name: str | None) -> Policy:
        """The same policy, displayed under another name."""
        return replace(self, name=name)


# --- parsing helpers --------------------------------------------------------------------


def _names(raw: Any, key: str, *, upper: bool = False) -> frozenset[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise PolicyError(f"{key} must be a name or a list of names")
    out = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise PolicyError(f"{key} must hold non-empty strings, got {item!r}")
        out.add(item.strip().upper() if upper else item.strip())
    return frozenset(out)


def _residency(raw: Any) -> dict[str, Any]:
    # Geography codes are upper case (EU, US); region names are lower case (eu-central-1).
    values = _names(raw, "residency")
    return {"residency": frozenset(v.upper() if v.upper() == v or len(v) <= 4 else v.lower() for v in values)}


def _jurisdiction(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str | list | tuple):
        return {"jurisdiction_allow": _names(raw, "jurisdiction", upper=True)}
    if not isinstance(raw, Mapping) or set(raw) - {"allow", "deny"}:
        raise PolicyError(
            "jurisdiction must be {allow: [codes], deny: [codes]} (ISO 3166 codes such as US, IE, CN)"
        )
    out: dict[str, Any] = {}
    if raw.get("allow") is not None:
        out["jurisdiction_allow"] = _names(raw["allow"], "jurisdiction.allow", upper=True)
    if raw.get("deny") is not None:
        out["jurisdiction_deny"] = _names(raw["deny"], "jurisdiction.deny", upper=True)
    return out


def _int(raw: Any, key: str) -> int:
    if isinstance(raw, bool):
        raise PolicyError(f"{key} must be a whole number, got {raw!r}")
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{key} must be a whole number, got {raw!r}") from exc
    if value < 0 or str(value) != str(raw).strip():
        raise PolicyError(f"{key} must be a whole number of 0 or more, got {raw!r}")
    return value


def _bool(raw: Any, key: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false", "yes", "no"):
        return raw.lower() in ("true", "yes")
    raise PolicyError(f"{key} must be true or false, got {raw!r}")


def _usd(raw: Any, key: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise PolicyError(f"{key} must be a price in USD per million tokens, got {raw!r}") from exc
    if not value.is_finite() or value < 0 or isinstance(raw, bool):
        raise PolicyError(f"{key} must be a price of 0 or more in USD per million tokens, got {raw!r}")
    return value


def _max_price(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or not raw or set(raw) - {"input", "output"}:
        raise PolicyError("max_price must be {input: USD, output: USD} per million tokens")
    out: dict[str, Any] = {}
    if raw.get("input") is not None:
        out["max_price_input"] = _usd(raw["input"], "max_price.input")
    if raw.get("output") is not None:
        out["max_price_output"] = _usd(raw["output"], "max_price.output")
    return out


def _choice(raw: Any, key: str, allowed: Iterable[str]) -> frozenset[str]:
    values = frozenset(v.lower() for v in _names(raw, key))
    bad = values - set(allowed)
    if bad:
        raise PolicyError(f"{key}: unknown {', '.join(sorted(bad))}; allowed: {', '.join(sorted(allowed))}")
    return values


def _training(raw: Any) -> dict[str, Any]:
    if _bool(raw, "training"):
        raise PolicyError("training: only `false` is meaningful (the provider must not train on API data)")
    return {"no_training": True}


def _sort(raw: Any) -> dict[str, Any]:
    if raw not in SORTS:
        raise PolicyError(f"sort must be one of {', '.join(SORTS)}, got {raw!r}")
    return {"sort": raw}


def _providers(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or set(raw) - {"only", "ignore", "order"}:
        raise PolicyError("providers must be {only: [ids], ignore: [ids], order: [ids]}")
    out: dict[str, Any] = {}
    if raw.get("only") is not None:
        out["only"] = frozenset(n.lower() for n in _names(raw["only"], "providers.only"))
    if raw.get("ignore") is not None:
        out["ignore"] = frozenset(n.lower() for n in _names(raw["ignore"], "providers.ignore"))
    if raw.get("order") is not None:
        order = [raw["order"]] if isinstance(raw["order"], str) else raw["order"]
        _names(order, "providers.order")
        out["order"] = tuple(dict.fromkeys(n.strip().lower() for n in order))
    return out


_PARSERS: dict[str, Any] = {
    "residency": _residency,
    "jurisdiction": _jurisdiction,
    "max_retention_days": lambda raw: {"max_retention_days": _int(raw, "max_retention_days")},
    "training": _training,
    "private_endpoint": lambda raw: {"private_endpoint": _bool(raw, "private_endpoint")},
    "compliance": lambda raw: {"compliance": _names(raw, "compliance", upper=True)},
    "max_price": _max_price,
    "capabilities": lambda raw: {"capabilities": _choice(raw, "capabilities", CAPABILITIES)},
    "allow_substitution": lambda raw: {"allow_substitution": _bool(raw, "allow_substitution")},
    "lifecycle": lambda raw: {"lifecycle": _choice(raw, "lifecycle", LIFECYCLE_STATUSES)},
    "sort": _sort,
    "providers": _providers,
    "allow_fallbacks": lambda raw: {"allow_fallbacks": _bool(raw, "allow_fallbacks")},
}

_OPENROUTER_KEYS = frozenset(
    {
        "order",
        "only",
        "ignore",
        "allow_fallbacks",
        "data_collection",
        "zdr",
        "sort",
        "max_price",
        "require_parameters",
    }
)


def _data_collection(raw: Any) -> dict[str, Any]:
    if raw == "deny":
        return {"training": False}
    if raw == "allow":
        return {}
    raise PolicyError(f"provider.data_collection must be 'allow' or 'deny', got {raw!r}")


def _openrouter_price(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or set(raw) - {"prompt", "completion"}:
        raise PolicyError("provider.max_price must be {prompt: USD, completion: USD} per million tokens")
    renamed = {"prompt": "input", "completion": "output"}
    return {renamed[k]: v for k, v in raw.items() if v is not None}


def _conjoin(
    a: frozenset[str] | None,
    a_also: tuple[frozenset[str], ...],
    b: frozenset[str] | None,
    b_also: tuple[frozenset[str], ...],
) -> tuple[frozenset[str] | None, tuple[frozenset[str], ...]]:
    """Name lists that must all be met (one name matching each), with the redundant ones dropped.

    A list that contains another is implied by it (meeting the smaller meets the larger).
    """
    lists = {x for x in (a, *a_also, b, *b_also) if x is not None}
    if not lists:
        return None, ()
    needed = sorted((x for x in lists if not any(y < x for y in lists)), key=lambda x: (len(x), sorted(x)))
    return needed[0], tuple(needed[1:])


def _meet_codes(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Jurisdiction codes both allow: US and US-CA meet in US-CA (a code covers its subdivisions)."""
    if a is None or b is None:
        return a if b is None else b

    def within(code: str, codes: frozenset[str]) -> bool:
        return any(code == c or code.startswith(c + "-") for c in codes)

    return frozenset({c for c in a if within(c, b)} | {c for c in b if within(c, a)})


def _meet(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _least(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else min(a, b)


_COMPARED = tuple(f.name for f in fields(Policy) if f.compare)
"""The fields equality looks at (not `name`), so equal policies hash alike."""


def described(policy: Policy) -> Mapping[str, Any]:
    """`policy.describe()`, worked out once per policy: every request's ledger row carries it.

    Shared between callers, so read-only.
    """
    return _described(policy, policy.name)


@functools.lru_cache(maxsize=1024)
def _described(policy: Policy, name: str | None) -> Mapping[str, Any]:
    # `name` is part of the key: it takes no part in a policy's equality
    return policy.describe()
