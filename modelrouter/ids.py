"""Request ids: UUIDv7 (RFC 9562), time-ordered so ledger rows sort by arrival.

Python 3.11's uuid module has no uuid7, so it is built here from the millisecond clock and
random bits, with a counter that keeps ids from one process strictly increasing within a
millisecond. The random bits come from `random` (reseeded from the OS in every forked worker),
not `os.urandom`: an id needs to be unique, not secret, and a system call per id costs more
than the rest of it.
"""

from __future__ import annotations

import random
import threading
import time

__all__ = ["uuid7"]

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A new UUIDv7 as its canonical string."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _counter = (_counter + 1) & 0xFFF
            if _counter == 0:
                now_ms += 1
        else:
            _counter = random.getrandbits(11)
        _last_ms = now_ms
        counter = _counter
    value = (now_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
