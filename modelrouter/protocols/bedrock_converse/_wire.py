"""Bedrock Converse vocabulary shared by the request, response and stream modules."""

from __future__ import annotations

from typing import Any, Final

from modelrouter import errors, ir

PROTOCOL: Final = "bedrock_converse"
ORIGIN: Final = "bedrock"
"""The `ReasoningPart.origin` of reasoning signed by Bedrock."""

STOP_REASONS: Final[dict[str, ir.StopReason]] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "model_context_window_exceeded": "context_window_exceeded",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}

EXCEPTION_STATUS: Final = {
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "modelnotreadyexception": 429,
    "serviceunavailableexception": 503,
    "internalserverexception": 500,
    "modelstreamerrorexception": 424,
    "modelerrorexception": 424,
    "modeltimeoutexception": 408,
    "validationexception": 400,
    "accessdeniedexception": 403,
    "resourcenotfoundexception": 404,
}
"""Bedrock exception names (lower-cased, as headers and stream events spell them both ways) -> status."""

ERROR_CLASSES: Final[dict[str, type[errors.UpstreamError]]] = {
    "throttlingexception": errors.UpstreamRateLimited,
    "servicequotaexceededexception": errors.UpstreamRateLimited,
    "modelnotreadyexception": errors.UpstreamOverloaded,
    "serviceunavailableexception": errors.UpstreamOverloaded,
    "internalserverexception": errors.UpstreamServerError,
    "modelerrorexception": errors.UpstreamServerError,
    "modelstreamerrorexception": errors.UpstreamServerError,
    "modeltimeoutexception": errors.UpstreamTimeout,
    "accessdeniedexception": errors.UpstreamAuthError,
    "unrecognizedclientexception": errors.UpstreamAuthError,
    "expiredtokenexception": errors.UpstreamAuthError,
    "invalidsignatureexception": errors.UpstreamAuthError,
    "missingauthenticationtokenexception": errors.UpstreamAuthError,
    "incompletesignatureexception": errors.UpstreamAuthError,
}


def stop_to_ir(reason: Any) -> ir.StopReason:
    """Converse's stopReason as an IR stop reason."""
    return STOP_REASONS.get(str(reason), "other")


def usage_to_ir(usage: dict[str, Any] | None) -> ir.Usage:
    """Converse usage: `inputTokens` excludes cache reads and writes, which the IR's input includes."""
    if not usage:
        return ir.Usage()
    read = int(usage.get("cacheReadInputTokens") or 0)
    write = int(usage.get("cacheWriteInputTokens") or 0)
    return ir.Usage(
        input_tokens=int(usage.get("inputTokens") or 0) + read + write,
        output_tokens=int(usage.get("outputTokens") or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )
