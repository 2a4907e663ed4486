"""Anthropic Messages codec: the gateway's `/v1/messages` door and the Anthropic / Claude-on-Vertex upstream.

Client side (what Claude Code and the anthropic SDKs speak to the gateway): `decode_request`,
`encode_response`, `StreamEncoder`, `encode_error`. Provider side (what the gateway speaks to
Anthropic, or to Claude on Vertex with `encode_request(..., vertex=True)`): `encode_request`,
`decode_response`, `StreamDecoder`, `decode_error`.

Versions. Bodies target `anthropic-version: 2023-06-01` (`API_VERSION`), which the provider
adapter sends as a header (on Vertex the body carries `"anthropic_version": "vertex-2023-10-16"`).
With `api_version=API_VERSION_2026` ("2026-10-21", the SDK 2.x default) the body follows that
version's rules: `temperature`, `top_p` and `top_k` are dropped (the API rejects them even at
default values), a document in an assistant turn raises `BadRequest`, and on Vertex the body's
`anthropic_version` is "2026-10-21".

Rules where the two sides differ (what is dropped, what is refused):

* Reasoning signatures. Decoded thinking is stamped `origin="anthropic"`. Sending to Anthropic,
  reasoning whose origin is not in `SIGNATURE_ORIGINS` ({"anthropic"}) is dropped, as is
  Anthropic reasoning with neither signature nor redacted data: the API rejects a signature it
  did not make and a thinking block without one. Answering a client, reasoning from another
  family is shown as a thinking block with an empty signature (its text only); a foreign
  redacted blob without text is left out. A client echoing such a block back sends an empty
  signature, which decodes as `origin=None` and is therefore never forwarded to Anthropic.
* Messages. Consecutive same-role turns are merged (as the API does), both ways. Blank text
  blocks (empty or whitespace only) are dropped when encoding, as the API rejects them, and so
  are turns left empty. Tool-call ids are sent in the alphabet the API accepts
  (`[A-Za-z0-9_-]`, other characters become `_`, the same way in `tool_use` and `tool_result`). A
  `{"role": "system"}` message anywhere in `messages` (as Claude Code 2.x sends them) joins
  `system`, as OpenAI's codec does with system and developer messages; its position is not kept.
  Unknown content block types (server-tool blocks, search results, container uploads) are
  refused in requests and skipped in answers, with their stream deltas; citations are dropped.
* Media. Images travel as base64 (media type sniffed from the bytes when the IR lacks it) or
  URL; `detail` is dropped. Documents: PDF base64, plain text (the IR holds it as base64, like
  every inline document; any text/* type is sent as text/plain) or URL; `filename` <-> `title`;
  other types and the `file`/`content` sources are refused.
* Tools. `ToolSpec` <-> `{name, description, input_schema, strict, cache_control}`; other tool
  fields are dropped, and a schema without `type` is sent with `"type": "object"` (tool inputs
  are objects in every protocol; Anthropic requires the field). Server tools (a `tools` entry
  with a `type` other than "custom") cannot live in the IR: they are kept in
  `Request.extra["anthropic_server_tools"]` and sent again only to an Anthropic target.
  `tool_choice` auto/any/tool/none <-> auto/required/tool/none with `disable_parallel_tool_use`
  <-> `not parallel`; without tools, auto and none are omitted and the others refused. Tool-call
  arguments must be a JSON object; `ToolCallPart.signature` (Gemini) is dropped, as is
  `cache_control` on `tool_use` blocks (the IR has no place for it).
* Thinking. `{"type":"enabled","budget_tokens"}` <-> `enabled=True, budget_tokens`;
  `{"type":"adaptive"}` <-> `enabled=True` without budget; `{"type":"disabled"}` <-> `enabled=False`;
  `display` summarized/omitted <-> `include_thoughts` True/False; `output_config.effort` <->
  `effort` (also "minimal" -> "low", "none" -> thinking disabled; other values refused).
  No thinking budget is invented from an effort level.
* `max_tokens` is required by Anthropic: without one, `default_max_tokens` (4096) is sent, or
  `budget_tokens + default_max_tokens` when the thinking budget would not fit under it.
* Structured output. `output_config.format` json_schema <-> `response_format` json_schema (the
  IR's name, strict and description are dropped); the older top-level `output_format` is
  accepted on decode. `json_object` has no Anthropic equivalent and is dropped: OpenAI requires
  such a prompt to ask for JSON itself, so the model is still asked for JSON, only unenforced.
* Other fields. `metadata.user_id` <-> `user` (other metadata dropped); `seed` is dropped;
  `stop_sequences` <-> `stop`; top-level `cache_control` <-> `Request.cache_control`. Unknown
  top-level fields go to `Request.extra` and return only to an Anthropic target; the routing
  fields `route`, `provider` and `models` never leave the gateway.
* Stop reasons map one to one (`model_context_window_exceeded` <-> `context_window_exceeded`);
  toward clients `content_filter` becomes `refusal`, and `error`/`other` become `end_turn`.
  `stop_details` rides in `Response.extra`.
* Usage. Anthropic's `input_tokens` excludes cache reads and writes; the IR's includes them,
  so they are added on decode and subtracted on encode. `cache_creation.ephemeral_1h_input_tokens`
  <-> `cache_write_1h_tokens`, `output_tokens_details.thinking_tokens` <-> `reasoning_tokens`.
* Errors. Non-JSON bodies keep their text. 429 -> `UpstreamRateLimited` (`retry-after-ms` or
  `retry-after`), 529/503 or `overloaded_error` -> `UpstreamOverloaded`, 409 and other 5xx ->
  `UpstreamServerError`, 408 -> `UpstreamTimeout`, 401/402/403 -> `UpstreamAuthError` (402 is
  the gateway's billing, which another provider may not share), 400 "prompt is too long" ->
  `ContextLengthExceeded`, other 4xx -> `UpstreamBadRequest`. In streams, `event: error` becomes
  `StreamError(kind=<Anthropic type>, status=...)` with 529 for `overloaded_error`.
"""

from __future__ import annotations

from modelrouter.protocols.anthropic_messages._wire import (
    API_VERSION,
    API_VERSION_2026,
    DEFAULT_MAX_TOKENS,
    PROTOCOL,
    SERVER_TOOLS_KEY,
    SIGNATURE_ORIGINS,
)
from modelrouter.protocols.anthropic_messages.errors import decode_error, encode_error
from modelrouter.protocols.anthropic_messages.passthrough import passthrough_request, relayed_response
from modelrouter.protocols.anthropic_messages.request_decode import decode_request
from modelrouter.protocols.anthropic_messages.request_encode import encode_request
from modelrouter.protocols.anthropic_messages.response import decode_response, encode_response
from modelrouter.protocols.anthropic_messages.stream_decode import StreamDecoder
from modelrouter.protocols.anthropic_messages.stream_encode import StreamEncoder

__all__ = [
    "API_VERSION",
    "API_VERSION_2026",
    "DEFAULT_MAX_TOKENS",
    "PROTOCOL",
    "SERVER_TOOLS_KEY",
    "SIGNATURE_ORIGINS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "passthrough_request",
    "relayed_response",
]
