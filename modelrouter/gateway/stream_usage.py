"""Usage as a stream goes by: the provider's reports, or what was streamed for an estimate."""

from __future__ import annotations

from modelrouter import ir
from modelrouter.gateway.needs import CHARS_PER_TOKEN

__all__ = ["StreamUsage", "merged"]

_BOUNDS = (ir.StreamStart, ir.StreamEnd)  # a tuple: see ir.TEXT_DELTAS


class StreamUsage:
    """Tracks usage as stream events go by (later updates replace earlier ones)."""

    __slots__ = ("chars", "ended", "reported", "usage")

    def __init__(self) -> None:
        self.usage: ir.Usage | None = None
        self.reported = False
        self.ended = False
        self.chars = 0
        """Characters of text, reasoning and tool arguments streamed (for an estimate)."""

    @property
    def streamed_tokens(self) -> int:
        """What was streamed, in tokens as the gateway estimates them."""
        return self.chars // CHARS_PER_TOKEN

    def see(self, event: ir.StreamEvent) -> ir.StreamEvent:
        """Take note of `event` (returned unchanged, so it can sit in an expression)."""
        found = None
        if isinstance(event, ir.TEXT_DELTAS):
            self.chars += len(event.text)
        elif isinstance(event, ir.ToolArgsDelta):
            self.chars += len(event.fragment)
        elif isinstance(event, _BOUNDS):
            found = event.usage
            self.ended = self.ended or isinstance(event, ir.StreamEnd)
        elif isinstance(event, ir.UsageUpdate):
            found = event.usage
        if found is not None:
            self.usage = merged(self.usage, found)
            self.reported = self.reported or found.output_tokens > 0 or found.input_tokens > 0
        return event

    def current(self) -> ir.Usage:
        """The usage reported so far (zeros when none)."""
        return self.usage or ir.Usage()


def merged(old: ir.Usage | None, new: ir.Usage) -> ir.Usage:
    """Cumulative figures: a later report wins field by field unless it reports nothing there."""
    if old is None:
        return new
    latest = {f: getattr(new, f) or getattr(old, f) for f in ir.BILLED_COUNTS}
    return ir.Usage(**latest, reasoning_tokens=new.reasoning_tokens or old.reasoning_tokens)
