"""The fallback loop: try the decision's offerings in order until one answers.

Rules (reference/reliability.md section 2):

* An attempt is recorded in the ledger before its first byte goes upstream.
* Retryable failures (connection, timeouts, 408/429/5xx/529, unparseable answers) move on to
  the next allowed offering at once; the same offering is tried again only when nothing else
  is left, after its Retry-After, when that wait fits `max_retry_wait` and the total deadline.
* Failures the caller caused (400, 413, content filter…) end the request: retrying the same
  body cannot succeed. A context-length refusal may still fit a larger offering.
* A stream counts as answered at its commit point, the first meaningful event; an error (or
  an in-band error event) before it is a failure like any other, after it there is no retry.
* Offerings whose breaker is open are skipped, unless every allowed offering is (panic mode).
* Credentials the gateway cannot load (a broken key file) fail that provider's offerings for
  the request, never the request: the next provider is tried.
* Fallbacks never leave the decision, so they never leave the caller's policy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.errors import (
    AllAttemptsFailed,
    AttemptFailure,
    BadRequest,
    ModelRouterError,
    UpstreamBadRequest,
    UpstreamCredentialsError,
    UpstreamError,
    UpstreamOverloaded,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from modelrouter.gateway.needs import estimate_output_tokens
from modelrouter.gateway.relay import RelayDecoder
from modelrouter.gateway.transport import MAX_ERROR_BODY, Deadlines, Transport, UpstreamResponse
from modelrouter.health import HealthBoard
from modelrouter.redact import redact

__all__ = ["Answer", "Attempt", "Forwarder", "StreamAnswer", "is_meaningful"]

log = logging.getLogger(__name__)


class Decoder(Protocol):
    """A provider stream decoder (see the codecs)."""

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Events completed by `chunk`."""

    def close(self) -> list[ir.StreamEvent]:
        """Events left at the end of the body."""


class Relay(Protocol):
    """A client's own body for a provider of its protocol (`modelrouter.providers.Passthrough`)."""

    body: bytes
    headers: dict[str, str]


class Adapter(Protocol):
    """What the loop needs of a provider module (modelrouter.providers)."""

    def encode(self, request: ir.Request, entry: Entry) -> bytes:
        """The request body for this offering."""

    def passthrough(self, request: ir.Request, entry: Entry) -> Relay | None:
        """The client's own body when it speaks the offering's protocol; None: `encode` it."""

    def prepare(self, entry: Entry, body: bytes, *, stream: bool) -> Any:
        """URL and headers."""

    async def authorize(self, call: Any) -> Any:
        """Credentials."""

    def decode_response(self, body: bytes, entry: Entry) -> ir.Response:
        """A non-streamed answer."""

    def relayed_response(self, body: bytes, entry: Entry) -> ir.Response:
        """A non-streamed answer the client gets as is: checked, usage read, content not decoded."""

    def stream_decoder(self, entry: Entry) -> Decoder:
        """A decoder for a streamed answer."""

    def classify(self, status: int, headers: Mapping[str, str], body: bytes, entry: Entry) -> UpstreamError:
        """An error response as an exception of the tree."""


@dataclass(slots=True)
class Attempt:
    """One try at one offering, as the ledger and the response headers report it."""

    number: int
    entry: Entry
    started: float
    outcome: str = "started"
    status: int | None = None
    error: str | None = None
    usage: ir.Usage | None = None
    ended: float | None = None
    output_estimate: int = 0
    """The answer's size in tokens as estimated, when the provider reported no usage."""
    billable: bool = False
    """Failed after the provider took the request on (an unreadable 200, a deadline passed while
    it worked): it may well have billed the prompt, so the ledger charges an estimate."""


@dataclass(slots=True)
class Answer:
    """A complete non-streamed answer and how it was obtained."""

    response: ir.Response
    entry: Entry
    attempts: list[Attempt]
    ttfb_ms: float
    raw: bytes | None = None
    """The provider's body, when the request went out as the client's own (same protocol)."""


@dataclass(slots=True)
class StreamAnswer:
    """A stream past its commit point: the events so far, and the rest still to read."""

    entry: Entry
    attempts: list[Attempt]
    upstream: UpstreamResponse
    decoder: Decoder
    events: list[ir.StreamEvent]
    chunks: Any
    """The async iterator of the upstream body, positioned after the buffered events."""
    ttfb_ms: float
    finished: bool = False
    """Whether the upstream body already ended (the whole answer is in `events`)."""


def _ignore(attempt: Attempt) -> None:
    return None


class Hooks(NamedTuple):
    """Callbacks one request gives the loop (ledger rows, metrics): a tuple, built per request."""

    attempt_started: Callable[[Attempt], None] = _ignore
    attempt_ended: Callable[[Attempt], None] = _ignore


NO_HOOKS = Hooks()


_STATUS_ERRORS: dict[int, type[UpstreamError]] = {
    429: UpstreamRateLimited,
    503: UpstreamOverloaded,
    529: UpstreamOverloaded,
}
_MEANINGFUL = (ir.TextDelta, ir.ReasoningDelta, ir.ToolArgsDelta, ir.StreamEnd)


def is_meaningful(event: ir.StreamEvent) -> bool:
    """Whether sending this event commits the stream (content, or a tool call beginning)."""
    if isinstance(event, _MEANINGFUL):
        return True
    return isinstance(event, ir.PartStart) and isinstance(event.part, ir.ToolCallPart)


@dataclass
class Forwarder:
    """Runs the fallback loop for one request at a time (it holds no per-request state)."""

    providers: Mapping[str, Adapter]
    transport: Transport
    health: HealthBoard
    max_attempts: int = 3
    max_retry_wait: float = 5.0

    async def forward(
        self,
        request: ir.Request,
        entries: Sequence[Entry],
        deadlines: Deadlines,
        *,
        stream: bool,
        hooks: Hooks = NO_HOOKS,
    ) -> Answer | StreamAnswer:
        """Try `entries` in order until one answers; raise what the caller should see otherwise."""
        plan = _Plan(entries, self.health, self.max_retry_wait)
        attempts: list[Attempt] = []
        failures: list[AttemptFailure] = []
        refused: list[BadRequest] = []
        while len(attempts) < self.max_attempts and deadlines.remaining() > 0:
            entry = await plan.next(deadlines)
            if entry is None:
                break
            adapter = self.providers[entry.provider.id]
            try:
                relay = adapter.passthrough(request, entry)
                body = adapter.encode(request, entry) if relay is None else relay.body
            except BadRequest as exc:  # this target cannot express the request; another may
                refused.append(exc)
                continue
            except orjson.JSONEncodeError as exc:  # e.g. nesting deeper than JSON encoders allow
                refused.append(BadRequest(f"the request cannot be encoded for {entry.id}: {exc}"))
                continue
            attempt = Attempt(len(attempts) + 1, entry, time.monotonic())
            attempts.append(attempt)
            try:
                return await self._attempt(
                    adapter, entry, body, attempt, attempts, deadlines, hooks, stream=stream, relay=relay
                )
            except UpstreamError as exc:
                failures.append(AttemptFailure(entry.id, exc))
                self._failed(attempt, exc, plan, hooks)
        if failures:
            raise AllAttemptsFailed(failures)
        if refused:
            raise refused[0]
        raise AllAttemptsFailed([])

    def _failed(self, attempt: Attempt, error: UpstreamError, plan: _Plan, hooks: Hooks) -> None:
        entry = attempt.entry
        error.provider, error.offering = entry.provider.id, entry.id
        _end(attempt, hooks, "upstream_error", error)
        if _about_health(error):
            self.health.failure(entry.id, retry_after_s=error.retry_after)
        if not error.fallback and not error.retryable:
            raise error
        if error.retryable:
            plan.may_retry(entry)
        if isinstance(error, UpstreamCredentialsError):
            plan.skip_provider(entry.provider.id)

    async def _attempt(
        self,
        adapter: Adapter,
        entry: Entry,
        body: bytes,
        attempt: Attempt,
        attempts: list[Attempt],
        deadlines: Deadlines,
        hooks: Hooks,
        *,
        stream: bool,
        relay: Relay | None,
    ) -> Answer | StreamAnswer:
        call = adapter.prepare(entry, body, stream=stream)
        if relay is not None:
            call.headers.update(relay.headers)
        call = await _authorized(adapter, call, entry)
        relayed = relay is not None
        hooks.attempt_started(attempt)
        upstream = await self.transport.open(call, deadlines, entry.provider.id)
        ttfb_ms = (time.monotonic() - attempt.started) * 1000
        attempt.status = upstream.status
        try:
            if upstream.status >= 400:
                error_body = await upstream.read(MAX_ERROR_BODY)
                raise adapter.classify(upstream.status, upstream.headers, error_body, entry)
            if not stream:
                raw = await upstream.read()
                decode = adapter.relayed_response if relayed else adapter.decode_response
                response = decoded(decode, raw, entry)
                reported = bool(response.usage.input_tokens or response.usage.output_tokens)
                if relayed and not reported:
                    response = decoded(adapter.decode_response, raw, entry)  # no usage: size the answer
                attempt.usage = response.usage if reported else None
                attempt.output_estimate = 0 if reported else estimate_output_tokens(response.content)
                _end(attempt, hooks, "ok")
                self.health.success(entry.id, ttfb_ms=ttfb_ms)
                return Answer(response, entry, attempts, ttfb_ms, raw if relayed else None)
            return await self._commit(adapter, entry, upstream, attempt, attempts, ttfb_ms, relayed)
        except BaseException:
            upstream.close()
            raise

    async def _commit(
        self,
        adapter: Adapter,
        entry: Entry,
        upstream: UpstreamResponse,
        attempt: Attempt,
        attempts: list[Attempt],
        ttfb_ms: float,
        relayed: bool,
    ) -> StreamAnswer:
        """Read the stream up to its first meaningful event; an error before it is a failure.

        A relayed stream's decoder keeps each event's raw bytes, which the gateway forwards.
        """
        decoder = adapter.stream_decoder(entry)
        if relayed:
            decoder = RelayDecoder(decoder)
        chunks = upstream.chunks().__aiter__()
        events: list[ir.StreamEvent] = []
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                events.extend(_checked(decoded(lambda c, e: decoder.close(), b"", entry), entry))
                if not any(isinstance(e, ir.StreamEnd) for e in events):
                    raise UpstreamProtocolError(
                        f"{entry.provider.id} ended the stream without an answer"
                    ) from None
                self.health.success(entry.id, ttfb_ms=ttfb_ms)
                return StreamAnswer(
                    entry, attempts, upstream, decoder, events, chunks, ttfb_ms, finished=True
                )
            new = _checked(decoded(lambda c, e: decoder.feed(c), chunk, entry), entry)
            events.extend(new)
            if any(map(is_meaningful, new)):
                self.health.success(entry.id, ttfb_ms=ttfb_ms)
                return StreamAnswer(entry, attempts, upstream, decoder, events, chunks, ttfb_ms)


def _end(attempt: Attempt, hooks: Hooks, outcome: str, error: ModelRouterError | None = None) -> None:
    attempt.outcome = outcome
    attempt.ended = time.monotonic()
    if error is not None:
        error.message = redact(error.message)  # a provider may echo the credential it was sent
        attempt.error = error.message
        attempt.billable = attempt.status == 200 or isinstance(error, UpstreamTimeout | UpstreamProtocolError)
        upstream_status = getattr(error, "upstream_status", None)
        attempt.status = upstream_status or attempt.status
    hooks.attempt_ended(attempt)


class _Plan:
    """Which offering comes next: each in order once, then retries of those that may recover."""

    def __init__(self, entries: Sequence[Entry], health: HealthBoard, max_retry_wait: float) -> None:
        healthy = [e for e in entries if health.available(e.id)]
        self._queue = healthy or list(entries)  # every allowed offering ejected: try them anyway
        self._position = 0
        self._retryable: list[Entry] = []
        self._health = health
        self._max_retry_wait = max_retry_wait

    def skip_provider(self, provider: str) -> None:
        """Take the provider's offerings still queued out of this request (they share its credentials)."""
        self._queue = self._queue[: self._position] + [
            e for e in self._queue[self._position :] if e.provider.id != provider
        ]

    def may_retry(self, entry: Entry) -> None:
        """The offering failed in a way that may pass (its Retry-After is in the health board)."""
        if entry not in self._retryable:
            self._retryable.append(entry)

    async def next(self, deadlines: Deadlines) -> Entry | None:
        """The next offering to try, waiting for a retry's cool-down when that fits; None: give up."""
        if self._position < len(self._queue):
            self._position += 1
            return self._queue[self._position - 1]
        if not self._retryable:
            return None
        wait, _, entry = min((self._health.wait_s(e.id), i, e) for i, e in enumerate(self._retryable))
        if wait > min(self._max_retry_wait, deadlines.remaining()):
            return None
        if wait > 0:
            await asyncio.sleep(wait)
        return entry


async def _authorized(adapter: Adapter, call: Any, entry: Entry) -> Any:
    """Credentials for the call; credentials that cannot be loaded fail this offering only.

    A broken key file or profile is the operator's to fix, and no reason to fail a request
    another offering can serve: it becomes an `UpstreamAuthError` (the traceback is logged).
    """
    try:
        return await adapter.authorize(call)
    except ModelRouterError:
        raise
    except Exception as exc:
        log.warning("credentials for %s could not be loaded", entry.provider.id, exc_info=True)
        raise UpstreamCredentialsError(
            f"{entry.provider.id}: the gateway's credentials for it could not be loaded "
            f"({type(exc).__name__}); see the gateway log",
            provider=entry.provider.id,
        ) from exc


def decoded(decode: Callable[[bytes, Entry], Any], data: bytes, entry: Entry) -> Any:
    """Run a codec; anything it cannot parse is the provider's protocol error, not ours."""
    try:
        return decode(data, entry)
    except (UpstreamError, BadRequest):
        raise
    except Exception as exc:
        raise UpstreamProtocolError(
            f"{entry.provider.id} answered something that is not valid {entry.protocol}: {exc}"
        ) from exc


def _checked(events: list[ir.StreamEvent], entry: Entry) -> list[ir.StreamEvent]:
    """An in-band error event before the commit point becomes an exception (and a fallback)."""
    for event in events:
        if isinstance(event, ir.StreamError):
            raise stream_error(event, entry)
    return events


def stream_error(event: ir.StreamError, entry: Entry) -> UpstreamError:
    """The exception an in-band stream error stands for."""
    status = event.status or 500
    kind = _STATUS_ERRORS.get(status, UpstreamServerError if status >= 500 else UpstreamBadRequest)
    return kind(f"{entry.provider.id} stream error ({event.kind}): {event.message}", upstream_status=status)


def _about_health(error: ModelRouterError) -> bool:
    """Whether a failure says the offering is unwell (not that the request was bad)."""
    return error.retryable or isinstance(error, UpstreamProtocolError)
