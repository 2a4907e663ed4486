"""Provider hosts are checked when connecting, not only at start (reliability.md B7, DNS rebinding).

A provider name that resolves to a cloud metadata or link-local address, alone or behind a
public address, is refused before any socket is opened; so is such an address given literally
(say through AZURE_OPENAI_ENDPOINT, which the start check never sees). The fake DNS and network
(tests/fakes/network.py) deliver every such address to an "attacker" listener on loopback: it
must log no connection and so never see a provider key. A control run with a bare aiohttp
client over the same fakes shows the attacker does get the key when nothing guards.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohappyeyeballs
import aiohttp
import openai
import pytest

from modelrouter.errors import UpstreamConnectionError
from modelrouter.gateway.transport import Deadlines, Transport
from modelrouter.providers import UpstreamCall
from tests.fakes import FakeUpstream
from tests.fakes.network import Attacker, FakeDNS, FakeNetwork
from tests.gateway.conftest import SECRETS, final_request_row, gateway_config, ledger_rows
from tests.gateway.harness import start_gateway

KEY = "sk-provider-key-CANARY-b7"
PUBLIC = "203.0.113.7"  # TEST-NET-3: stands in for a provider's public address
REFUSED = {
    "metadata": ["169.254.169.254"],
    "public first, metadata second": [PUBLIC, "169.254.169.254"],
    "ecs credentials": ["169.254.170.2"],
    "alibaba metadata": ["100.100.100.200"],
    "link-local": ["169.254.1.1"],
    "aws ipv6 metadata": ["fd00:ec2::254"],
    "ipv4-mapped metadata": ["::ffff:169.254.169.254"],
    "ipv6 link-local": [PUBLIC, "fe80::1"],
}


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    listener = Attacker()
    yield listener
    listener.stop()


@pytest.fixture
def network(attacker: Attacker, monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    """Every non-loopback address used here leads to the attacker, so none reaches the real network."""
    attacker.hits.clear()
    addresses = {a for answers in REFUSED.values() for a in answers}
    net = FakeNetwork({a: attacker.route_for(a) for a in addresses}, aiohappyeyeballs.start_connection)
    monkeypatch.setattr(aiohappyeyeballs, "start_connection", net.start_connection)
    return net


@pytest.fixture
async def transport_for() -> AsyncIterator[Any]:
    made: list[Transport] = []

    def make(dns: FakeDNS) -> Transport:
        made.append(Transport(resolver=dns))
        return made[-1]

    yield make
    for transport in made:
        await transport.aclose()


def _call(url: str) -> UpstreamCall:
    return UpstreamCall("POST", url, {"authorization": f"Bearer {KEY}"}, b"{}")


def _deadlines() -> Deadlines:
    return Deadlines(connect=2, first_byte=2, idle=2, total_at=asyncio.get_running_loop().time() + 10)


@pytest.mark.parametrize("answers", REFUSED.values(), ids=REFUSED.keys())
async def test_a_name_resolving_to_a_forbidden_address_is_never_connected_to(
    answers: list[str], network: FakeNetwork, attacker: Attacker, transport_for: Any
) -> None:
    transport = transport_for(FakeDNS({"api.provider.test": answers}))
    with pytest.raises(UpstreamConnectionError, match="metadata or link-local"):
        await transport.open(_call("http://api.provider.test:8080/v1/chat"), _deadlines(), "xai")
    assert network.connects == [], "refused before any socket was opened"
    assert attacker.hits == []


@pytest.mark.parametrize("address", ["169.254.169.254", "[fd00:ec2::254]", "[::ffff:169.254.169.254]"])
async def test_a_literal_forbidden_address_is_refused_at_the_socket(
    address: str, network: FakeNetwork, attacker: Attacker, transport_for: Any
) -> None:
    """A literal IP skips DNS: the connector's socket factory refuses it."""
    transport = transport_for(FakeDNS({}))
    with pytest.raises(UpstreamConnectionError, match="metadata or link-local"):
        await transport.open(_call(f"http://{address}:8080/v1/chat"), _deadlines(), "azure")
    assert attacker.hits == []


@pytest.mark.parametrize("answers", [REFUSED["public first, metadata second"], ["169.254.169.254"]])
async def test_control_without_the_guard_the_attacker_gets_the_key(
    answers: list[str], network: FakeNetwork, attacker: Attacker
) -> None:
    """The same fakes under a bare aiohttp client: proves the tests above could fail."""
    dns = FakeDNS({"api.provider.test": answers})
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=dns)) as session:
        call = _call("http://api.provider.test:8080/v1/chat")
        async with session.post(call.url, headers=call.headers, data=call.body) as response:
            await response.read()
    assert "169.254.169.254" in network.connects
    assert any(KEY.encode() in hit for hit in attacker.hits)


async def test_allowed_names_still_connect_and_dns_is_cached(
    fake: FakeUpstream, network: FakeNetwork, transport_for: Any
) -> None:
    """Loopback and private answers pass (local servers are normal); one lookup serves many calls."""
    port = fake.url.rsplit(":", 1)[1]
    dns = FakeDNS({"llm.internal.test": ["127.0.0.1"], "proxy.test": ["10.1.2.3", "127.0.0.1"]})
    network.routes["10.1.2.3"] = ("127.0.0.1", int(port))
    transport = transport_for(dns)
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    for host in ["llm.internal.test"] * 50 + ["proxy.test", "127.0.0.1"] * 25:
        call = UpstreamCall("POST", f"http://{host}:{port}/openai/v1/chat/completions", {}, body)
        call.headers.update(
            {"authorization": f"Bearer {SECRETS['openai']}", "content-type": "application/json"}
        )
        upstream = await transport.open(call, _deadlines(), "openai")
        assert upstream.status == 200
        await upstream.read()
    assert dns.lookups == ["llm.internal.test", "proxy.test"], "cached; a literal IP is never looked up"


def test_a_rebinding_provider_fails_cleanly_and_the_fallback_answers(
    tmp_path: Path, fake: FakeUpstream, attacker: Attacker
) -> None:
    """End to end through `modelrouter serve`: the name passes the start check, its addresses do not."""
    attacker.hits.clear()
    config = gateway_config(fake.url)
    config["providers"]["xai"]["base_url"] = "http://api.x.test:8080/xai/v1"
    del config["providers"]["azure"]["endpoint"]  # read from AZURE_OPENAI_ENDPOINT instead
    scene = {
        "dns": {"api.x.test": REFUSED["public first, metadata second"]},
        "routes": {a: attacker.route_for(a) for a in (PUBLIC, "169.254.169.254")},
    }
    env = {"FAKE_NETWORK": json.dumps(scene), "AZURE_OPENAI_ENDPOINT": "http://169.254.169.254:8080/azure"}
    gateway = start_gateway(tmp_path / "gw", config, env, module="tests.fakes.network")
    try:
        client = gateway.openai()
        started = time.monotonic()
        raw = client.chat.completions.with_raw_response.create(
            model="grok-4.3", messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.headers["x-modelrouter-provider"] == "openrouter"
        assert time.monotonic() - started < 1, "refused at once, no connect timeout"
        request_id = raw.headers["x-request-id"]
        assert final_request_row(gateway, request_id, "attempts") == ("ok", 2)
        [(state, error)] = ledger_rows(
            gateway,
            "SELECT state, error FROM attempts WHERE request_id = ? AND attempt_no = 1",
            (request_id,),
        )
        assert state == "upstream_error" and "169.254.169.254" in error
        with pytest.raises(openai.APIStatusError) as failed:
            client.chat.completions.create(
                model="gpt-5.2@azure", messages=[{"role": "user", "content": "hi"}]
            )
        assert failed.value.status_code in (502, 503) and "metadata" in str(failed.value.body)
        assert attacker.hits == []
        assert fake.labels() == ["openrouter"]
    finally:
        gateway.stop()
