"""Secrets kept out of everything the gateway writes: answers, ledger rows and logs.

A provider may echo the credential it was sent in its error message ("Incorrect API key
provided: sk-…"), and such a message travels on: to the caller in their dialect, into the
ledger's error column, into the log. The gateway registers every secret of its config here
at start (provider credentials, the master key, the key-hashing secret), and the places
where an outside message leaves the process pass it through `redact`, which replaces each
secret, and any run of 8 or more of its characters, with `[redacted]`. Log records are
scrubbed by a record factory, so no handler or formatter can print one unscrubbed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["MIN_RUN", "install_log_scrubbing", "redact", "register_secrets"]

MIN_RUN = 8
"""The shortest run of a secret's characters that is redacted wherever it appears."""
MIN_SECRET = 12
"""Shorter values are not treated as secrets (they would redact ordinary words)."""
MARK = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secrets(values: Iterable[Any]) -> None:
    """Add credentials to redact (values that are not strings, or are short, are ignored)."""
    global _pattern
    with _lock:
        fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET} - _secrets
        if not fresh:
            return
        _secrets.update(fresh)
        runs = {s[i : i + MIN_RUN] for s in _secrets for i in range(len(s) - MIN_RUN + 1)}
        # longest first, so a whole secret is replaced in one piece rather than run by run
        alternatives = sorted(_secrets | runs, key=len, reverse=True)
        _pattern = re.compile("(?:" + "|".join(map(re.escape, alternatives)) + ")+")


def redact(text: str) -> str:
    """`text` with every registered secret, and every 8-character run of one, replaced."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MARK, text)


_installed = False


def install_log_scrubbing() -> None:
    """Make every log record of this process carry a redacted message and traceback."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _pattern is None:
            return record
        try:
            record.msg = redact(record.getMessage())
            record.args = None
            if record.exc_info:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        except Exception:  # a malformed log call must still be logged, never crash the caller
            return record
        return record

    logging.setLogRecordFactory(factory)
