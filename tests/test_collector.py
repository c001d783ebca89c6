"""Garbage collection paced by frames: which generation, and when."""

import gc

import pytest
from tui_fixtures import frozen_app

from swarmscope.tui import collector


@pytest.fixture
def collections():
    """The generations collected, in order, with CPython's own trigger out of the way."""
    seen: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.collect()
    gc.set_threshold(10**9, collector.MIDDLE_EVERY, collector.OLD_EVERY)
    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)
    gc.set_threshold(*thresholds)


def _make_young(n: int) -> list:
    return [[] for _ in range(n)]


def test_too_few_new_objects_are_left_for_later(collections):
    kept = _make_young(collector.YOUNG_PACE // 2)
    collector.collect_due()
    assert collections == [] and kept


def test_young_passes_then_a_middle_then_a_full_one(collections, monkeypatch):
    monkeypatch.setattr(collector, "OLD_EVERY", 2)
    kept = []
    for _ in range(3 * (collector.MIDDLE_EVERY + 1)):
        kept.append(_make_young(collector.YOUNG_PACE))
        collector.collect_due()
    young = [0] * collector.MIDDLE_EVERY
    assert collections == [*young, 1, *young, 1, *young, 2]


async def test_a_drawn_frame_is_followed_by_a_collection(collections, monkeypatch):
    monkeypatch.setattr(collector, "AFTER_PAINT_S", 0.001)
    monkeypatch.setattr(collector, "BACKSTOP", 10**9)  # no collection but the paced one
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        collections.clear()
        kept = _make_young(collector.YOUNG_PACE)
        app.frame()
        for _ in range(200):  # turns of the event loop: the paint, then the timer
            await pilot.pause()
            if collections:
                break
        assert collections[:1] == [0] and kept
