"""The operator's configuration (modelrouter.yaml, SPEC section 3) as validated settings.

Every key is optional, so no file at all means embedded defaults. Values written `env:NAME`
are read from the environment when used, never stored resolved, and `Setting` never shows
a resolved secret in its repr. Unknown keys are errors that name the key and the file, so a
typo cannot silently disable a policy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelrouter.catalog.loader import validation_message
from modelrouter.errors import ConfigError

__all__ = [
    "Config",
    "ProviderConfig",
    "config_path",
    "load_config",
    "resolve",
]

ENV_PREFIX = "env:"

# Settings a provider section may carry, beyond the catalog keys below. Provider modules read
# the ones that apply to them; the rest are ignored for that provider.
PROVIDER_SETTINGS = frozenset(
    {
        "api_key",
        "base_url",
        "regions",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "profile",
        "project",
        "credentials",
        "access_token",
        "endpoint",
        "api_version",
        "deployments",
        "ad_token",
        "organization",
        "headers",
        "allow_private_base_url",
        "ca_bundle",
    }
)


def resolve(value: Any) -> Any:
    """A setting's value: `env:NAME` read from the environment (None when unset or empty)."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        return os.environ.get(value[len(ENV_PREFIX) :]) or None
    return value


def master_key(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """The admin key: `server.master_key` (may be `env:NAME`), else $MODELROUTER_MASTER_KEY."""
    env = os.environ if env is None else env
    value = config.server.master_key
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        return env.get(value[len(ENV_PREFIX) :]) or None
    return value or env.get("MODELROUTER_MASTER_KEY") or None


class Section(BaseModel):
    """Base of config sections: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


LogLevel: TypeAlias = Literal["critical", "error", "warning", "info", "debug"]
LOG_LEVELS: tuple[LogLevel, ...] = ("critical", "error", "warning", "info", "debug")


class ServerConfig(Section):
    """Where the gateway listens, how it authenticates its admin, how much it logs."""

    host: str = "127.0.0.1"
    port: int = 4000
    workers: int = Field(default=1, ge=1)
    master_key: str | None = None
    key_secret: str | None = None
    """HMAC secret for stored virtual-key hashes (default: one generated into the store)."""
    shutdown_grace_s: float = Field(default=30, ge=0)
    """On SIGTERM/SIGINT: how long in-flight requests may finish before streams are ended."""
    log_level: LogLevel = "info"
    """What the gateway and its libraries log to stderr (`serve --log-level` overrides it).
    Secrets are scrubbed from every record at any level, `debug` included."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class Timeouts(Section):
    """Upstream deadlines in seconds; `total` covers every retry of one request."""

    connect: float = 5
    first_byte: float = 60
    idle: float = 60
    total: float = 600


class Limits(Section):
    """Bounds on what a request may be."""

    max_body_mb: float = 20
    max_json_depth: int = 64
    max_concurrent: int = Field(default=4096, ge=1)
    """Requests one worker holds at once; beyond it a request is refused at once with 503 and
    Retry-After (shed, so the ones in flight keep their pace), never queued."""


class ProviderConfig(BaseModel):
    """One `providers.<id>` section: credentials and endpoints, plus catalog additions.

    Catalog keys: `kind` (`openai-compatible` declares a new provider), `name`, `protocol`,
    `models` (what a new provider serves), `terms` (operator facts overriding the catalog's),
    `offerings` (extra offerings), `geo` (where a custom provider processes), `enabled`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str | None = None
    name: str | None = None
    protocol: str | None = None
    models: list[str | dict[str, Any]] = Field(default_factory=list)
    terms: dict[str, Any] = Field(default_factory=dict)
    offerings: list[dict[str, Any]] = Field(default_factory=list)
    geo: str | None = None
    enabled: bool = True

    @property
    def settings(self) -> dict[str, Any]:
        """The provider-specific settings (credentials, endpoints), unresolved."""
        return dict(self.model_extra or {})

    def setting(self, key: str) -> Any:
        """One setting, with `env:NAME` resolved."""
        return resolve((self.model_extra or {}).get(key))


class Config(Section):
    """The whole file. Defaults give a working gateway with no file at all."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    store: str = "sqlite:///./modelrouter.db"
    state: str = "memory"
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    default_policy: str | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    limits: Limits = Field(default_factory=Limits)
    aliases: dict[str, str] = Field(default_factory=dict)
    models: list[dict[str, Any]] = Field(default_factory=list)
    """Extension: models the catalog lacks, served by the operator's own providers."""
    customer_location: str | None = None
    """Extension: where the operator contracts from (`EEA`, `CH`, `GB` or a country code), which
    fixes the jurisdiction of providers whose governing law depends on it."""
    source: str | None = Field(default=None, exclude=True)
    """The file this came from (None for defaults)."""

    @field_validator("providers")
    @classmethod
    def _known_settings(cls, providers: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        for provider_id, section in providers.items():
            unknown = set(section.settings) - PROVIDER_SETTINGS
            if unknown:
                raise ValueError(
                    f"providers.{provider_id}: unknown key(s) {', '.join(sorted(unknown))}; "
                    f"settings are {', '.join(sorted(PROVIDER_SETTINGS))}"
                )
        return providers

    @field_validator("default_policy")
    @classmethod
    def _default_policy_exists(cls, name: str | None, info: Any) -> str | None:
        policies: Mapping[str, Any] = info.data.get("policies") or {}
        if name is not None and name not in policies:
            raise ValueError(f"default_policy {name!r} is not defined under policies")
        return name


def config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """Which file to read: `--config`, else $MODELROUTER_CONFIG, else ./modelrouter.yaml if present."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("MODELROUTER_CONFIG")
    if from_env:
        return Path(from_env)
    default = Path("modelrouter.yaml")
    return default if default.is_file() else None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config (SPEC section 3 lookup order), or the defaults."""
    path = config_path(explicit)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> Config:
    """Validate config text; errors name the file and the key path."""
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of settings, not {type(data).__name__}")
    try:
        return Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {validation_message(exc)}") from exc
