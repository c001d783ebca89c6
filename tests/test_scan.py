"""The scan of a whole session: lost events, and errors and checkpoints placed exactly, as a file
grows too."""

from session_helpers import write_events

from swarmscope.core.events import Event
from swarmscope.core.replay.scan import Marks, ScanResult, SessionScan
from swarmscope.core.replay.session import open_session

S = 1_000_000_000


def test_a_scan_finds_lost_events_not_restarts_and_places_errors_exactly(tmp_path):
    events = [Event(i * S, "a", i, "heartbeat", {}, 1) for i in range(3000)]
    events[1234] = events[1234]._replace(kind="error")
    events[2000] = events[2000]._replace(kind="checkpoint")
    del events[2500:2510]  # ten lost
    events += [Event(4000 * S, "a", 0, "hello", {}, 2)]  # a restart: not a gap
    events += [Event(4001 * S, "b", 7, "heartbeat", {}, 3)]  # a late joiner: not a gap
    path = tmp_path / "gaps.swarm"
    write_events(path, events)
    scan = SessionScan(path)
    assert scan.run() and not scan.run()  # a second run has nothing new to read
    found = scan.result
    assert sum(lost for _, _, lost in found.gaps) == 10
    with open_session(path) as s:
        assert [(s[k].agent, s[k].seq, s[k].ts) for k, _, _ in found.gaps] == [
            ("a", 2510, 2510 * S)
        ]
    assert list(found.errors.index) == [1234] and list(found.errors.clock) == [1234 * S]
    assert list(found.checkpoints.index) == [2000]


def test_a_scan_resumes_where_a_growing_file_left_off(tmp_path):
    events = [Event(i * S, "a", i, "error" if i % 700 == 0 else "log", {}, 1) for i in range(5000)]
    path = tmp_path / "growing.swarm"
    writer = write_events(path, events[:2500], close=False)
    scan = SessionScan(path)
    assert scan.run()
    seen = scan.result.blocks
    assert list(scan.result.errors.index) == list(range(0, 2500, 700))
    writer.append(events[2500:])
    writer.close()
    assert scan.run() and scan.result.blocks > seen
    assert list(scan.result.errors.index) == list(range(0, 5000, 700)) and not scan.result.gaps


def test_marks_answer_jumps_only_where_the_scan_has_been(tmp_path):
    from swarmscope.core.replay.scan import UNKNOWN

    events = [
        Event(i * S, "a", i, "error" if i in (10, 3000) else "log", {}, 1) for i in range(5000)
    ]
    path = tmp_path / "jumps.swarm"
    writer = write_events(path, events[:2500], close=False)
    scan = SessionScan(path)
    scan.run()
    errors, find = scan.result.errors, scan.result.find
    assert find(errors, 0, True, 5000) == 10 and find(errors, 10, False, 5000) is None
    assert find(errors, 11, True, 5000) == UNKNOWN  # 3000 is not scanned yet
    assert find(errors, 2600, False, 5000) == UNKNOWN  # nor what lies between 2500 and 2600
    writer.append(events[2500:])
    writer.close()
    scan.run()
    assert find(errors, 11, True, 5000) == 3000 and find(errors, 3000, True, 5000) is None
    assert find(errors, 2600, False, 5000) == 10


def test_a_scan_closed_mid_run_lets_go_of_the_file_when_the_run_ends(tmp_path):
    events = [Event(i * S, "a", i, "log", {}, 1) for i in range(5000)]
    path = tmp_path / "closing.swarm"
    write_events(path, events)
    scan = SessionScan(path)
    scan.run(pause=scan.close)  # closed from "another thread" after the first block
    assert 0 < scan.result.blocks < 5 and scan._session is None
    assert not scan.run()  # closed for good


def test_a_mark_past_the_callers_session_is_not_an_answer_for_it():
    """A scan that read further than the caller's session knows an error the caller cannot seek
    to yet: pointing there would land short, on the caller's last event."""
    errors = Marks()
    errors.add(5, 50)
    errors.add(30, 300)
    result = ScanResult(blocks=4, events=40, errors=errors)
    assert result.find(errors, 10, True, 40) == 30
    assert result.find(errors, 10, True, 20) is None
    assert result.find(errors, 10, False, 20) == 5
