"""Answers relayed as the provider sent them are still checked, and their usage read exactly.

A same-protocol answer goes to the client untouched (`relayed_response` instead of
`decode_response`): against every recorded answer, the usage it reads is the one the full
decoder reads, and whatever the full decoder refuses as not an answer it refuses too (so a
broken 200 still falls back).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelrouter import errors, ir
from modelrouter.protocols import anthropic_messages, openai_chat
from tests.protocols.openai_chat_helpers import CHAT_CASSETTES
from tests.recorded import cassette, cassette_paths

ANTHROPIC_CASSETTES = cassette_paths("models/cassettes/test_anthropic/*.yaml")
CODECS = {"openai": openai_chat, "anthropic": anthropic_messages}


def _answers(paths: list[str]) -> list[bytes]:
    return [
        i.response_body
        for path in paths
        for i in cassette(path)
        if i.status == 200 and isinstance(i.response_json, dict)
    ]


@pytest.mark.parametrize(("name", "paths"), [("openai", CHAT_CASSETTES), ("anthropic", ANTHROPIC_CASSETTES)])
def test_recorded_answers_give_the_usage_the_full_decoder_gives(name: str, paths: list[str]) -> None:
    if not paths:
        pytest.skip("recorded fixtures not found (they live in ../shared, beside the clone)")
    codec = CODECS[name]
    answers = _answers(paths)
    assert len(answers) > 5
    for body in answers:
        full = codec.decode_response(body)
        relayed = codec.relayed_response(body)
        assert (relayed.usage, relayed.id, relayed.model) == (full.usage, full.id, full.model)


NOT_ANSWERS = [b"", b"not json", b"[]", b"null", b'{"id": "x"}', b'{"choices": []}', b'{"choices": [1]}']


@pytest.mark.parametrize("body", [*NOT_ANSWERS, b'{"choices": [{"delta": {}}]}'])
def test_what_is_not_a_chat_completion_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(errors.UpstreamProtocolError):
        openai_chat.relayed_response(body)


@pytest.mark.parametrize("body", [*NOT_ANSWERS, b'{"type": "error", "content": []}', b'{"content": "hi"}'])
def test_what_is_not_a_message_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(errors.UpstreamProtocolError):
        anthropic_messages.relayed_response(body)


def test_an_error_sent_with_a_200_is_classified_like_the_full_decoder_does() -> None:
    body = b'{"error": {"message": "rate limited upstream", "code": 429}}'
    expected = _raised(openai_chat.decode_response, body)
    got = _raised(openai_chat.relayed_response, body)
    assert type(got) is type(expected) and isinstance(got, errors.UpstreamRateLimited)


def _raised(decode: Callable[[bytes], ir.Response], body: bytes) -> Exception:
    with pytest.raises(errors.UpstreamError) as caught:
        decode(body)
    return caught.value
