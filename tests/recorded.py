"""Loads the recorded real provider traffic in ../shared/fixtures/recorded (VCR cassettes).

The files are not part of this repository (a user's clone has no ../shared); tests that use
them call `cassette()` or `cassettes()`, which skip with a clear reason when they are absent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
RECORDED = SHARED / "fixtures" / "recorded" / "pydantic-ai" / "tests"
MISSING_REASON = f"recorded fixtures not found at {RECORDED} (they live in ../shared, beside the clone)"


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response, with bodies as bytes and parsed JSON."""

    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_json: Any
    """The request body parsed as JSON (None when it had none)."""
    status: int
    response_headers: dict[str, list[str]]
    response_body: bytes
    """The raw response bytes: JSON re-serialised compactly, SSE text, or AWS event-stream frames."""
    response_json: Any
    """The response body parsed as JSON, when it was JSON."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that also accepts the `!!binary` tags botocore-recorded files carry."""


def _binary(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    assert isinstance(node, yaml.ScalarNode)
    return base64.b64decode(str(loader.construct_scalar(node)))


_Loader.add_constructor("tag:yaml.org,2002:binary", _binary)


def _headers(raw: dict[str, list[Any]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, values in (raw or {}).items():
        out[name.lower()] = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return out


def _body(section: dict[str, Any]) -> tuple[bytes, Any]:
    if "parsed_body" in section:
        parsed = section["parsed_body"]
        return orjson.dumps(parsed), parsed
    body = section.get("body")
    if isinstance(body, dict):
        body = body.get("string")
    if body is None:
        return b"", None
    raw = body if isinstance(body, bytes) else str(body).encode()
    try:
        return raw, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw, None


def load(path: Path) -> list[Interaction]:
    """Parse one cassette file into its interactions."""
    document = yaml.load(path.read_text(), Loader=_Loader)
    interactions = []
    for item in document["interactions"]:
        if "request" not in item:
            raise ValueError(f"{path.name} is not an HTTP cassette (the xAI files record gRPC)")
        request, response = item["request"], item["response"]
        _, request_json = _body(request)
        response_body, response_json = _body(response)
        interactions.append(
            Interaction(
                method=request["method"],
                uri=request["uri"],
                request_headers=_headers(request.get("headers")),
                request_json=request_json,
                status=int(response["status"]["code"]),
                response_headers=_headers(response.get("headers")),
                response_body=response_body,
                response_json=response_json,
            )
        )
    return interactions


def cassette(relative: str) -> list[Interaction]:
    """Interactions of one file under pydantic-ai/tests/ (e.g. "models/cassettes/test_openai/x.yaml")."""
    if not RECORDED.is_dir():
        pytest.skip(MISSING_REASON)
    return load(RECORDED / relative)


def cassette_paths(pattern: str) -> list[str]:
    """Relative paths matching a glob under pydantic-ai/tests/, for parametrising (empty if absent)."""
    if not RECORDED.is_dir():
        return []
    return sorted(str(p.relative_to(RECORDED)) for p in RECORDED.glob(pattern))
