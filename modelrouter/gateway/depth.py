"""The nesting cap of `limits.max_json_depth`, checked on the raw body before anything parses it.

Strings are removed first (their brackets do not count), then only bracket bytes are walked,
stopping at the first level past the cap; all but that last loop run in C.
"""

from __future__ import annotations

import re
from typing import Final

from modelrouter.errors import BadRequest

__all__ = ["check_depth"]

_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN: Final = frozenset(b"[{")


def check_depth(body: bytes, limit: int) -> None:
    """`BadRequest` when the JSON body nests deeper than `limit`."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return  # too few containers to be that deep
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                raise BadRequest(f"the body nests deeper than {limit} levels (limits.max_json_depth)")
        else:
            depth -= 1
