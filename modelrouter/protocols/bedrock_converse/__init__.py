"""Bedrock Converse codec, provider side: `converse` and `converse-stream` (AWS event-stream).

`encode_request`, `decode_response`, `StreamDecoder` and `decode_error`. Bedrock is reached by
the OpenAI and Anthropic doors; the adapter (`providers/bedrock.py`) puts the model id in the
URL and signs the call.

Rules (what maps to what, what is dropped, what is refused):

* Turns. Consecutive same-role turns are merged; blank text is dropped; a conversation must
  start with a user turn (else refused). System text goes to `system`.
* Media. Inline images (PNG, JPEG, GIF, WebP; the type sniffed when missing) and documents
  (pdf, csv, doc, docx, xls, xlsx, html, txt, md; a document without a type is a PDF) travel as
  base64 `bytes`; `s3://` URLs as `s3Location`; other URLs are refused (Converse cannot fetch).
  Document names are reduced to the characters Bedrock allows; `detail` is dropped.
* Caching. `cache_control` on a text, media, tool or tool-result part adds a `cachePoint`
  after it (with its TTL); the top-level `cache_control` is dropped.
* Tools. `ToolSpec` -> `toolSpec {name, description, inputSchema.json}` (`strict` dropped).
  `tool_choice` auto / required / tool -> `{auto}` / `{any}` / `{tool: {name}}`; "none" has no
  Converse form: without tool history `toolConfig` is left out, with it (Bedrock then requires
  `toolConfig`) the tools stay offered under auto. `parallel` is dropped. Tool-use ids are
  reduced to `[A-Za-z0-9_-]` (64 characters), the same way in `toolUse` and `toolResult`.
  Results keep text, images and documents; an empty result is one empty text block; errors
  carry `status: error`.
* Reasoning. Only reasoning signed by Bedrock (origin "bedrock") is sent back, as
  `reasoningText {text, signature}` or `redactedContent`; other families' reasoning, and
  unsigned reasoning, are dropped (Bedrock rejects signatures it did not make). For Claude
  models (`anthropic.` in the model id) thinking goes in `additionalModelRequestFields`: a
  budget -> `{"type": "enabled", "budget_tokens"}`, enabled without budget -> `{"type":
  "adaptive"}`; `top_k` and the Anthropic client's `anthropic-beta` list (`anthropic_beta`) go
  there too. Other models get none of these (dropped).
* Generation. `max_tokens`, `temperature`, `top_p`, `stop` -> `inferenceConfig`. `json_schema`
  -> `outputConfig.textFormat` (the schema as a JSON string, with its name); `json_object`, `seed`
  and `user` have no Converse form and are dropped.
* Answers. `text`, `toolUse`, `reasoningContent` (text + signature, or redacted) map to IR
  parts; other blocks (citations, guard content) are skipped. Stop reasons: end_turn,
  tool_use, max_tokens, stop_sequence map one to one; guardrail_intervened and
  content_filtered -> `content_filter`; model_context_window_exceeded ->
  `context_window_exceeded`; malformed output or tool use -> `error`. Converse answers carry no
  id, so one is generated.
* Usage. `inputTokens` excludes cache reads and writes; the IR's input includes them
  (`cacheReadInputTokens` -> `cache_read_tokens`, `cacheWriteInputTokens` -> `cache_write_tokens`).
* Errors. The code from `x-amzn-ErrorType` (else the body's `__type`/`code`):
  Throttling/ServiceQuotaExceeded -> `UpstreamRateLimited`; ServiceUnavailable/ModelNotReady ->
  `UpstreamOverloaded`; InternalServer/ModelError -> `UpstreamServerError`; ModelTimeout ->
  `UpstreamTimeout`; AccessDenied and signature/token errors -> `UpstreamAuthError`;
  ValidationException about input length -> `ContextLengthExceeded`, else
  `UpstreamBadRequest`. In streams, exception messages become `StreamError` with Bedrock's
  status for that exception (serviceUnavailableException as `overloaded_error`, 503).
"""

from __future__ import annotations

from modelrouter.protocols.bedrock_converse._wire import ORIGIN, PROTOCOL
from modelrouter.protocols.bedrock_converse.errors import decode_error
from modelrouter.protocols.bedrock_converse.request_encode import encode_request
from modelrouter.protocols.bedrock_converse.response import decode_response
from modelrouter.protocols.bedrock_converse.stream_decode import StreamDecoder

__all__ = ["ORIGIN", "PROTOCOL", "StreamDecoder", "decode_error", "decode_response", "encode_request"]
