"""One chat request through the gateway: decode, route, forward with fallbacks, answer, record.

The same handler serves every front door; the door decides the dialect of answers, streams
and errors. Every request gets a UUIDv7 `x-request-id`, a ledger row before anything goes
upstream, and `x-modelrouter-*` headers saying where it went and what it cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import operator
import time
from dataclasses import dataclass, field
from typing import Any

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.engine import Engine
from modelrouter.errors import (
    AllAttemptsFailed,
    BadRequest,
    Forbidden,
    GatewayOverloaded,
    InternalError,
    ModelNotFound,
    ModelRetired,
    ModelRouterError,
    NoOfferingMeetsPolicy,
    UpstreamError,
    UpstreamOverloaded,
)
from modelrouter.gateway.affinity import Affinity
from modelrouter.gateway.asgi import (
    ClientGone,
    DisconnectWatch,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    refuse_declared_oversize,
    respond,
    start,
)
from modelrouter.gateway.auth import Caller, Gatekeeper
from modelrouter.gateway.depth import check_depth
from modelrouter.gateway.doors import Door
from modelrouter.gateway.metrics import Metrics
from modelrouter.gateway.needs import estimate_output_tokens, needs_of
from modelrouter.gateway.relay import RelayDecoder, relayed
from modelrouter.gateway.rows import USAGE_COLUMNS, attempt_row, cost_of, final_request_row, usd
from modelrouter.gateway.stream_usage import StreamUsage
from modelrouter.gateway.transport import Deadlines
from modelrouter.ids import uuid7
from modelrouter.keys import KeyRecord
from modelrouter.ledger import Ledger, now_iso
from modelrouter.limits import Admission, Limiter, RedisState
from modelrouter.redact import redact
from modelrouter.routing.attempt import Answer, Attempt, Forwarder, Hooks, StreamAnswer, decoded
from modelrouter.routing.policy import Policy, described
from modelrouter.routing.select import Decision, Needs

__all__ = ["ChatHandler"]

log = logging.getLogger(__name__)

JSON = ("content-type", "application/json")
SHUTDOWN_MESSAGE = "the gateway shut down before the answer was complete; send the request again"
SSE = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]
WATCH_AFTER_S = 0.05
"""How long a request runs before the gateway watches for its client leaving (`DisconnectWatch`)."""


@dataclass
class Trace:
    """What the gateway learns about one request as it goes (ledger, headers, metrics)."""

    request_id: str
    door: Door
    started: float
    created_at: str
    requested_model: str = ""
    decision: Decision | None = None
    policy: Policy | None = None
    stream: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    costs: dict[int, int] = field(default_factory=dict)
    """Attempt number to its cost in micro-USD."""
    finished: bool = False
    """Whether the final ledger row is written (nothing may overwrite it)."""
    key_id: str | None = None
    admission: Admission | None = None
    """What the request reserved of its key's limits (settled when it ends)."""
    conversation: str | None = None
    affinity: str = ""
    affinity_offering: str | None = None
    input_estimate: int = 0
    """The prompt's size as the gateway estimates it (for attempts billed without a usage report)."""
    row: dict[str, Any] | None = None
    """The request's ledger row as routing left it (the base of its started and final rows)."""
    unwritten: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Ledger rows not yet journaled. The `started` row waits for the first attempt's, and an
    attempt's final row for the request's, so a request costs two journal writes, not four;
    nothing waits across a call to a provider."""


CLIENT_ENDPOINT_FIELDS = frozenset(
    {
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "azure_endpoint",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "vertex_credentials",
        "vertex_project",
        "extra_headers",
        "headers",
    }
)
"""Body fields some gateways honour to redirect or re-credential a call; here they are refused."""


def refuse_client_endpoints(extra: Any) -> None:
    """A caller cannot choose where the gateway sends requests or with which credentials.

    Iterative, so a deeply nested body is refused for what it says, never by a RecursionError.
    """
    pending: list[tuple[Any, str]] = [(extra, "")]
    while pending:
        node, path = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.lower() in CLIENT_ENDPOINT_FIELDS:
                    raise BadRequest(
                        f"the body may not set {path}{key}: the gateway's config decides where requests go "
                        "and with which credentials"
                    )
                pending.append((value, f"{path}{key}."))
        elif isinstance(node, list):
            pending.extend((item, path) for item in node)


class ChatHandler:
    """Serves the chat endpoints of every front door."""

    def __init__(
        self,
        engine: Engine,
        forwarder: Forwarder,
        ledger: Ledger,
        metrics: Metrics,
        gate: Gatekeeper,
        limiter: Limiter,
    ) -> None:
        self.engine = engine
        self.gate = gate
        self.limiter = limiter
        self._settling: set[asyncio.Task[None]] = set()
        state = limiter.state
        self.affinity = Affinity(shared=state if isinstance(state, RedisState) else None)
        self.forwarder = forwarder
        self.ledger = ledger
        self.metrics = metrics
        self.body_limit = int(engine.config.limits.max_body_mb * (1 << 20))
        self.max_depth = engine.config.limits.max_json_depth
        self.max_concurrent = engine.config.limits.max_concurrent
        self.in_flight = 0
        self.timeouts = engine.config.timeouts

    async def drained(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for no request to be in flight; whether none is."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return not self.in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send, door: Door) -> None:
        """Serve one chat request arriving at `door`; every error leaves in the door's dialect."""
        trace = Trace(uuid7(), door, time.monotonic(), now_iso())
        self.in_flight += 1
        try:
            if self.in_flight > self.max_concurrent:
                raise GatewayOverloaded(
                    f"this gateway is at its limit of {self.max_concurrent} requests in flight "
                    "(limits.max_concurrent); try again shortly"
                )
            await self._serve(scope, receive, send, trace)
        except ClientGone:  # left before its request was whole: nothing was asked, nothing to record
            log.debug("request %s: the client left while sending its body", trace.request_id)
        except ModelRouterError as exc:
            await self._error(send, trace, exc)
        except Exception:  # a bug: still an answer in the caller's dialect, and the traceback logged
            log.exception("request %s failed unexpectedly", trace.request_id)
            if not trace.finished:
                await self._error(
                    send, trace, InternalError(f"the gateway failed on request {trace.request_id}")
                )
        finally:
            self.in_flight -= 1

    async def _serve(self, scope: Scope, receive: Receive, send: Send, trace: Trace) -> None:
        caller = await self.gate.caller(scope)
        trace.key_id = caller.key_id
        refuse_declared_oversize(scope, self.body_limit)
        body = await read_body(receive, self.body_limit)
        check_depth(body, self.max_depth)
        request = trace.door.decode(body)
        refuse_client_endpoints(request.extra)
        trace.door.header_fields(scope, request)
        trace.requested_model = request.model
        trace.stream = request.stream
        trace.policy = self._policy(request, scope, caller)
        if caller.key is not None and caller.key.models:
            self._check_models(caller.key, [request.model, *_fallback_models(request)])
        needs = needs_of(request)
        trace.input_estimate = needs.input_tokens or 0
        decisions = self._decide(request, trace.policy, needs)
        trace.decision = decisions[0]
        entries = _attempt_order(decisions)
        session = header(scope, b"x-modelrouter-session")
        trace.conversation = Affinity.conversation(request, caller.key_id, session)
        if session or len(request.messages) > 1:  # a later turn: its cache is somewhere already
            placement = await self.affinity.place(
                trace.conversation, entries, self.forwarder.health.available
            )
            entries, trace.affinity = placement.entries, placement.note
            trace.affinity_offering = entries[0].id if placement.note == "kept" else None
        if caller.key is not None:
            trace.admission = await self.limiter.admit(
                caller.key, entries, needs.input_tokens or 0, request.max_tokens
            )
        self._record_started(trace)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "request %s (%s, key %s): %s%s under %s -> %s",
                trace.request_id,
                trace.door.protocol,
                caller.key_id or caller.kind,
                request.model,
                " streamed" if request.stream else "",
                trace.policy.describe(),
                ", ".join(e.id for e in entries),
            )
        hooks = Hooks(
            lambda a: self._attempt_started(trace, a),
            # a whole answer's attempt row goes out with the request's final row, moments later
            lambda a: self._attempt_ended(trace, a, defer=a.outcome == "ok" and not trace.stream),
        )
        deadlines = self._deadlines()
        task = asyncio.current_task()
        assert task is not None
        watch = DisconnectWatch(receive, task, WATCH_AFTER_S)
        try:
            answer = await self.forwarder.forward(
                request, entries, deadlines, stream=request.stream, hooks=hooks
            )
            if isinstance(answer, Answer):
                await self._answer(send, trace, answer)
            else:
                await self._stream(send, trace, request, answer, watch)
        except asyncio.CancelledError:
            if not trace.finished:
                await self._cancelled(send, trace, watch.gone)
            # We cancelled ourselves (the client left, or the shutdown grace ran out): the
            # request is recorded, so end quietly instead of handing the server a traceback.
            if task.cancelling():
                task.uncancel()
        finally:
            watch.stop()

    async def _cancelled(self, send: Send, trace: Trace, client_gone: bool) -> None:
        """Record a request cancelled before its answer began; tell the client if it is still there.

        The client left (499: its upstream call is cancelled with it), or the server's shutdown
        grace ran out (503 in the door's dialect, so the client knows to send it again).
        """
        for attempt in trace.attempts:
            if attempt.outcome == "started":
                attempt.outcome, attempt.ended = "cancelled", time.monotonic()
                self._attempt_ended(trace, attempt)
        if client_gone:
            self._finish(trace, "client_disconnected", 499, None, ir.Usage(), "none")
            return
        self._finish(trace, "interrupted", 503, None, ir.Usage(), "none", error=SHUTDOWN_MESSAGE)
        body = trace.door.encode_error(503, "gateway_shutdown", SHUTDOWN_MESSAGE)
        headers = [JSON, ("x-request-id", trace.request_id), ("retry-after", "1")]
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(respond(send, 503, body, headers), 1.0)

    # --- routing ---------------------------------------------------------------------------

    def _policy(self, request: ir.Request, scope: Scope, caller: Caller) -> Policy:
        layers: list[Any] = [header(scope, b"x-modelrouter-policy")]
        key = caller.key
        if key is not None:
            layers.append(key.policy)
            if key.providers:
                layers.append(
                    Policy.parse({"providers": {"only": list(key.providers)}}, name=f"key {key.name}")
                )
        layers.append(request.extra.get("route"))
        provider = request.extra.get("provider")
        if provider is not None:
            layers.append(Policy.from_openrouter(provider))
        return self.engine.effective_policy(*layers)

    def _check_models(self, key: KeyRecord, names: list[str]) -> None:
        """A key scoped to some models may not reach others (a retired one, or its replacement, counts)."""
        catalog = self.engine.catalog
        allowed = {catalog.resolve(name).model.id for name in key.models}
        for name in names:
            model = catalog.resolve(name).model
            if model.id not in allowed and model.lifecycle.replacement not in allowed:
                scope = ", ".join(sorted(allowed))
                raise Forbidden(f"key {key.prefix}… ({key.name}) may use {scope}, not {model.id}")

    def _decide(self, request: ir.Request, policy: Policy, needs: Needs) -> list[Decision]:
        route = self.engine.router.route
        decisions = [route(request.model, policy, needs)]
        for model in _fallback_models(request):
            try:
                decisions.append(route(model, policy, needs))
            except (ModelNotFound, ModelRetired):  # a fallback that cannot serve is no reason to fail
                continue
        if not any([d.candidates for d in decisions]):
            raise _nothing_meets(decisions)
        if not _attempt_order(decisions):
            hints = sorted({p for d in decisions for c in d.candidates for p in c.not_ready})
            raise UpstreamOverloaded("no offering that meets the policy can be called: " + "; ".join(hints))
        return decisions

    def _deadlines(self) -> Deadlines:
        t = self.timeouts
        total_at = asyncio.get_running_loop().time() + t.total
        return Deadlines(t.connect, t.first_byte, t.idle, total_at)

    # --- answers ---------------------------------------------------------------------------

    async def _answer(self, send: Send, trace: Trace, answer: Answer) -> None:
        entry = answer.entry
        if answer.raw is not None:
            body = trace.door.relay_response(answer.raw, entry.provider.id)
        else:
            body = trace.door.encode_response(answer.response, entry.provider.id)
        cost = sum(trace.costs.values())
        headers = [JSON, *self._route_headers(trace, entry), ("x-modelrouter-cost-usd", usd(cost))]
        usage, source = answer.response.usage, "reported"
        if not (usage.input_tokens or usage.output_tokens):  # the provider reported none
            output = estimate_output_tokens(answer.response.content)
            usage, source = ir.Usage(input_tokens=trace.input_estimate, output_tokens=output), "estimated"
        self._finish(trace, "ok", 200, entry, usage, source)
        await respond(send, 200, body, headers)

    async def _stream(
        self, send: Send, trace: Trace, request: ir.Request, answer: StreamAnswer, watch: DisconnectWatch
    ) -> None:
        entry = answer.entry
        encoder = trace.door.stream_encoder(request, model=entry.offering.provider_model)
        usage = StreamUsage()
        state, status = "ok", 200
        relay = answer.decoder if isinstance(answer.decoder, RelayDecoder) else None
        if relay is not None:
            drop_usage = not request.include_usage
            first, error = relayed(relay.take(), drop_usage_only=drop_usage)
            for event in answer.events:
                usage.see(event)
        else:
            first = b"".join(encoder.encode(usage.see(e)) for e in answer.events)
        await start(send, 200, [*SSE, *self._route_headers(trace, entry)])
        self.metrics.ttft.observe((trace.requested_model,), time.monotonic() - trace.started)
        try:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            ended = answer.finished
            if relay is not None and error is not None:
                await self._send_error_event(send, encoder, error.kind, error.message)
                ended, state = True, "upstream_error_midstream"
            elif relay is not None and not ended:
                ended, state = await self._relay(send, encoder, answer, relay, usage, drop_usage)
            elif not ended:
                ended, state = await self._pump(send, encoder, answer, usage)
            if not ended:
                await self._send_error_event(
                    send, encoder, "stream_truncated", "the provider's stream ended early"
                )
                state = "upstream_error_midstream"
            await send({"type": "http.response.body", "body": b""})
        except asyncio.CancelledError:
            if watch.gone:
                state, status = "client_disconnected", 499
                raise
            # The server's shutdown grace ran out: end the stream honestly (an error event, then
            # a complete HTTP response), and return instead of dying with the cancellation.
            state, status = "interrupted", 503
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._end_for_shutdown(send, encoder), 1.0)
        finally:
            answer.upstream.close()
            if usage.reported:
                self._finish(trace, state, status, entry, usage.current(), "reported")
            else:  # the provider reported none: the prompt's estimate and what was streamed
                estimate = ir.Usage(input_tokens=trace.input_estimate, output_tokens=usage.streamed_tokens)
                self._finish(trace, state, status, entry, estimate, "estimated")

    async def _pump(
        self, send: Send, encoder: Any, answer: StreamAnswer, usage: StreamUsage
    ) -> tuple[bool, str]:
        """Relay the rest of the stream; (whether it ended properly, ledger state)."""
        try:
            async for chunk in answer.chunks:
                out = b""
                # past the commit point too, what the decoder cannot parse is the provider's fault
                for event in decoded(lambda c, _: answer.decoder.feed(c), chunk, answer.entry):
                    event = _redacted(event)
                    out += encoder.encode(usage.see(event))
                    if isinstance(event, ir.StreamError):
                        await send({"type": "http.response.body", "body": out, "more_body": True})
                        return True, "upstream_error_midstream"
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            tail = decoded(lambda _c, _e: answer.decoder.close(), b"", answer.entry)
        except UpstreamError as exc:
            await self._send_error_event(send, encoder, exc.kind, exc.message)
            return True, "upstream_error_midstream"
        tail = [_redacted(e) for e in tail]
        out = b"".join(encoder.encode(usage.see(e)) for e in tail)
        if out:
            await send({"type": "http.response.body", "body": out, "more_body": True})
        if any(isinstance(e, ir.StreamError) for e in tail):
            return True, "upstream_error_midstream"
        return usage.ended, "ok"

    async def _relay(
        self,
        send: Send,
        encoder: Any,
        answer: StreamAnswer,
        relay: RelayDecoder,
        usage: StreamUsage,
        drop_usage: bool,
    ) -> tuple[bool, str]:
        """Forward the rest of a same-protocol stream as the provider wrote it, whole event by event."""
        try:
            async for chunk in answer.chunks:
                for event in decoded(lambda c, _: relay.feed(c), chunk, answer.entry):
                    usage.see(event)
                if await self._forward(send, encoder, relay, drop_usage):
                    return True, "upstream_error_midstream"
            for event in decoded(lambda _c, _e: relay.close(), b"", answer.entry):
                usage.see(event)
        except UpstreamError as exc:
            await self._send_error_event(send, encoder, exc.kind, exc.message)
            return True, "upstream_error_midstream"
        if await self._forward(send, encoder, relay, drop_usage):
            return True, "upstream_error_midstream"
        return usage.ended, "ok"

    async def _forward(self, send: Send, encoder: Any, relay: RelayDecoder, drop_usage: bool) -> bool:
        """Send the relay's whole events; an in-band error goes as the gateway's own (True: it ended)."""
        out, error = relayed(relay.take(), drop_usage_only=drop_usage)
        if out:
            await send({"type": "http.response.body", "body": out, "more_body": True})
        if error is None:
            return False
        await self._send_error_event(send, encoder, error.kind, error.message)
        return True

    async def _end_for_shutdown(self, send: Send, encoder: Any) -> None:
        await self._send_error_event(send, encoder, "gateway_shutdown", SHUTDOWN_MESSAGE)
        await send({"type": "http.response.body", "body": b""})

    async def _send_error_event(self, send: Send, encoder: Any, kind: str, message: str) -> None:
        body = encoder.encode(ir.StreamError(kind=kind, message=redact(message), status=502))
        await send({"type": "http.response.body", "body": body, "more_body": True})

    def _answered_by(self, trace: Trace, entry: Entry) -> None:
        """The answering offering now holds the conversation's cache."""
        if trace.affinity == "kept" and entry.id != trace.affinity_offering:
            trace.affinity = f"moved: {trace.affinity_offering} failed"
        self.affinity.remember(trace.conversation, entry.id)

    def _route_headers(self, trace: Trace, entry: Entry) -> list[tuple[str, str]]:
        self._answered_by(trace, entry)
        headers = [
            ("x-request-id", trace.request_id),
            ("x-modelrouter-provider", entry.provider.id),
            ("x-modelrouter-model", entry.offering.provider_model),
            ("x-modelrouter-offering", entry.id),
            ("x-modelrouter-attempts", str(len(trace.attempts))),
        ]
        decision = trace.decision
        if decision is not None and decision.substituted_from:
            headers.append(
                ("x-modelrouter-substituted", f"{decision.substituted_from} -> {decision.model.id}")
            )
        if trace.affinity:
            headers.append(("x-modelrouter-affinity", trace.affinity))
        return headers

    async def _error(self, send: Send, trace: Trace, exc: ModelRouterError) -> None:
        status = exc.status if 400 <= exc.status < 600 else 500
        headers = [
            JSON,
            ("x-request-id", trace.request_id),
            ("x-modelrouter-attempts", str(len(trace.attempts))),
        ]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is None and isinstance(exc, AllAttemptsFailed):
            retry_after = max((f.error.retry_after or 0 for f in exc.failures), default=0) or None
        if retry_after is not None and status in (429, 503):
            headers.append(("retry-after", str(max(1, round(retry_after)))))
        state = "rejected" if not trace.attempts else "upstream_error"
        self._finish(trace, state, status, None, ir.Usage(), "none", error=exc.message)
        # A name that did not route is the caller's free text: kept out of the public /metrics
        # (one time series per typo, or per key pasted into `model`, would grow without bound).
        model = trace.requested_model if trace.decision is not None else "-"
        self.metrics.requests.inc((trace.door.protocol, model, "-", str(status)))
        await respond(send, status, trace.door.encode_error(status, exc.kind, exc.message), headers)

    # --- the ledger ------------------------------------------------------------------------

    def _record_started(self, trace: Trace) -> None:
        """Queue the request's `started` row; it goes out with the first attempt's (`Trace.unwritten`)."""
        # as of its creation: routing took microseconds, and a clock read is not free on this path
        row = {**self._base_row(trace), "updated_at": trace.created_at, "state": "started", "version": 1}
        if trace.affinity:
            row["affinity"] = trace.affinity
        trace.unwritten.append(("requests", row))

    def _base_row(self, trace: Trace) -> dict[str, Any]:
        """The columns routing fixed, gathered once per request; sparse (the store fills in None)."""
        if trace.row is None:
            decision = trace.decision
            base = {
                "request_id": trace.request_id,
                "created_at": trace.created_at,
                "key_id": trace.key_id,
                "client_protocol": trace.door.protocol,
                "stream": trace.stream,
                "requested_model": trace.requested_model,
                "model": decision.model.id if decision else None,
                "substituted_from": decision.substituted_from if decision else None,
                "policy": described(trace.policy) if trace.policy else None,
            }
            trace.row = {k: v for k, v in base.items() if v is not None}
        return trace.row

    def _write(self, trace: Trace, *, start: bool = False) -> None:
        """Journal the queued rows in one write.

        A `start` (rows that must be on disk before a provider is called) raises
        `LedgerUnavailable` when the journal cannot be written: the call is not made. Later
        rows complete a record already begun, so they wait in the ledger for the disk instead.
        """
        rows, trace.unwritten = trace.unwritten, []
        self.ledger.record(rows, wait=not start)

    def _attempt_started(self, trace: Trace, attempt: Attempt) -> None:
        """Durable before the provider is called: a crash from here on leaves a row to reconcile."""
        trace.unwritten.append(
            ("attempts", attempt_row(trace.request_id, trace.created_at, attempt, "started", 1))
        )
        self._write(trace, start=True)
        trace.attempts.append(attempt)  # only an attempt on record counts (and goes upstream)

    def _attempt_ended(
        self,
        trace: Trace,
        attempt: Attempt,
        *,
        defer: bool = False,
        source: str | None = None,
        ended_at: str | None = None,
    ) -> None:
        usage, estimated = attempt.usage, source == "estimated"
        if usage is None and (attempt.billable or attempt.outcome == "ok") and trace.input_estimate:
            # billed without a usage report: the prompt's estimate, and the answer's if there was one
            usage = ir.Usage(input_tokens=trace.input_estimate, output_tokens=attempt.output_estimate)
            estimated = True
        cost = cost_of(attempt.entry, usage) if usage is not None else 0
        trace.costs[attempt.number] = cost
        row = attempt_row(
            trace.request_id, trace.created_at, attempt, attempt.outcome, 2, usage, cost, ended_at
        )
        if estimated:
            row["usage_source"] = "estimated"
        trace.unwritten.append(("attempts", row))
        if not defer:
            self._write(trace)
        entry = attempt.entry
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "request %s attempt %d at %s: %s%s%s",
                trace.request_id,
                attempt.number,
                entry.id,
                attempt.outcome,
                f" ({attempt.status})" if attempt.status is not None else "",
                f": {attempt.error}" if attempt.error else "",
            )
        self.metrics.attempts.inc((entry.provider.id, entry.id, attempt.outcome))

    def _finish(
        self,
        trace: Trace,
        state: str,
        status: int,
        entry: Entry | None,
        usage: ir.Usage,
        source: str,
        *,
        error: str | None = None,
    ) -> None:
        trace.finished = True
        now = now_iso()  # the request's end, and its last attempt's
        final = _last_attempt_at(trace.attempts, entry)
        if final is not None and final.outcome == "started":
            final.usage = usage
            final.outcome = state
            final.ended = time.monotonic()
            self._attempt_ended(trace, final, defer=True, source=source, ended_at=now)
        cost = sum(trace.costs.values())
        latency = (time.monotonic() - trace.started) * 1000
        row = final_request_row(
            self._base_row(trace),
            updated_at=now,
            state=state,
            status=status,
            attempts=len(trace.attempts),
            usage=usage,
            source=source,
            cost=cost,
            latency_ms=latency,
            error=error,
            entry=entry,
            affinity=trace.affinity,
        )
        trace.unwritten.append(("requests", row))
        self._write(trace)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "request %s: %s %d%s after %d attempt(s), %.0f ms, %s USD%s",
                trace.request_id,
                state,
                status,
                f" from {entry.id}" if entry is not None else "",
                len(trace.attempts),
                latency,
                usd(cost),
                f": {error}" if error else "",
            )
        self._observe(trace, status, entry, usage, cost, latency)
        if trace.admission is not None:
            task = asyncio.get_running_loop().create_task(self.limiter.settle(trace.admission, usage, cost))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    def _observe(
        self, trace: Trace, status: int, entry: Entry | None, usage: ir.Usage, cost: int, latency_ms: float
    ) -> None:
        if entry is None:
            return
        model, provider = trace.requested_model, entry.provider.id
        metrics = self.metrics
        metrics.requests.inc((trace.door.protocol, model, provider, str(status)))
        metrics.latency.observe((model,), latency_ms / 1000)
        if len(trace.attempts) > 1:
            metrics.fallbacks.inc()
        tokens = metrics.tokens
        for kind, count in zip(_TOKEN_KINDS, _usage_counts(usage), strict=True):  # one C-level pass
            if count:
                tokens.inc((model, provider, kind), count)
        if cost:
            metrics.cost.inc((model, provider), cost / 1_000_000)


_TOKEN_KINDS = tuple(column.removesuffix("_tokens") for column in USAGE_COLUMNS)
"""The `kind` label of each usage column in `modelrouter_tokens` (input, output, cache_read…)."""
_usage_counts = operator.attrgetter(*USAGE_COLUMNS)


def _redacted(event: ir.StreamEvent) -> ir.StreamEvent:
    """An in-band error's message scrubbed of secrets (a provider may quote what it was sent)."""
    if isinstance(event, ir.StreamError):
        return dataclasses.replace(event, message=redact(event.message))
    return event


def _last_attempt_at(attempts: list[Attempt], entry: Entry | None) -> Attempt | None:
    """The latest attempt at `entry` (a loop: an unfinished generator costs a GeneratorExit)."""
    for attempt in reversed(attempts):
        if attempt.entry is entry:
            return attempt
    return None


def _fallback_models(request: ir.Request) -> list[str]:
    """OpenRouter's `models` list: more models to try after the first, in order."""
    models = request.extra.get("models")
    if not isinstance(models, list):
        return []
    return [m for m in models if isinstance(m, str) and m != request.model]


def _attempt_order(decisions: list[Decision]) -> list[Entry]:
    seen: set[str] = set()
    order = []
    for decision in decisions:
        for entry in decision.attempt_order:
            if entry.id not in seen:
                seen.add(entry.id)
                order.append(entry)
    return order


def _nothing_meets(decisions: list[Decision]) -> NoOfferingMeetsPolicy:
    rejected = {r.entry.id: r.reasons for d in decisions for r in d.rejected}
    lines = "; ".join(f"{offering}: {', '.join(reasons)}" for offering, reasons in rejected.items())
    models = ", ".join(d.model.id for d in decisions)
    return NoOfferingMeetsPolicy(f"no offering of {models} meets the policy. {lines}", rejected=rejected)
