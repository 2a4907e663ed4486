"""How long a provider asks us to wait, from every form of the answer's headers.

Providers say it as `retry-after-ms` (OpenAI, Anthropic), `x-ms-retry-after-ms` (Azure),
`retry-after` in seconds, or `retry-after` as an HTTP date (RFC 9110 section 10.2.3). A value
that is not a number or a date, negative, not finite, or longer than a day is ignored (the
caller falls back to its own backoff), so no header can stall the gateway or bench an
offering without bound. A date already past means "now".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

__all__ = ["MAX_RETRY_AFTER_S", "retry_after_seconds"]

MAX_RETRY_AFTER_S = 86_400.0
_MILLISECOND_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")


def retry_after_seconds(headers: Mapping[str, str], clock: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait before asking this provider again, or None when the headers do not say."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in _MILLISECOND_HEADERS:
        seconds = _number(lowered.get(name), 0.001)
        if seconds is not None:
            return seconds
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value, 1.0)
    if seconds is not None:
        return seconds
    return _date(value, clock)


def _number(value: str | None, scale: float) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip()) * scale
    except ValueError:
        return None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_RETRY_AFTER_S:
        return None
    return seconds


def _date(value: str, clock: Callable[[], float]) -> float | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
        return None
    seconds = max(0.0, when.timestamp() - clock())
    return seconds if seconds <= MAX_RETRY_AFTER_S else None
