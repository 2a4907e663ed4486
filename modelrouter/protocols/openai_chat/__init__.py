"""OpenAI Chat Completions <-> IR: the gateway's OpenAI front door and every OpenAI-compatible provider.

Client side (a client speaks OpenAI to the gateway): `decode_request`, `encode_response`,
`StreamEncoder`, `encode_error`. Provider side (the gateway speaks OpenAI to OpenAI, Azure
OpenAI, xAI, DeepSeek, OpenRouter or a local server): `encode_request`, `decode_response`,
`StreamDecoder`, `decode_error`. Wire reference: shared/reference/providers.md sections 1, 6, 7.
Modules: `request_decode` (+ `request_options`, `_validate`), `request_encode`, `response`,
`stream_decode`, `stream_encode`, `errors`, and `_common` for what both sides share.

Rules (what moves, what is dropped, what is refused):

* **System text.** Every `system` and `developer` message, wherever it stands, is appended to
  `Request.system` in order; a mid-conversation one therefore becomes a leading instruction
  (the IR, like Anthropic and Gemini, has system text only ahead of the turns). Encoding
  writes one leading `system` message per system text part (`system` rather than
  `developer`, because every compatible server knows it and OpenAI maps it for reasoning
  models).
* **Tool results.** `tool` messages become `ToolResultPart`s in a user turn; a run of
  consecutive `tool` messages becomes one user turn. The result's `name` is filled from the
  assistant call with that id. Encoding writes each result as its own `tool` message ahead of
  the rest of the user turn (so text placed before tool results moves after them). A tool
  result's images and documents cannot ride in a `tool` message (text only): they move into
  the user message that follows. `is_error` has no field and is dropped.
* **Content.** Images by https URL stay URLs; `data:` URLs become base64 `ImagePart`s.
  `file` parts need inline `file_data` (a base64 data URL); a `file_id` names a file stored at
  OpenAI and is refused, as are audio input, `n` other than 1, `logprobs`, audio output and
  the legacy `functions`/`function_call`. Encoding: a document by URL is refused (OpenAI
  cannot fetch one), a `text/*` document is sent as its decoded text, other documents as
  `file` parts (default filename `document.pdf`/`document`). `cache_control` on a content
  part (OpenRouter's extension) is read but never written. A message's `name` is dropped.
  Images or documents inside an answer (Gemini image output) have no field in a chat
  completion and are dropped from what the client receives.
* **Output limit.** `max_completion_tokens` and the deprecated `max_tokens` both decode to
  `Request.max_tokens` (`max_completion_tokens` wins when both are sent). Encoding writes
  `max_completion_tokens`, which OpenAI requires for reasoning models; pass
  `max_tokens_field="max_tokens"` for servers that read only the old name (DeepSeek).
* **Reasoning effort.** `reasoning_effort` <-> `ReasoningConfig.effort` ("none" also sets
  `enabled=False`). OpenRouter's `reasoning` object is read into the IR for other targets and
  kept verbatim in `extra`; when it is forwarded, `reasoning_effort` is not added beside it.
  `enabled`, `budget_tokens` and `include_thoughts` alone have no Chat Completions field and
  are dropped (OpenAI rejects `reasoning_effort` on models without reasoning, so nothing is
  guessed).
* **Reasoning text.** Decoded from `reasoning_details` (OpenRouter; carries signatures and
  encrypted blobs; its `format` gives the origin: anthropic-claude-v1 -> "anthropic",
  google-gemini-v1 -> "gemini", openai-responses-v1 -> "openai", xai-responses-v1 -> "xai",
  unknown -> "openrouter", other formats verbatim), else `reasoning_content` (origin
  "deepseek", the field DeepSeek introduced and xAI, vLLM and others copy), else
  `reasoning` (origin "openrouter"). Clients receive reasoning both as `reasoning_content`
  (text, for display) and as `reasoning_details` (every part with its signature and origin
  as `format`), so a client that echoes the assistant message returns it intact.
  Sending earlier turns' reasoning to a provider follows `encode_request(reasoning_echo=...)`:
  "auto" (default) echoes only reasoning of origin "deepseek" as `reasoning_content`, and
  then, because DeepSeek's thinking mode rejects a tool-call turn without the field, gives
  every assistant turn with tool calls `reasoning_content` ("" when it has none); other
  origins are dropped, since OpenAI and Azure take no reasoning input. "reasoning_content"
  does the same for reasoning of any origin; "reasoning_details" writes OpenRouter's form
  (use it for OpenRouter, whose Anthropic and Gemini models need their signatures back);
  "none" sends no reasoning and no tool-call signatures.
* **Gemini thought signatures on tool calls.** Clients see them inside the tool-call id:
  `<id>__thought__<base64url(signature)>` (`embed_signature`); `decode_request` splits the ids
  of assistant `tool_calls` and of `tool` messages back (`split_tool_call_id`), so a client
  that only echoes ids keeps Gemini 3 tool loops valid. Provider answers are split the same
  way, so a modelrouter behind another modelrouter keeps the signature too. Towards providers
  the signature goes in Google's OpenAI-compatible field `extra_content.google.thought_signature`,
  which is also read from responses and client requests.
* **Tools.** Only `function` tools; `custom` tools and `allowed_tools` choices are refused.
  `tool_choice` and `parallel_tool_calls` are written only with tools (OpenAI rejects them
  otherwise); `parallel_tool_calls` alone decodes to `ToolChoice(mode="auto")`, which encodes
  as an explicit `"auto"`. A `json_schema` response format without a name is sent as
  "response" (OpenAI requires one).
* **Stop reasons.** In: stop -> end_turn (tool_use when the message has tool calls, since some
  servers say "stop" then), length -> max_tokens, tool_calls/function_call -> tool_use,
  content_filter -> content_filter, error (OpenRouter) -> error, a `refusal` -> refusal,
  anything else -> other. Out: end_turn, stop_sequence, pause_turn, error and other -> stop;
  max_tokens and context_window_exceeded -> length; tool_use -> tool_calls; content_filter and
  refusal -> content_filter (OpenAI's `finish_reason` has no other values).
* **Usage.** prompt_tokens <-> input_tokens (cache included, as in the IR),
  completion_tokens <-> output_tokens (reasoning included), `prompt_tokens_details.cached_tokens`
  (else DeepSeek's `prompt_cache_hit_tokens`) <-> cache_read_tokens,
  `prompt_tokens_details.cache_write_tokens` <-> cache_write_tokens,
  `completion_tokens_details.reasoning_tokens` <-> reasoning_tokens. `cache_write_1h_tokens`
  has no field. Provider streams always ask for `include_usage` (the ledger needs it); the
  client stream carries usage only when the client asked. Other `stream_options` fields
  (`include_obfuscation`) are dropped.
* **Extra fields.** Unknown top-level request fields go to `Request.extra` and are forwarded
  only to OpenAI-compatible providers (`source_protocol == "openai_chat"`), except the
  gateway's routing fields `route`, `provider` and `models`, which are never forwarded.
  Response fields kept: `system_fingerprint`, `service_tier`; Azure's content-filter
  annotations, OpenRouter's `provider` and `cost`, and annotations are dropped. Only the first
  choice of a response is read.
* **Streams.** See `stream_decode` and `stream_encode`. A provider stream that ends without
  `data: [DONE]` (or an error chunk) yields `StreamError(kind="stream_truncated")`, even after a
  `finish_reason`, because the usage chunk comes after it.
"""

from __future__ import annotations

from modelrouter.protocols.openai_chat._common import (
    PROTOCOL,
    ROUTING_FIELDS,
    SIGNATURE_SEPARATOR,
    embed_signature,
    split_tool_call_id,
)
from modelrouter.protocols.openai_chat.errors import decode_error, encode_error
from modelrouter.protocols.openai_chat.passthrough import passthrough_request, relayed_response
from modelrouter.protocols.openai_chat.request_decode import decode_request
from modelrouter.protocols.openai_chat.request_encode import MaxTokensField, ReasoningEcho, encode_request
from modelrouter.protocols.openai_chat.response import decode_response, encode_response
from modelrouter.protocols.openai_chat.stream_decode import StreamDecoder
from modelrouter.protocols.openai_chat.stream_encode import StreamEncoder

__all__ = [
    "PROTOCOL",
    "ROUTING_FIELDS",
    "SIGNATURE_SEPARATOR",
    "MaxTokensField",
    "ReasoningEcho",
    "StreamDecoder",
    "StreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "embed_signature",
    "encode_error",
    "encode_request",
    "encode_response",
    "passthrough_request",
    "relayed_response",
    "split_tool_call_id",
]
