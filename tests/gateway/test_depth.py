"""The JSON nesting cap (`limits.max_json_depth`) on raw bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelrouter.errors import BadRequest
from modelrouter.gateway.depth import check_depth

_json = st.recursive(
    st.none() | st.integers() | st.text(alphabet='ab[]{}\\"', max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="k[{", max_size=3), children, max_size=3)
    ),
    max_leaves=30,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@given(value=_json, limit=st.integers(0, 6))
def test_the_cap_counts_containers_not_brackets_inside_strings(value: object, limit: int) -> None:
    body = json.dumps(value).encode()
    if depth_of(value) > limit:
        with pytest.raises(BadRequest, match="max_json_depth"):
            check_depth(body, limit)
    else:
        check_depth(body, limit)


def test_a_huge_nesting_is_refused_quickly() -> None:
    with pytest.raises(BadRequest):
        check_depth(b"[" * 100_000 + b"]" * 100_000, 64)
    check_depth(b'{"messages": [' + b'{"role": "user", "content": "[[[[[[[["},' * 1000 + b"{}]}", 64)
