"""Provider endpoints pointing at cloud metadata services are refused at start (reliability.md B7)."""

from __future__ import annotations

import pytest

from modelrouter.errors import ConfigError
from modelrouter.urlguard import check_provider_url

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254.:80/v1",
    "http://[fd00:ec2::254]/v1",
    "http://100.100.100.200/v1",
    "http://metadata.google.internal/computeMetadata/v1",
    "http://METADATA.google.internal./v1",
    "http://2852039166/v1",  # 169.254.169.254 as one number
    "http://0xa9.0xfe.0xa9.0xfe/v1",
    "http://0251.0376.0251.0376/v1",
    "http://[::ffff:169.254.169.254]/v1",
    "http://169.254.1.1/v1",  # any link-local address
    "http://[fe80::1]/v1",
    "http://169.254.170.2/v2/credentials",  # ECS task credentials
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_",
    "http:///v1",
]
ALLOWED = [
    "https://api.openai.com/v1",
    "https://bedrock-runtime.eu-central-1.amazonaws.com",
    "http://127.0.0.1:11434/v1",  # a local model server
    "http://10.0.0.5:8080/v1",  # a corporate proxy
    "https://my-resource.openai.azure.com",
    "http://localhost:4000",
]


@pytest.mark.parametrize("url", REFUSED)
def test_metadata_and_link_local_endpoints_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"providers\.x\.base_url"):
        check_provider_url("providers.x.base_url", url)


@pytest.mark.parametrize("url", ALLOWED)
def test_ordinary_endpoints_pass(url: str) -> None:
    check_provider_url("providers.x.base_url", url)
