"""A damaged or crashed session file in the replay screen: it says so, and the screen never goes
down."""

import shutil

from helpers import toasts
from replay_fixtures import EVENTS, replay_app, write_session

from swarmscope.core.replay.session import open_session


def _damage_block(path, b):
    """Flip a byte inside events block `b` of a cleanly closed file: its CRC no longer holds."""
    with open_session(path) as s:
        offset = s.file.index.blocks[b][0]
        first = s.file.index.blocks[b][1].first
    with open(path, "r+b") as f:
        f.seek(offset + 40)
        byte = f.read(1)
        f.seek(offset + 40)
        f.write(bytes([byte[0] ^ 0x10]))
    return first


async def test_moving_onto_a_damaged_block_says_so_and_stays(tmp_path):
    path = write_session(tmp_path / "sim.swarm")
    first = _damage_block(path, 3)
    app = replay_app(path, start=0)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = app.screen
        for _ in range(first // 100 + 5):  # shift+right: 100 events a press, onto the damaged block
            await pilot.press("shift+right")
        await pilot.pause()
        assert app.is_running and app.screen is screen
        assert screen.cursor.pos < first
        assert any("damaged" in toast for toast in toasts(app))
        await pilot.press("end", "e", "left", "home")  # elsewhere, the replay goes on
        assert screen.cursor.pos == 0
        assert app.is_running


async def test_a_crashed_file_says_so_when_it_opens(tmp_path):
    path = write_session(tmp_path / "sim.swarm")
    crashed = tmp_path / "crashed.swarm"
    shutil.copy(path, crashed)
    with open(crashed, "r+b") as f:  # a kill -9: no end block, half a block at the end
        f.truncate(path.stat().st_size // 2)
    app = replay_app(crashed, start=0)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        with open_session(crashed) as s:
            kept = len(s)
        assert 0 < kept < len(EVENTS)
        assert any(
            "not closed cleanly" in toast and f"{kept:,} events" in toast for toast in toasts(app)
        )
