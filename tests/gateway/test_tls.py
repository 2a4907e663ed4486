"""TLS to providers is always verified (reliability.md F24), end to end through `modelrouter serve`.

xAI (tried first for grok-4.3) is a fake served over HTTPS with a certificate from a private CA
that `trustme` makes; OpenRouter (the fallback) is the plain fake. Without that CA the handshake
fails, the attempt counts as failed, and OpenRouter answers; the HTTPS fake never completes a
request, so nothing was retried without verification. Given the CA through `ca_bundle` or
`SSL_CERT_FILE`, xAI answers.
"""

from __future__ import annotations

import ast
import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import modelrouter
from tests.fakes import FakeUpstream
from tests.gateway.conftest import final_request_row, gateway_config, ledger_rows
from tests.gateway.harness import RunningGateway, serve_once, start_gateway

HI: Any = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def ca() -> Any:
    return trustme.CA()


def _https_fake(ca: Any, *names: str) -> FakeUpstream:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return FakeUpstream(tls=context).start()


@pytest.fixture(scope="module")
def https_fake(ca: Any) -> Iterator[FakeUpstream]:
    """A provider on HTTPS whose certificate names 127.0.0.1 and is signed by `ca`."""
    fake = _https_fake(ca, "127.0.0.1", "localhost")
    yield fake
    fake.stop()


@pytest.fixture
def tls_fake(https_fake: FakeUpstream) -> FakeUpstream:
    https_fake.reset()
    return https_fake


@pytest.fixture
def ca_file(ca: Any, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _config(fake: FakeUpstream, https: FakeUpstream, **xai: Any) -> dict[str, Any]:
    config = gateway_config(fake.url)
    config["providers"]["xai"].update(base_url=https.url + "/xai/v1", **xai)
    return config


@contextlib.contextmanager
def _serve(
    tmp_path: Path, config: dict[str, Any], env: dict[str, str] | None = None
) -> Iterator[RunningGateway]:
    running = start_gateway(tmp_path / "gw", config, env)
    try:
        yield running
    finally:
        running.stop()


def _ask(gateway: RunningGateway) -> Any:
    client = gateway.openai()
    return client.chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)


def test_an_untrusted_certificate_fails_the_attempt_and_the_fallback_answers(
    tmp_path: Path, fake: FakeUpstream, tls_fake: FakeUpstream
) -> None:
    with _serve(tmp_path, _config(fake, tls_fake)) as gateway:
        answered = [_ask(gateway) for _ in range(20)]
        assert {raw.headers["x-modelrouter-provider"] for raw in answered} == {"openrouter"}
        assert tls_fake.requests == [], "no request completed over the unverified connection"
        first = answered[0].headers["x-request-id"]
        assert final_request_row(gateway, first, "attempts") == ("ok", 2)
        [(provider, state, error)] = ledger_rows(
            gateway,
            "SELECT provider, state, error FROM attempts WHERE request_id = ? AND attempt_no = 1",
            (first,),
        )
        assert (provider, state) == ("xai", "upstream_error")
        assert "certificate verify failed" in error


def test_a_ca_bundle_for_the_provider_makes_it_trusted(
    tmp_path: Path, fake: FakeUpstream, tls_fake: FakeUpstream, ca_file: Path
) -> None:
    with _serve(tmp_path, _config(fake, tls_fake, ca_bundle=str(ca_file))) as gateway:
        assert _ask(gateway).headers["x-modelrouter-provider"] == "xai"
        assert tls_fake.labels() == ["xai"] and fake.requests == []


def test_ssl_cert_file_is_honoured_as_the_sdks_do(
    tmp_path: Path, fake: FakeUpstream, tls_fake: FakeUpstream, ca_file: Path
) -> None:
    with _serve(tmp_path, _config(fake, tls_fake), {"SSL_CERT_FILE": str(ca_file)}) as gateway:
        assert _ask(gateway).headers["x-modelrouter-provider"] == "xai"
        assert tls_fake.labels() == ["xai"]


def test_a_trusted_certificate_for_another_name_is_refused(
    tmp_path: Path, fake: FakeUpstream, ca: Any, ca_file: Path
) -> None:
    """The CA is trusted, but the certificate names api.example.com: the host name is checked too."""
    elsewhere = _https_fake(ca, "api.example.com")
    try:
        with _serve(tmp_path, _config(fake, elsewhere, ca_bundle=str(ca_file))) as gateway:
            raw = _ask(gateway)
            assert raw.headers["x-modelrouter-provider"] == "openrouter"
            assert elsewhere.requests == []
            assert final_request_row(gateway, raw.headers["x-request-id"], "attempts") == ("ok", 2)
            [(error,)] = ledger_rows(
                gateway,
                "SELECT error FROM attempts WHERE request_id = ? AND attempt_no = 1",
                (raw.headers["x-request-id"],),
            )
            assert "certificate verify failed" in error and "127.0.0.1" in error, error
    finally:
        elsewhere.stop()


def test_an_unreadable_ca_bundle_stops_serve_at_start(
    tmp_path: Path, fake: FakeUpstream, tls_fake: FakeUpstream
) -> None:
    config = _config(fake, tls_fake, ca_bundle=str(tmp_path / "missing.pem"))
    run = serve_once(tmp_path, config)
    assert run.returncode != 0 and "providers.xai.ca_bundle" in run.stderr


def _turns_verification_off(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in ("CERT_NONE", "_create_unverified_context")
    if isinstance(node, ast.keyword) and node.arg in ("ssl", "verify_ssl", "verify"):
        return isinstance(node.value, ast.Constant) and node.value.value is False
    return False


def test_no_code_path_turns_verification_off() -> None:
    """No setting or fallback may reach an unverified context: the source never builds one."""
    offenders = [
        f"{path.name}:{getattr(node, 'lineno', '?')}"
        for path in Path(modelrouter.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if _turns_verification_off(node)
    ]
    assert offenders == []
