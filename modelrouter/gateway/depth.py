"""The nesting cap of `limits.max_json_depth`, checked on the raw body before anything parses it.

Only brackets outside strings count. Escapes that could end a string early are dropped first
(escaped backslashes, then escaped quotes: left to right, as JSON pairs them), then every byte
but quotes and brackets, then every other piece between quotes (the strings' contents); only
the brackets left are walked in Python, stopping at the first level past the cap. All but that
last loop are C-level bytes operations: a 100 KB coding-agent request takes about 0.3 ms
(a regular expression over the strings took 4 ms).
"""

from __future__ import annotations

from typing import Final

from modelrouter.errors import BadRequest

__all__ = ["check_depth"]

_NOT_MARKS: Final = bytes(b for b in range(256) if b not in b'"[]{}')
_OPEN: Final = frozenset(b"[{")


def check_depth(body: bytes, limit: int) -> None:
    """`BadRequest` when the JSON body nests deeper than `limit`."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return  # too few containers to be that deep
    if body.find(b"\\") >= 0:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _NOT_MARKS)
    brackets = b"".join(marks.split(b'"')[::2])  # even pieces lie outside strings
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                raise BadRequest(f"the body nests deeper than {limit} levels (limits.max_json_depth)")
        else:
            depth -= 1
