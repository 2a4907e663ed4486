"""Every form in which a provider says how long to wait, and the values that must be ignored."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import formatdate

import pytest

from modelrouter.errors import UpstreamError, UpstreamRateLimited
from modelrouter.protocols.anthropic_messages.errors import decode_error as anthropic_error
from modelrouter.protocols.bedrock_converse.errors import decode_error as bedrock_error
from modelrouter.protocols.openai_chat.errors import decode_error as openai_error
from modelrouter.protocols.retry_after import MAX_RETRY_AFTER_S, retry_after_seconds

NOW = 1_800_000_000.0


def clock() -> float:
    return NOW


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 0.5 "}, 0.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, 0.0),  # already past: now
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the finer one wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
    ],
)
def test_each_form_gives_the_wait(headers: dict[str, str], seconds: float) -> None:
    assert retry_after_seconds(headers, clock) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["abc", "-5", "1e9", "nan", "inf", "-inf", "", "Wed, 99 Foo 2026", "1e400"])
def test_garbage_is_ignored_so_the_caller_backs_off_on_its_own(value: str) -> None:
    assert retry_after_seconds({"Retry-After": value}, clock) is None
    assert retry_after_seconds({"retry-after-ms": value}, clock) is None


def test_no_header_can_ask_for_more_than_a_day() -> None:
    assert retry_after_seconds({"Retry-After": str(MAX_RETRY_AFTER_S)}, clock) == MAX_RETRY_AFTER_S
    assert retry_after_seconds({"Retry-After": str(MAX_RETRY_AFTER_S + 1)}, clock) is None
    assert (
        retry_after_seconds({"Retry-After": formatdate(NOW + 10 * MAX_RETRY_AFTER_S, usegmt=True)}, clock)
        is None
    )


@pytest.mark.parametrize(
    "decode",
    [
        lambda h: openai_error(429, b'{"error": {"message": "slow down", "type": "rate_limit"}}', h),
        lambda h: anthropic_error(
            429, b'{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}', h
        ),
        lambda h: bedrock_error(
            429, b'{"message": "Too many requests"}', {**h, "x-amzn-ErrorType": "ThrottlingException"}
        ),
    ],
    ids=["openai", "anthropic", "bedrock"],
)
def test_each_codec_reads_every_form(decode: Callable[[Mapping[str, str]], UpstreamError]) -> None:
    for headers, seconds in (
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"retry-after": formatdate(time.time() + 20, usegmt=True)}, 20.0),
        ({"retry-after": "inf"}, None),
    ):
        error = decode(headers)
        assert isinstance(error, UpstreamRateLimited)
        if seconds is None:
            assert error.retry_after is None
        else:
            assert error.retry_after == pytest.approx(seconds, abs=1.5)
