"""The gateway's own OpenAPI 3.1 document, served at `GET /openapi.json`.

It describes what this gateway accepts and answers: the three chat doors (OpenAI Chat
Completions, Anthropic Messages, OpenAI Responses) with the fields every request needs and
room for the rest (each protocol's full schema belongs to its owner), the routing and token
counting helpers, health and metrics, and the admin API. Every error is documented in the
shape the caller's protocol uses. The test suite fuzzes the gateway against this document
with schemathesis, so a route or status missing here fails there.
"""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_OPENAI_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "param": {"type": ["string", "null"]},
            },
        }
    },
}
_ANTHROPIC_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"const": "error"},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string"},
        "content": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "null"}]},
    },
}
_OBJECT: dict[str, Any] = {"type": "object"}
_STRING: dict[str, Any] = {"type": "string"}
_SSE: dict[str, Any] = {"schema": _STRING}


def _errors(schema: dict[str, Any], *statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _ERROR_MEANINGS[status],
            "content": {"application/json": {"schema": schema}},
        }
        for status in statuses
    }


_ERROR_MEANINGS = {
    400: "The request is malformed, or the provider refused it as such",
    401: "A key is needed and none (or an unknown one) was sent",
    403: "The key may not do this (model, provider, admin route)",
    404: "No such model, key or route",
    405: "The route exists but not for this method",
    413: "The body is over limits.max_body_mb",
    429: "A key's limit or budget, or every allowed provider's rate limit; see Retry-After",
    500: "A gateway bug: reported in the caller's dialect, with the traceback in the log",
    502: "The provider answered with an error or something unreadable",
    503: "Every allowed provider is overloaded or down, or the ledger cannot be written",
    504: "A provider deadline passed",
}
_CHAT_ERRORS = (400, 401, 403, 404, 413, 429, 502, 503, 504)


def _door(summary: str, schema: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": _body(schema),
            "responses": {
                "200": {
                    "description": "The answer, whole or as server-sent events (`stream: true`)",
                    "content": {"application/json": {"schema": _OBJECT}, "text/event-stream": _SSE},
                },
                **_errors(error, *_CHAT_ERRORS),
            },
        }
    }


def _json_get(summary: str, *errors: int, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _OBJECT}}},
            **_errors(_OPENAI_ERROR, *errors),
        },
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": _STRING, "description": description}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def openapi_document(version: str) -> dict[str, Any]:
    """The document for this gateway version."""
    chat = {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string"},
            "messages": {"type": "array", "items": _MESSAGE},
            "stream": {"type": "boolean"},
            "max_tokens": {"type": "integer", "minimum": 1},
            "tools": {"type": "array", "items": _OBJECT},
        },
    }
    messages = {
        "type": "object",
        "required": ["model", "max_tokens", "messages"],
        "properties": {
            "model": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1},
            "messages": {"type": "array", "items": _MESSAGE},
            "system": {"anyOf": [{"type": "string"}, {"type": "array"}]},
            "stream": {"type": "boolean"},
        },
    }
    responses = {
        "type": "object",
        "required": ["model", "input"],
        "properties": {
            "model": {"type": "string"},
            "input": {"anyOf": [{"type": "string"}, {"type": "array", "items": _OBJECT}]},
            "instructions": {"type": "string"},
            "stream": {"type": "boolean"},
        },
    }
    counted = {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {"model": {"type": "string"}, "messages": {"type": "array", "items": _MESSAGE}},
    }
    key_fields = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "policy": {"anyOf": [{"type": "string"}, _OBJECT]},
            "models": {"type": "array", "items": {"type": "string"}},
            "providers": {"type": "array", "items": {"type": "string"}},
            "budget_usd": {"type": ["number", "string"]},
            "budget_period": {"enum": ["day", "week", "month", "total"]},
            "rpm": {"type": "integer", "minimum": 1},
            "tpm": {"type": "integer", "minimum": 1},
            "expires": {"type": "string"},
        },
    }
    json_body = {"application/json": {"schema": _OBJECT}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "modelrouter",
            "version": version,
            "description": "OpenAI and Anthropic APIs in, any provider the caller's terms allow out.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            }
        },
        "security": [{"bearer": []}, {"apiKey": []}, {}],
        "paths": {
            "/v1/chat/completions": _door("OpenAI Chat Completions", chat, _OPENAI_ERROR),
            "/v1/messages": _door("Anthropic Messages", messages, _ANTHROPIC_ERROR),
            "/v1/responses": _door("OpenAI Responses (stateless)", responses, _OPENAI_ERROR),
            "/v1/messages/count_tokens": {
                "post": {
                    "summary": "Count input tokens (the provider's counter, or an estimate marked as such)",
                    "requestBody": _body(counted),
                    "responses": {
                        "200": {"description": "OK", "content": json_body},
                        **_errors(_ANTHROPIC_ERROR, 400, 401, 403, 404, 413, 502, 503, 504),
                    },
                }
            },
            "/v1/models": {"get": _json_get("The models this gateway can route", 401, 403)},
            "/v1/route": {
                "post": {
                    "summary": "The routing decision for a model and policy, with reasons",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["model"],
                                    "properties": {"model": {"type": "string"}, "route": _OBJECT},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "OK", "content": json_body},
                        **_errors(_OPENAI_ERROR, 400, 401, 403, 404, 413),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health: ok, degraded (and why) or down",
                    "security": [{}],
                    "responses": {
                        "200": {"description": "Serving", "content": json_body},
                        "503": {"description": "Down", "content": json_body},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "security": [{}],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [{}],
                    "responses": {"200": {"description": "OK", "content": json_body}},
                }
            },
            "/admin/keys": {
                "get": _json_get("Virtual keys (master key only)", 401, 403),
                "post": {
                    "summary": "Create a virtual key; the answer holds it, shown this once (master key only)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": key_fields}},
                    },
                    "responses": {
                        "201": {"description": "Created", "content": json_body},
                        **_errors(_OPENAI_ERROR, 400, 401, 403, 413),
                    },
                },
            },
            "/admin/keys/{ref}": {
                "delete": {
                    "summary": "Revoke a key by id, name or prefix (master key only)",
                    "parameters": [
                        {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "Revoked", "content": json_body},
                        **_errors(_OPENAI_ERROR, 400, 401, 403, 404),
                    },
                }
            },
            "/admin/usage": {
                "get": _json_get(
                    "Spend and tokens, totalled or grouped (master key only)",
                    400,
                    401,
                    403,
                    parameters=[
                        _query("since", "ISO date/time or a span like 7d"),
                        _query("until", "ISO date/time or a span like 7d"),
                        _query("group_by", "key, model, provider or day"),
                        _query("records", "true to include each request"),
                    ],
                )
            },
        },
    }
