"""The one exception tree of modelrouter.

Every error carries the HTTP `status` it stands for, whether the same offering may be
`retryable`, whether another offering may be tried (`fallback`), and the `provider` it
came from. `modelrouter.gateway` turns them into OpenAI or Anthropic error bodies; nothing
else maps errors to HTTP. Messages say how to fix the problem and never carry a secret.

```
ModelRouterError
├── ConfigError                       the operator's config or catalog is wrong (no HTTP status)
├── RequestError                      the caller's request cannot be served as asked
│   ├── BadRequest                    400 malformed, or not expressible at the chosen target
│   ├── AuthenticationRequired        401 no or bad gateway key
│   ├── Forbidden                     403 the key's scope or the policy forbids it
│   ├── ModelNotFound                 404 no such model, alias or offering
│   ├── ModelRetired                  410 retired, and the policy forbids substitution
│   ├── PayloadTooLarge               413 body over the configured limit
│   ├── NoOfferingMeetsPolicy         422 every offering was rejected (reasons attached)
│   └── RateLimited                   429 the gateway's own budget or rate limit
└── UpstreamError                     a provider failed; the router decides what next
    ├── UpstreamRateLimited           429 (retry_after honoured)
    ├── UpstreamOverloaded            503 / 529
    ├── UpstreamServerError           other 5xx
    ├── UpstreamTimeout               connect, first-byte, idle or total deadline
    ├── UpstreamConnectionError       refused, reset, DNS
    ├── UpstreamAuthError             401 / 403 for the gateway's own provider credentials
    │   └── UpstreamCredentialsError  the gateway cannot load them (a broken key file)
    ├── UpstreamBadRequest            400 / 404 / 422 the provider will never accept
    │   └── ContextLengthExceeded     prompt over the offering's context window
    ├── ContentFiltered               the provider's safety filter refused
    └── UpstreamProtocolError         the provider answered something unparseable
AllAttemptsFailed                     502 / 503 / 504 every candidate failed (attempts attached)
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "AllAttemptsFailed",
    "AuthenticationRequired",
    "BadRequest",
    "ConfigError",
    "ContentFiltered",
    "ContextLengthExceeded",
    "Forbidden",
    "ModelNotFound",
    "ModelRetired",
    "ModelRouterError",
    "NoOfferingMeetsPolicy",
    "PayloadTooLarge",
    "RateLimited",
    "RequestError",
    "UpstreamAuthError",
    "UpstreamBadRequest",
    "UpstreamConnectionError",
    "UpstreamCredentialsError",
    "UpstreamError",
    "UpstreamOverloaded",
    "UpstreamProtocolError",
    "UpstreamRateLimited",
    "UpstreamServerError",
    "UpstreamTimeout",
]


class ModelRouterError(Exception):
    """Base of every error modelrouter raises on purpose."""

    status: int = 500
    retryable: bool = False
    """The same offering may be tried again."""
    fallback: bool = False
    """Another offering may be tried."""
    kind: str = "api_error"
    """A short machine-readable name, used as the error `type`/`code` in responses."""

    def __init__(self, message: str, *, provider: str | None = None, offering: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.offering = offering


class InternalError(ModelRouterError):
    """The gateway itself failed (a bug); the caller gets a 500 in its dialect, the log the traceback."""

    status = 500
    kind = "internal_error"


class ConfigError(ModelRouterError):
    """The config file or catalog data is invalid; raised at start, never per request."""

    kind = "config_error"


class RequestError(ModelRouterError):
    """The caller's request cannot be served as asked; never retried."""

    status = 400
    kind = "invalid_request_error"


class BadRequest(RequestError):
    """Malformed input, or a feature the chosen target cannot express."""


class AuthenticationRequired(RequestError):
    """No gateway key, or one the gateway does not know."""

    status = 401
    kind = "authentication_error"


class Forbidden(RequestError):
    """The key's scope or the policy forbids what was asked."""

    status = 403
    kind = "permission_error"


class ModelNotFound(RequestError):
    """No model, alias or offering has this name."""

    status = 404
    kind = "not_found_error"


class ModelRetired(RequestError):
    """The model is retired and the policy forbids answering with its replacement."""

    status = 410
    kind = "model_retired"

    def __init__(self, message: str, *, model: str, replacement: str | None) -> None:
        super().__init__(message)
        self.model = model
        self.replacement = replacement


class PayloadTooLarge(RequestError):
    """The request body is over the configured limit."""

    status = 413
    kind = "request_too_large"


class NoOfferingMeetsPolicy(RequestError):
    """Every offering of the model was rejected; `rejected` maps offering id to reasons."""

    status = 422
    kind = "no_offering_meets_policy"

    def __init__(self, message: str, *, rejected: Mapping[str, Sequence[str]]) -> None:
        super().__init__(message)
        self.rejected = rejected


class RateLimited(RequestError):
    """The gateway's own rate limit or budget for this key is exhausted."""

    status = 429
    kind = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GatewayOverloaded(ModelRouterError):
    """This gateway process holds as many requests as `limits.max_concurrent` allows: shed, not queued."""

    status = 503
    kind = "overloaded"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ModelRouterError):
    """A provider failed. `upstream_status` is what the provider answered, if it answered."""

    status = 502
    fallback = True
    kind = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        offering: str | None = None,
        upstream_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, offering=offering)
        self.upstream_status = upstream_status
        self.retry_after = retry_after


class UpstreamRateLimited(UpstreamError):
    """The provider throttled us (429)."""

    status = 429
    retryable = True
    kind = "rate_limit_error"


class UpstreamOverloaded(UpstreamError):
    """The provider is overloaded (503, Anthropic's 529)."""

    status = 503
    retryable = True
    kind = "overloaded_error"


class UpstreamServerError(UpstreamError):
    """The provider failed internally (other 5xx)."""

    retryable = True


class UpstreamTimeout(UpstreamError):
    """A connect, first-byte, idle or total deadline passed."""

    status = 504
    retryable = True
    kind = "timeout_error"


class UpstreamConnectionError(UpstreamError):
    """The provider could not be reached."""

    retryable = True
    kind = "connection_error"


class UpstreamAuthError(UpstreamError):
    """The provider refused the gateway's credentials: fix the config, try another offering."""

    kind = "upstream_authentication_error"


class UpstreamCredentialsError(UpstreamAuthError):
    """The gateway could not load its own credentials for a provider (a broken key file).

    Nothing was sent; every offering of that provider would fail the same way, so the request
    moves on to other providers.
    """

    kind = "upstream_credentials_error"


class UpstreamBadRequest(UpstreamError):
    """The provider refused the request itself; retrying the same body cannot help."""

    status = 400
    fallback = False
    kind = "invalid_request_error"


class ContextLengthExceeded(UpstreamBadRequest):
    """The prompt is over the offering's context window; a larger offering may still fit."""

    fallback = True
    kind = "context_length_exceeded"


class ContentFiltered(UpstreamError):
    """The provider's safety filter refused the content."""

    status = 400
    fallback = False
    kind = "content_filter"


class UpstreamProtocolError(UpstreamError):
    """The provider answered something that does not parse as its own protocol."""

    retryable = True
    kind = "upstream_protocol_error"


@dataclass(frozen=True, slots=True)
class AttemptFailure:
    """One failed attempt, for the message of `AllAttemptsFailed`."""

    offering: str
    error: UpstreamError


class AllAttemptsFailed(ModelRouterError):
    """Every candidate failed; the status follows the last failure's nature."""

    kind = "all_attempts_failed"

    def __init__(self, failures: Sequence[AttemptFailure]) -> None:
        lines = "; ".join(f"{f.offering}: {f.error.message}" for f in failures)
        super().__init__(f"every attempt failed ({len(failures)}): {lines}")
        self.failures = list(failures)
        last = failures[-1].error if failures else None
        if isinstance(last, UpstreamTimeout):
            self.status = 504
        elif isinstance(last, UpstreamRateLimited):
            self.status = 429  # with the provider's Retry-After, so the client knows when
        elif isinstance(last, UpstreamOverloaded):
            self.status = 503
        else:
            self.status = 502
