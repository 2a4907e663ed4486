"""Gemini `generateContent` codec, provider side: the Gemini API and Gemini on Vertex.

`encode_request`, `decode_response`, `StreamDecoder` (`streamGenerateContent?alt=sse`) and
`decode_error`. There is no Gemini front door; clients reach Gemini models through the OpenAI
and Anthropic doors.

Rules (what maps to what, what is dropped, what is refused):

* Turns. `user` and `assistant` become `user` and `model`; consecutive same-role turns are
  merged; empty text parts are dropped. System text goes to `systemInstruction`.
* Media. Inline images and documents become `inlineData` (an image's media type is sniffed from
  PNG/JPEG/GIF/WebP data when missing; a document without one is taken as PDF); `gs://` and
  http(s) URLs become `fileData` with the media type given or guessed from the file name, and a
  URL whose type cannot be told is refused. `detail` and `filename` are dropped.
* Tools. `ToolSpec` -> `functionDeclarations` with the full JSON Schema in
  `parametersJsonSchema` (`strict` and `cache_control` dropped). `tool_choice` auto / none /
  required / tool -> AUTO (omitted) / NONE / ANY / ANY with `allowedFunctionNames`; Gemini has no
  switch for parallel calls, so `parallel` is dropped. Calls keep their id and
  `thoughtSignature`; results become `functionResponse {id, name, response: {"result"|"error":
  text}}` (the name from the result, else from the call with that id, else refused), with any
  images in a result following it as `inlineData` parts.
* Reasoning. Reasoning whose origin is "gemini" goes back: thought text as a `thought` part with
  its signature, a signature-only part onto the part before it (where Gemini put it); reasoning
  from other families is dropped (Gemini rejects signatures it did not make). Config: disabled
  or effort "none" -> `thinkingBudget: 0`; `budget_tokens` -> `thinkingBudget`; else effort ->
  `thinkingLevel` (minimal/low/medium/high; xhigh -> HIGH); `include_thoughts` ->
  `includeThoughts`. Never both budget and level (Gemini refuses that).
* Generation. `max_tokens`, `temperature`, `top_p`, `top_k`, `stop` (at most 5, else refused),
  `seed` -> `generationConfig`. `json_schema` -> `responseMimeType: application/json` +
  `responseJsonSchema`; `json_object` -> the MIME type alone. `user`, `cache_control` (Gemini
  caches implicitly) and other protocols' `extra` fields are dropped.
* Answers. See `parts.py`: text joins, thoughts become reasoning with origin "gemini", function
  calls arrive whole (a missing id is generated, stable per answer), other part kinds are
  skipped. `finishReason` STOP is `end_turn`, or `tool_use` when the answer called functions;
  MAX_TOKENS -> `max_tokens`; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII and a
  blocked prompt -> `content_filter`; malformed or unexpected calls -> `error`.
* Usage. `promptTokenCount` (+ `toolUsePromptTokenCount`) is the input, cached tokens included
  (`cachedContentTokenCount` -> `cache_read_tokens`); `candidatesTokenCount + thoughtsTokenCount`
  is the output, `thoughtsTokenCount` the reasoning.
* Errors. 429 / RESOURCE_EXHAUSTED -> `UpstreamRateLimited` (`RetryInfo.retryDelay`, else
  Retry-After), 503 / UNAVAILABLE -> `UpstreamOverloaded`, 504 / 408 -> `UpstreamTimeout`,
  401 / 403 -> `UpstreamAuthError`, other 5xx -> `UpstreamServerError`, 400 about input tokens
  -> `ContextLengthExceeded`, other 4xx -> `UpstreamBadRequest`. A stream's `{"error": ...}`
  event is a `StreamError` (503 as `overloaded_error`).
"""

from __future__ import annotations

from modelrouter.protocols.gemini._wire import ORIGIN, PROTOCOL
from modelrouter.protocols.gemini.errors import decode_error
from modelrouter.protocols.gemini.request_encode import encode_request
from modelrouter.protocols.gemini.response import decode_response
from modelrouter.protocols.gemini.stream_decode import StreamDecoder

__all__ = ["ORIGIN", "PROTOCOL", "StreamDecoder", "decode_error", "decode_response", "encode_request"]
