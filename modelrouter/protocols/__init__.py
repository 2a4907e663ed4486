"""Wire-protocol codecs: each maps one protocol to and from `modelrouter.ir`.

A codec is a module here named after its protocol (`openai_chat`, `anthropic_messages`,
`gemini`, `bedrock_converse`); catalog rows name it, and `codec()` imports it by that name,
so adding a protocol adds a module and no list.
"""

from __future__ import annotations

import functools
import importlib
import re
from types import ModuleType

__all__ = ["codec"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def codec(protocol: str) -> ModuleType:
    """The codec module for `protocol`; a `LookupError` names the protocol when there is none.

    Cached: providers look their codec up on every request.
    """
    if not _NAME.match(protocol):
        raise LookupError(f"invalid protocol name {protocol!r}")
    try:
        return importlib.import_module(f"{__name__}.{protocol}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{protocol}":
            raise
        raise LookupError(f"no codec for protocol {protocol!r}") from exc
