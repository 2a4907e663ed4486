"""A fake LLM upstream on 127.0.0.1 that speaks all four provider protocols, with faults on demand.

One server stands for many providers: the first path segment is a label (point one
provider's base URL at `{url}/openai-eu/v1` and another's at `{url}/azure-us`), and the
protocol is told by the path's end. Every request is logged with its label, so a test can
prove where traffic went; faults are scoped to a label or apply to all.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import Any

from aiohttp import web

from tests.fakes import anthropic_wire, bedrock_wire, gemini_wire, openai_wire
from tests.fakes.plan import Plan, plan_for

__all__ = ["FakeUpstream", "Logged"]

WIRES: list[ModuleType] = [openai_wire, anthropic_wire, gemini_wire, bedrock_wire]
STREAM_TYPES = {
    "openai_chat": "text/event-stream; charset=utf-8",
    "anthropic_messages": "text/event-stream; charset=utf-8",
    "gemini": "text/event-stream",
    "bedrock_converse": "application/vnd.amazon.eventstream",
}


_arrived_in: contextvars.ContextVar[int] = contextvars.ContextVar("fake_request_generation", default=-1)
"""The fake's generation when the request being served arrived (each request is a task of its own)."""


@dataclass
class Logged:
    """One request the fake received."""

    label: str
    protocol: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float
    outcome: str = "answered"
    """`answered`, `cut` (a fault dropped it) or `aborted` (the caller went away mid-stream)."""


@dataclass
class Fault:
    """A misbehaviour waiting for matching requests (`remaining` None: every one)."""

    kind: str
    label: str | None
    remaining: int | None = 1
    status: int = 503
    retry_after: float | None = None
    headers: dict[str, str] | None = None
    echo: bool = False
    seconds: float = 0.0
    after: int = 0


@dataclass
class FakeUpstream:
    """The fake server; use as a context manager or call `start()` / `stop()`.

    With `tls` (a server-side context holding a certificate) it serves HTTPS, like a real provider.
    """

    requests: list[Logged] = field(default_factory=list)
    url: str = ""
    tls: ssl.SSLContext | None = None
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _generation: int = 0
    """Bumped by `reset`: a request still being served from before it takes no later faults."""

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        """Serve on a free port of 127.0.0.1 from a background thread; sets `url`."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake upstream did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post(r"/{prefix:.*}/v1/messages/count_tokens", self._count_tokens)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        scheme = "https" if self.tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        """Close the server and its thread."""
        if self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- faults and the log ----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        retry_after: float | None = None,
        label: str | None = None,
        headers: dict[str, str] | None = None,
        echo_credentials: bool = False,
    ) -> None:
        """The next `n` requests (for `label`) get `status` in the provider's own error format.

        `echo_credentials` puts the credential the request carried into the error message, as
        careless providers do.

        `retry_after` is sent the way the provider sends it; `headers` adds any others (say,
        `retry-after-ms` or an HTTP-date `retry-after`).
        """
        self._add(
            Fault(
                "fail",
                label,
                n,
                status=status,
                retry_after=retry_after,
                headers=headers,
                echo=echo_credentials,
            )
        )

    def delay(
        self, seconds: float, label: str | None = None, n: int | None = None, stage: str = "headers"
    ) -> None:
        """Wait `seconds` before the headers (`stage="headers"`) or before the first body byte."""
        self._add(Fault("delay_" + stage, label, n, seconds=seconds))

    def slow_stream(
        self, seconds: float, label: str | None = None, n: int | None = None, after: int = 1
    ) -> None:
        """Wait `seconds` before each stream chunk from chunk number `after` on."""
        self._add(Fault("slow", label, n, seconds=seconds, after=after))

    def cut_stream_after(self, k: int, label: str | None = None, n: int = 1) -> None:
        """Drop the connection after `k` stream chunks."""
        self._add(Fault("cut", label, n, after=k))

    def in_band_error(
        self, label: str | None = None, n: int = 1, after: int = 0, echo_credentials: bool = False
    ) -> None:
        """A 200 stream whose event number `after` (the first by default) is an in-band error.

        `echo_credentials` quotes the credential the request carried in its message.
        """
        self._add(Fault("in_band", label, n, after=after, echo=echo_credentials))

    def malformed(self, label: str | None = None, n: int = 1) -> None:
        """A 200 whose body does not parse as the protocol."""
        self._add(Fault("malformed", label, n))

    def without_usage(self, label: str | None = None, n: int = 1) -> None:
        """Answers with no usage (as some OpenAI-compatible servers send them), streams too."""
        self._add(Fault("no_usage", label, n))

    def proxy_page(self, label: str | None = None, n: int = 1) -> None:
        """A 200 that is an HTML page, as a captive portal or a misconfigured proxy sends."""
        self._add(Fault("proxy_page", label, n))

    def answer_without_tools(self, label: str | None = None) -> None:
        """Answer in text even when tools are offered (an agent's loop then ends at once)."""
        self._add(Fault("no_tools", label, None))

    def reset(self) -> None:
        """Forget faults and logged requests.

        A request that arrived before (one an earlier test left waiting out a delay) takes none
        of the faults armed after: it would use up a failure meant for the next test's requests.
        """
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self._generation += 1

    def labels(self) -> list[str]:
        """The label of every request so far, in order."""
        with self._lock:
            return [r.label for r in self.requests]

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, kind: str, label: str) -> Fault | None:
        with self._lock:
            if _arrived_in.get() != self._generation:
                return None
            for fault in self._faults:
                if fault.kind == kind and fault.label in (None, label) and fault.remaining != 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    # --- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        wire = next((w for w in WIRES if w.matches(path)), None)
        if wire is None:
            return web.json_response({"error": {"message": f"no fake route for {path}"}}, status=404)
        label = path.strip("/").split("/", 1)[0]
        _arrived_in.set(self._generation)
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query)
        logged = Logged(label, wire.PROTOCOL, request.method, path, query, headers, body, time.time())
        with self._lock:
            self.requests.append(logged)
        if (fault := self._take("delay_headers", label)) is not None:
            await asyncio.sleep(fault.seconds)
        if not wire.authorized(headers):
            return _error(wire, wire.AUTH_STATUS, "missing or invalid credentials")
        if (fault := self._take("fail", label)) is not None:
            response = _error(wire, fault.status, _failure(fault, label, headers, query), fault.retry_after)
            response.headers.update(fault.headers or {})
            return response
        problem = wire.validate(body, path, headers) if wire is anthropic_wire else wire.validate(body, path)
        if problem is not None:
            return _error(wire, 400, problem)
        streaming = _is_stream(wire, path, body)
        request_id = f"fake{next(self._ids):06d}"
        plan = self._plan(wire, body, path, label)
        if (broken := self._broken_answer(wire, label, streaming)) is not None:
            return broken
        no_usage = self._take("no_usage", label) is not None
        if not streaming:
            answer = wire.answer(plan, request_id)
            return web.Response(
                body=_without_usage(answer) if no_usage else answer,
                headers={"content-type": "application/json"},
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not no_usage
        chunks = wire.stream(plan, request_id, include_usage)
        try:
            return await self._stream(request, wire, label, chunks, logged)
        except asyncio.CancelledError:
            logged.outcome = "aborted"
            raise

    def _broken_answer(self, wire: ModuleType, label: str, streaming: bool) -> web.Response | None:
        """A 200 that is no answer, when one is due: an HTML page, or a body that does not parse."""
        if self._take("proxy_page", label) is not None:
            page = b"<html><head><title>Gateway</title></head><body>Please sign in</body></html>"
            return web.Response(body=page, headers={"content-type": "text/html; charset=utf-8"})
        if self._take("malformed", label) is not None:
            content_type = STREAM_TYPES[wire.PROTOCOL] if streaming else "application/json"
            return web.Response(body=b'{"this is": not json', headers={"content-type": content_type})
        return None

    def _plan(self, wire: ModuleType, body: Any, path: str, label: str) -> Plan:
        ask = wire.ask(body, path)
        if self._take("no_tools", label) is not None:
            ask.tools_allowed = False
        return plan_for(ask, label)

    async def _count_tokens(self, request: web.Request) -> web.Response:
        """Anthropic's counting endpoint: the plan's input tokens, with Anthropic's own checks."""
        label = request.path.strip("/").split("/", 1)[0]
        body = await request.json()
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append(
                Logged(label, "anthropic_count_tokens", "POST", request.path, {}, headers, body, time.time())
            )
        if not anthropic_wire.authorized(headers):
            return _error(anthropic_wire, 401, "missing or invalid credentials")
        extra = set(body) - {"model", "messages", "system", "tools", "tool_choice", "thinking"}
        if extra or not body.get("messages"):
            return _error(
                anthropic_wire, 400, f"{sorted(extra)[0] if extra else 'messages'}: not permitted here"
            )
        plan = plan_for(anthropic_wire.ask(body, request.path), label)
        return web.json_response({"input_tokens": plan.input_tokens})

    async def _stream(
        self, request: web.Request, wire: ModuleType, label: str, chunks: list[bytes], logged: Logged
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"content-type": STREAM_TYPES[wire.PROTOCOL], "cache-control": "no-cache"}
        )
        await response.prepare(request)
        if (fault := self._take("delay_first_byte", label)) is not None:
            await asyncio.sleep(fault.seconds)
        in_band = self._take("in_band", label)
        if in_band is not None:
            message = (
                _failure(in_band, label, dict(request.headers), dict(request.query)) if in_band.echo else None
            )
            chunks = [*chunks[: in_band.after], wire.in_band_error(message)]
        cut = self._take("cut", label)
        slow = self._take("slow", label)
        for number, chunk in enumerate(chunks):
            if cut is not None and number == cut.after:
                logged.outcome = "cut"
                assert request.transport is not None
                request.transport.close()
                return response
            if slow is not None and number >= slow.after:
                await asyncio.sleep(slow.seconds)
            try:
                await response.write(chunk)
            except ConnectionError:  # the caller went away: what the gateway does on a disconnect
                logged.outcome = "aborted"
                return response
        if in_band is None:
            await response.write_eof()
        return response


def _without_usage(answer: bytes) -> bytes:
    data = json.loads(answer)
    data.pop("usage", None)
    return json.dumps(data).encode()


def _is_stream(wire: ModuleType, path: str, body: Any) -> bool:
    if wire is gemini_wire:
        return path.endswith(":streamGenerateContent")
    if wire is bedrock_wire:
        return path.endswith("/converse-stream")
    if wire is anthropic_wire and anthropic_wire.is_vertex(path):
        return path.endswith(":streamRawPredict") or bool(body.get("stream"))
    return bool(body.get("stream"))


def _failure(fault: Fault, label: str, headers: dict[str, str], query: dict[str, str]) -> str:
    """A failure's message; with `echo`, quoting the credential the request carried."""
    message = f"fake {label} failure ({fault.status})"
    if fault.echo:
        sent = [headers.get(h, "") for h in ("authorization", "x-api-key", "x-goog-api-key", "api-key")]
        message += f": you sent {' '.join(s for s in sent if s)} {query.get('key', '')}"
    return message


def _error(wire: ModuleType, status: int, message: str, retry_after: float | None = None) -> web.Response:
    headers, body = wire.error(status, message, retry_after)
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    return web.Response(status=status, body=body, headers=headers)
