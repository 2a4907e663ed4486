"""Cache affinity, unit by unit: naming conversations, placing their offering first, forgetting."""

from __future__ import annotations

from modelrouter import ir
from modelrouter.engine import Engine
from modelrouter.gateway.affinity import Affinity


def turns(*texts: str, system: str = "be brief") -> ir.Request:
    messages = [
        ir.Message(role="user" if i % 2 == 0 else "assistant", content=[ir.TextPart(text=t)])
        for i, t in enumerate(texts)
    ]
    return ir.Request(model="gpt-5.2", system=[ir.TextPart(text=system)], messages=messages)


def test_every_turn_of_a_conversation_has_one_name_and_keys_and_sessions_separate_them() -> None:
    name = Affinity.conversation(turns("hi"), "k1", None)
    assert name == Affinity.conversation(turns("hi", "hello", "more"), "k1", None)
    assert name != Affinity.conversation(turns("hi"), "k2", None)
    assert name != Affinity.conversation(turns("hi", system="be long"), "k1", None)
    assert Affinity.conversation(turns("hi"), "k1", "s") != Affinity.conversation(turns("hi"), "k2", "s")
    assert Affinity.conversation(ir.Request(model="m"), None, None) is None


def test_a_conversation_is_named_by_its_first_turns_content_not_by_its_cache_breakpoints() -> None:
    def first_turn(*parts: ir.Part) -> str | None:
        request = ir.Request(model="gpt-5.2", messages=[ir.Message(role="user", content=list(parts))])
        return Affinity.conversation(request, "k1", None)

    text = first_turn(ir.TextPart(text="look"))
    assert text == first_turn(ir.TextPart(text="look", cache_control=ir.CacheControl()))
    assert text != first_turn(ir.TextPart(text="look!"))
    image = ir.ImagePart(url="https://example.com/a.png")
    assert first_turn(ir.TextPart(text="look"), image) not in (text, None)
    assert first_turn(ir.TextPart(text="look"), image) != first_turn(
        ir.TextPart(text="look"), ir.ImagePart(url="https://example.com/b.png")
    )
    assert first_turn(ir.TextPart(text="a"), ir.TextPart(text="b")) != first_turn(ir.TextPart(text="ab"))


async def test_placement(engine: Engine) -> None:
    entries = list(engine.catalog.by_model["gpt-5.2"])
    now = [0.0]
    affinity = Affinity(ttl_s=60, clock=lambda: now[0])
    assert (await affinity.place("c", entries, lambda _: True)).note == "new"
    affinity.remember("c", entries[2].id)
    kept = await affinity.place("c", entries, lambda _: True)
    assert kept.note == "kept" and kept.entries[0] is entries[2] and len(kept.entries) == len(entries)
    sick = await affinity.place("c", entries, lambda offering: offering != entries[2].id)
    assert sick.entries == entries and "unhealthy" in sick.note
    gone = await affinity.place("c", entries[:2], lambda _: True)
    assert gone.entries == entries[:2] and "not allowed" in gone.note
    now[0] = 61
    assert (await affinity.place("c", entries, lambda _: True)).note == "new"
    assert (await affinity.place(None, entries, lambda _: True)).note == ""
