"""The gateway fuzzed against its own OpenAPI document (reliability.md B10), with schemathesis.

Every operation of `/openapi.json` gets generated requests, valid and not, with the master
key: no answer may be a 5xx, and every status and content type must be one the document
declares. The providers behind it are the fakes, which answer whatever reaches them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from modelrouter import __version__
from modelrouter.gateway.openapi import openapi_document
from tests.gateway.conftest import MASTER
from tests.gateway.harness import RunningGateway

SCHEMA = schemathesis.openapi.from_dict(openapi_document(__version__))
OPERATIONS = {operation.label: operation for operation in (r.ok() for r in SCHEMA.get_all_operations())}  # type: ignore[union-attr]
EXAMPLES = int(os.environ.get("MODELROUTER_FUZZ_EXAMPLES", "25"))


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_operation_answers_a_5xx_or_anything_undocumented(keyed: RunningGateway, label: str) -> None:
    @given(case=OPERATIONS[label].as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(
            base_url=keyed.url,
            headers={"authorization": f"Bearer {MASTER}"},
            checks=[not_a_server_error, status_code_conformance, content_type_conformance],
            timeout=20,
        )

    fuzz()


def test_the_document_lists_every_route_the_gateway_serves(keyed: RunningGateway) -> None:
    from modelrouter.gateway.admin import AdminAPI
    from modelrouter.gateway.app import _KNOWN
    from modelrouter.gateway.doors import DOORS

    paths = set(requests.get(keyed.url + "/openapi.json", timeout=5).json()["paths"])
    served = set(DOORS) | set(_KNOWN) | {path for _, path in AdminAPI.ROUTES}
    assert served == paths
