"""Secrets redacted from messages and log records, whole and by any 8-character run."""

from __future__ import annotations

import logging

import pytest

from modelrouter.redact import MIN_RUN, install_log_scrubbing, redact, register_secrets

SECRET = "sk-unit-test-CANARY-0123456789"


def test_a_secret_and_every_run_of_it_are_redacted() -> None:
    register_secrets([SECRET, "short", None, 42])
    assert redact(f"key {SECRET} rejected") == "key [redacted] rejected"
    for start in range(len(SECRET) - MIN_RUN + 1):
        piece = SECRET[start : start + MIN_RUN]
        assert piece not in redact(f"you sent …{piece}…"), piece
    assert redact("short words stay") == "short words stay"


def test_log_records_are_scrubbed_before_any_handler_sees_them(caplog: pytest.LogCaptureFixture) -> None:
    register_secrets([SECRET])
    install_log_scrubbing()
    logger = logging.getLogger("modelrouter.test")
    with caplog.at_level(logging.WARNING, logger="modelrouter.test"):
        logger.warning("provider said %s", f"bad key {SECRET}")
        try:
            raise ValueError(f"boom {SECRET}")
        except ValueError:
            logger.exception("failed")
    text = caplog.text
    assert SECRET not in text and SECRET[:MIN_RUN] not in text and "[redacted]" in text
