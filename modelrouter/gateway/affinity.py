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
Memory is per process (bounded, with the cache TTL) and, with `state: redis://…`, shared by
every instance, so a conversation keeps its offering whichever instance serves the next turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.limits.state import RedisState

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

    def __init__(
        self,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
        shared: RedisState | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.shared = shared
        self._seen: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._writes: set[asyncio.Task[None]] = set()

    @staticmethod
    def conversation(request: ir.Request, key_id: str | None, session: str | None) -> str | None:
        """The conversation's name (None without a user turn to name it by)."""
        if session:
            return f"s:{key_id}:{session}"
        for first in request.messages:  # the first user turn (a loop: no generator to close)
            if first.role == "user":
                break
        else:
            return None
        # Text parts as their text (their cache breakpoints do not change the conversation);
        # blake2b, built in, takes a third less than OpenSSL's sha256 on inputs this short.
        content = [p.text if type(p) is ir.TextPart else p for p in first.content]
        prefix = orjson.dumps(
            [key_id, request.model, [p.text for p in request.system], content], default=_default
        )
        return "h:" + hashlib.blake2b(prefix, digest_size=32).hexdigest()

    async def held_by(self, conversation: str) -> str | None:
        """The offering holding this conversation's cache: the shared answer first, else this process's."""
        if self.shared is not None:
            found = await self.shared.get_text(f"mr:affinity:{conversation}")
            if found is not None:
                return found
        local = self._seen.get(conversation)
        if local is None or self.clock() - local[1] > self.ttl_s:
            return None
        return local[0]

    async def place(
        self, conversation: str | None, entries: Sequence[Entry], available: Callable[[str], bool]
    ) -> Placement:
        """Move the conversation's offering to the front when it may serve; say what was done."""
        if conversation is None:
            return Placement(list(entries), "")
        offering = await self.held_by(conversation)
        if offering is None:
            return Placement(list(entries), "new")
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
        if self.shared is not None:
            write = self.shared.set_text(f"mr:affinity:{conversation}", offering, int(self.ttl_s))
            task = asyncio.get_running_loop().create_task(write)
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
