import itertools

from hypothesis import given
from hypothesis import strategies as st

from modelrouter.protocols.sse import SSEEvent, SSEParser, encode_event

STREAM = (
    b'event: message_start\r\ndata: {"a":1}\r\n\r\n'
    b": keep-alive comment\n"
    b"data: line one\ndata: line two\n\n"
    b"id: 7\rdata:no-space\r\r"
    b"event: ignored-without-data\n\n"
    b"data: \xc3\xa9t\xc3\xa9\n\n"
)
EXPECTED = [
    SSEEvent("message_start", '{"a":1}'),
    SSEEvent(None, "line one\nline two"),
    SSEEvent(None, "no-space", "7"),
    SSEEvent(None, "été", "7"),
]


def test_parses_every_line_ending_and_field() -> None:
    parser = SSEParser()
    assert parser.feed(STREAM) + parser.flush() == EXPECTED


def test_every_two_way_split_gives_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        parser = SSEParser()
        events = parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:]) + parser.flush()
        assert events == EXPECTED, cut


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    parser = SSEParser()
    events: list[SSEEvent] = []
    for start, end in itertools.pairwise(bounds):
        events += parser.feed(STREAM[start:end])
    assert events + parser.flush() == EXPECTED


def test_unterminated_event_at_end_of_stream_is_discarded() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: complete\n\ndata: cut") == [SSEEvent(None, "complete")]
    assert parser.flush() == []


def test_trailing_cr_counts_as_a_line_end_at_flush() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r\r") == []
    assert parser.flush() == [SSEEvent(None, "x")]


def test_encode_event_round_trips() -> None:
    wire = encode_event(b'{"k":"v"}', "ping") + encode_event('{"n":2}')
    assert SSEParser().feed(wire) == [SSEEvent("ping", '{"k":"v"}'), SSEEvent(None, '{"n":2}')]


LINES = st.sampled_from(
    [
        b'data: {"a":1}',
        b"data:x",
        b"data: multi",
        b"event: message_start",
        b"event: ping",
        b": comment",
        b"id: 9",
        b"data: \xc3\xa9",
        b"retry: 5",
        b"data:",
        b"",
    ]
)


def general(data: bytes, cuts: list[int]) -> list[SSEEvent]:
    """The line-by-line path alone (what the parser falls back to once it sees a CR)."""
    parser = SSEParser()
    parser._lf_only = False
    bounds = [0, *sorted(cuts), len(data)]
    events = [e for a, b in itertools.pairwise(bounds) for e in parser.feed(data[a:b])]
    return events + parser.flush()


@given(
    st.lists(LINES, max_size=40),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
    st.booleans(),
)
def test_the_lf_fast_path_agrees_with_the_general_path(
    lines: list[bytes], cuts: list[int], crlf: bool
) -> None:
    data = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    cuts = [c for c in cuts if c <= len(data)]
    parser = SSEParser()
    bounds = [0, *sorted(cuts), len(data)]
    events = [e for a, b in itertools.pairwise(bounds) for e in parser.feed(data[a:b])]
    assert events + parser.flush() == general(data, cuts)


def test_one_event_per_chunk_shapes() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: {}\n\n") == [SSEEvent(None, "{}")]
    assert parser.feed(b"event: ping\ndata: {}\n\n") == [SSEEvent("ping", "{}")]
    assert parser.feed(b"id: 3\ndata: {}\n\n") == [SSEEvent(None, "{}", "3")]
    assert parser.feed(b"data: {}\n\n") == [SSEEvent(None, "{}", "3")]
