"""The internal representation (IR): the hub every wire protocol maps to and from.

Each codec in `modelrouter.protocols` translates between its own wire format and these
types, so N codecs give every client x provider pair without N x M translators.

Conventions that every codec must keep:

* `Usage.input_tokens` is the *whole* prompt, cache reads and writes included (OpenAI's
  convention; Anthropic's `input_tokens` excludes them, so its codec adds them back).
* `Usage.output_tokens` includes reasoning tokens; `reasoning_tokens` is a breakdown.
* Tool-call arguments travel as the raw JSON text the model produced (`arguments`), so a
  stream of argument fragments never has to be parsed mid-way; `ToolCallPart.input()`
  parses it when a target needs an object.
* Reasoning carries its `origin` (the protocol family that produced the signature), because
  a signature is only valid when sent back to the same family; encoders drop reasoning whose
  origin they cannot honour (a documented rule, never a silent garble of the text).
* Stream events follow one order: `StreamStart`, then for each part `PartStart`, its deltas,
  `PartStop`; `UsageUpdate` may come at any point; `StreamEnd` (or `StreamError`) ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import orjson

_INT64 = 1 << 63
"""Token counts must fit a signed 64-bit integer (the ledger's columns, JSON encoders)."""

Role: TypeAlias = Literal["user", "assistant"]

StopReason: TypeAlias = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "content_filter",
    "refusal",
    "pause_turn",
    "context_window_exceeded",
    "error",
    "other",
]
"""Why generation stopped, normalised across protocols (Anthropic's vocabulary, extended)."""


@dataclass(slots=True, kw_only=True)
class CacheControl:
    """A prompt-caching breakpoint (Anthropic `cache_control`); dropped for targets without one."""

    type: str = "ephemeral"
    ttl: str | None = None


@dataclass(slots=True, kw_only=True)
class TextPart:
    """Plain text."""

    text: str
    cache_control: CacheControl | None = None


@dataclass(slots=True, kw_only=True)
class ImagePart:
    """An image, inline (`data`, base64 without the data-URL prefix) or by `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    detail: str | None = None
    cache_control: CacheControl | None = None


@dataclass(slots=True, kw_only=True)
class DocumentPart:
    """A document (PDF or text), inline base64 `data` or by `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    filename: str | None = None
    cache_control: CacheControl | None = None


@dataclass(slots=True, kw_only=True)
class ReasoningPart:
    """Model reasoning: visible thinking text and/or an opaque signature or redacted blob.

    `origin` names the protocol family whose signature this is (for example
    "anthropic", "gemini", "bedrock", "openai"); `redacted` holds Anthropic's
    `redacted_thinking.data` or Bedrock's `redactedContent`.
    """

    text: str = ""
    signature: str | None = None
    redacted: str | None = None
    origin: str | None = None


@dataclass(slots=True, kw_only=True)
class ToolCallPart:
    """A call the model asks the client to run; `arguments` is the raw JSON text."""

    id: str
    name: str
    arguments: str = "{}"
    signature: str | None = None
    """Gemini's `thoughtSignature` on a function-call part, which must be echoed back."""

    def input(self) -> Any:
        """The arguments parsed as JSON (an empty string means no arguments)."""
        return orjson.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(slots=True, kw_only=True)
class ToolResultPart:
    """The client's answer to a tool call."""

    tool_call_id: str
    content: list[TextPart | ImagePart | DocumentPart] = field(default_factory=list)
    is_error: bool = False
    name: str | None = None
    """The called tool's name, which Gemini requires; decoders fill it from the history."""
    cache_control: CacheControl | None = None


Part: TypeAlias = TextPart | ImagePart | DocumentPart | ReasoningPart | ToolCallPart | ToolResultPart


@dataclass(slots=True, kw_only=True)
class Message:
    """One conversation turn; tool results travel in user turns (as in Anthropic and Gemini)."""

    role: Role
    content: list[Part] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class ToolSpec:
    """A function the model may call, with its JSON Schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    cache_control: CacheControl | None = None


@dataclass(slots=True, kw_only=True)
class ToolChoice:
    """Whether and which tool the model must call."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None
    parallel: bool | None = None
    """False forbids parallel calls (OpenAI `parallel_tool_calls`, Anthropic `disable_parallel_tool_use`)."""


@dataclass(slots=True, kw_only=True)
class ResponseFormat:
    """Structured output: free text, any JSON object, or JSON matching `schema`."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(slots=True, kw_only=True)
class ReasoningConfig:
    """How much the model should think; `enabled=False` turns thinking off where it can be."""

    enabled: bool | None = None
    effort: str | None = None
    budget_tokens: int | None = None
    include_thoughts: bool | None = None


@dataclass(slots=True, kw_only=True)
class Request:
    """A chat request, independent of the protocol it arrived in or leaves by."""

    model: str
    messages: list[Message] = field(default_factory=list)
    system: list[TextPart] = field(default_factory=list)
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    reasoning: ReasoningConfig | None = None
    stream: bool = False
    include_usage: bool = False
    """OpenAI `stream_options.include_usage`: whether the client asked for a usage chunk."""
    user: str | None = None
    cache_control: CacheControl | None = None
    """Anthropic's top-level automatic cache breakpoint."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields of the source protocol with no IR meaning, kept for a same-protocol target only."""
    source_protocol: str | None = None
    source: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The client's decoded body as it came (never modified): a same-protocol provider gets it
    back nearly untouched (`passthrough_request` of the codec) instead of a re-encoding."""
    source_headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Request headers of the source protocol that a same-protocol provider gets with the
    client's own body (`anthropic-version`)."""


@dataclass(slots=True, kw_only=True)
class Usage:
    """Token counts of one response (see the module docstring for what each includes)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    """The part of `cache_write_tokens` written with a one-hour TTL (priced higher)."""
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        """A count no ledger column or JSON encoder can hold is a provider's garbage, refused here."""
        for value in (
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.cache_write_1h_tokens,
            self.reasoning_tokens,
        ):
            if not -_INT64 <= value < _INT64:
                raise ValueError(f"a token count of {value} is out of range")

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.input_tokens + self.output_tokens


BILLED_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
)
"""The `Usage` counts prices apply to (reasoning is part of the output), in genai-prices' order."""


@dataclass(slots=True, kw_only=True)
class Response:
    """A complete (non-streamed) model answer."""

    id: str
    model: str
    content: list[Part] = field(default_factory=list)
    stop_reason: StopReason = "end_turn"
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    created: int | None = None
    """Unix seconds, where the provider reports it."""
    extra: dict[str, Any] = field(default_factory=dict)


# --- stream events -----------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class StreamStart:
    """The answer begins; `usage` carries what is known up front (the prompt tokens)."""

    id: str
    model: str
    usage: Usage | None = None
    created: int | None = None


@dataclass(slots=True, kw_only=True)
class PartStart:
    """A content part begins at `index`; `part` carries its fixed fields (tool id and name)."""

    index: int
    part: TextPart | ReasoningPart | ToolCallPart


@dataclass(slots=True, kw_only=True)
class TextDelta:
    """More text for the text part at `index`."""

    index: int
    text: str


@dataclass(slots=True, kw_only=True)
class ReasoningDelta:
    """More thinking text, or the signature, for the reasoning part at `index`."""

    index: int
    text: str = ""
    signature: str | None = None


TEXT_DELTAS = (TextDelta, ReasoningDelta)
"""For `isinstance` on the stream path: a tuple built once (an `A | B` written in the call
builds a union object on every call, twice the cost of the check)."""


@dataclass(slots=True, kw_only=True)
class ToolArgsDelta:
    """A fragment of the JSON arguments of the tool call at `index`."""

    index: int
    fragment: str


@dataclass(slots=True, kw_only=True)
class PartStop:
    """The part at `index` is complete."""

    index: int


@dataclass(slots=True, kw_only=True)
class UsageUpdate:
    """Cumulative usage so far (later updates replace earlier ones)."""

    usage: Usage


@dataclass(slots=True, kw_only=True)
class StreamEnd:
    """The answer finished normally."""

    stop_reason: StopReason
    stop_sequence: str | None = None
    usage: Usage | None = None


@dataclass(slots=True, kw_only=True)
class StreamError:
    """The provider reported an error inside the stream (after a 200 status)."""

    kind: str
    message: str
    status: int | None = None
    """The HTTP status the error stands for, where the provider says (529 for overload)."""


StreamEvent: TypeAlias = (
    StreamStart
    | PartStart
    | TextDelta
    | ReasoningDelta
    | ToolArgsDelta
    | PartStop
    | UsageUpdate
    | StreamEnd
    | StreamError
)
