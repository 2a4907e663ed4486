"""Cache-affine routing: the turns of one conversation stay where their prompt cache is.

Providers cache a conversation's prefix on the offering that served it; sending the next
turn elsewhere pays the whole prompt again. So the gateway remembers which offering answered
each conversation and tries it first next time, as long as the policy still allows it and its
breaker is closed; when it cannot, the move is said in `x-modelrouter-affinity` and recorded
in the ledger (`affinity` column: `kept`, `moved: REASON` or `new`).

A conversation is named by the `x-modelrouter-session` header when the client sends one,
else by a hash of what stays fixed across its turns: the key, the requested model, the
system prompt and the first user turn. Every answer is remembered; placement applies to later
turns (or any request with a session), so a one-off prompt routes by the policy alone.
Memory is per process (bounded, with the cache TTL).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from modelrouter import ir
from modelrouter.catalog.catalog import Entry

__all__ = ["Affinity", "Placement"]

TTL_S = 3600.0
"""As long as the longest prompt-cache lifetime providers offer (Anthropic's 1 h TTL)."""
MAX_CONVERSATIONS = 100_000


def _default(value: object) -> object:
    slots = getattr(value, "__slots__", ())
    return {name: getattr(value, name) for name in slots} if slots else str(value)


@dataclass(frozen=True, slots=True)
class Placement:
    """The attempt order after affinity, and what happened: kept, moved (why), or new."""

    entries: list[Entry]
    note: str


class Affinity:
    """Remembers conversation -> offering, and puts that offering first."""

    def __init__(self, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._seen: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @staticmethod
    def conversation(request: ir.Request, key_id: str | None, session: str | None) -> str | None:
        """The conversation's name (None without a user turn to name it by)."""
        if session:
            return f"s:{key_id}:{session}"
        first = next((m for m in request.messages if m.role == "user"), None)
        if first is None:
            return None
        prefix = orjson.dumps(
            [key_id, request.model, [p.text for p in request.system], first.content],
            default=_default,
        )
        return "h:" + hashlib.sha256(prefix).hexdigest()

    def place(
        self, conversation: str | None, entries: Sequence[Entry], available: Callable[[str], bool]
    ) -> Placement:
        """Move the conversation's offering to the front when it may serve; say what was done."""
        if conversation is None:
            return Placement(list(entries), "")
        found = self._seen.get(conversation)
        if found is None or self.clock() - found[1] > self.ttl_s:
            return Placement(list(entries), "new")
        offering = found[0]
        held = next((e for e in entries if e.id == offering), None)
        if held is None:
            return Placement(list(entries), f"moved: {offering} is not allowed or not ready for this request")
        if not available(offering):
            return Placement(list(entries), f"moved: {offering} is unhealthy (breaker open)")
        return Placement([held, *(e for e in entries if e is not held)], "kept")

    def remember(self, conversation: str | None, offering: str) -> None:
        """The offering that answered (and now holds the cache) for this conversation."""
        if conversation is None:
            return
        self._seen[conversation] = (offering, self.clock())
        self._seen.move_to_end(conversation)
        while len(self._seen) > MAX_CONVERSATIONS:
            self._seen.popitem(last=False)
