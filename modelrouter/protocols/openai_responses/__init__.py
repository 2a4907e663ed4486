"""OpenAI Responses API codec, client side: the gateway's `POST /v1/responses` door.

`decode_request`, `encode_response`, `StreamEncoder` and `encode_error`; upstream, requests go
by whichever protocol the routed offering speaks (the gateway never calls a Responses API).

Rules:

* Input. `instructions` and system/developer messages become the system prompt; `input` is a
  string or a list of items: messages (input_text, output_text, input_image by URL or data URL,
  input_file by data or URL), `function_call`, `function_call_output`, `reasoning` (its summary
  text; its encrypted content only means something to OpenAI and is dropped by other targets).
  Consecutive items of one role are one turn. Other item types and `file_id` references are
  refused (400).
* Tools. Function tools, also inside a `namespace` group (Codex sends those), become
  `ToolSpec`s; tools OpenAI runs itself (web_search, file_search, code_interpreter,
  image_generation, local_shell, computer_use, mcp) cannot run at another provider and are
  dropped, so the model sees the rest; unknown tool types are refused.
* State. The gateway stores no responses: `previous_response_id` and `background` are refused
  with a message that says to send the whole input; `store`, `include`, `truncation`,
  `metadata`, `service_tier`, `prompt_cache_key`, `safety_identifier` and `client_metadata`
  are accepted and ignored.
* Options. `tool_choice` and `parallel_tool_calls` -> `ToolChoice`;
  `text.format` json_schema / json_object -> `ResponseFormat`; `reasoning.effort` (none turns
  thinking off) and `reasoning.summary` (asks for thoughts) -> `ReasoningConfig`;
  `max_output_tokens`, `temperature`, `top_p`, `user` as they are.
* Output. Text parts -> one `message` item of `output_text`; tool calls -> `function_call`
  items (`call_id` is the IR call id); reasoning -> `reasoning` items with a summary. A stop at
  max tokens or by a content filter is `status: incomplete` with its reason. Usage: input
  (cached tokens in `input_tokens_details`), output (reasoning in `output_tokens_details`).
"""

from __future__ import annotations

from modelrouter.protocols.openai_responses.request_decode import ORIGIN, PROTOCOL, decode_request
from modelrouter.protocols.openai_responses.response import encode_error, encode_response
from modelrouter.protocols.openai_responses.stream_encode import StreamEncoder

__all__ = ["ORIGIN", "PROTOCOL", "StreamEncoder", "decode_request", "encode_error", "encode_response"]
