"""security.flow_state: a state kept in the session under one key, with a lifetime counted from
its creation or from its last save."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

from security.flow_state import Expiry, FlowState, FlowStatus

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
LIFETIME = 600


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Idle(FlowState):
    KEY = "test:idle"
    EXPIRES = Expiry.SINCE_LAST_ACTIVITY

    name: str
    colours: list[str] = field(default_factory=list)
    last_activity: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return LIFETIME


@dataclass
class Deadline(FlowState):
    KEY = "test:deadline"
    EXPIRES = Expiry.SINCE_CREATED

    name: str
    created: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return LIFETIME


def _request() -> Any:
    return SimpleNamespace(session={"other": "kept"})


def test_a_saved_state_loads_back():
    request = _request()
    Idle(name="dana").save(request)
    state, status = Idle.lookup(request)
    assert status is FlowStatus.ACTIVE
    assert state is not None and state.name == "dana"
    assert Idle.load(request) == state


def test_no_state_is_missing():
    assert Idle.lookup(_request()) == (None, FlowStatus.MISSING)
    assert Idle.load(_request()) is None


def test_save_stamps_the_activity_time():
    request = _request()
    state = Idle(name="dana")
    with time_machine.travel(T0, tick=False):
        state.save(request)
    assert state.last_activity == T0.timestamp()
    assert request.session["test:idle"]["last_activity"] == T0.timestamp()
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        state.save(request)
    assert request.session["test:idle"]["last_activity"] == T0.timestamp() + 30


def test_save_stamps_the_creation_time_once():
    request = _request()
    state = Deadline(name="dana")
    with time_machine.travel(T0, tick=False):
        state.save(request)
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        state.save(request)
    assert request.session["test:deadline"]["created"] == T0.timestamp()


def test_an_expired_state_is_gone_and_removed_from_the_session():
    request = _request()
    with time_machine.travel(T0, tick=False):
        Idle(name="dana").save(request)
    with time_machine.travel(T0 + timedelta(seconds=LIFETIME), tick=False):
        assert Idle.load(request) is not None  # exactly the lifetime: still alive
    with time_machine.travel(T0 + timedelta(seconds=LIFETIME + 1), tick=False):
        assert Idle.lookup(request) == (None, FlowStatus.EXPIRED)
    assert "test:idle" not in request.session
    assert request.session == {"other": "kept"}
    assert Idle.lookup(request) == (None, FlowStatus.MISSING)


def test_an_idle_state_lives_as_long_as_it_is_saved():
    request = _request()
    with time_machine.travel(T0, tick=False) as clock:
        Idle(name="dana").save(request)
        for _ in range(3):
            clock.shift(timedelta(seconds=LIFETIME - 1))
            state = Idle.load(request)
            assert state is not None
            state.save(request)
        clock.shift(timedelta(seconds=LIFETIME + 1))
        assert Idle.load(request) is None


def test_a_state_counted_from_creation_ends_on_time_however_busy():
    request = _request()
    with time_machine.travel(T0, tick=False) as clock:
        Deadline(name="dana").save(request)
        clock.shift(timedelta(seconds=LIFETIME - 1))
        state = Deadline.load(request)
        assert state is not None
        state.save(request)  # activity does not move the deadline
        clock.shift(timedelta(seconds=2))
        assert Deadline.lookup(request) == (None, FlowStatus.EXPIRED)
    assert "test:deadline" not in request.session


@pytest.mark.parametrize(
    "stored",
    [
        "not a dict",
        ["dana"],
        {"colours": []},  # a field missing
        {"name": "dana", "last_activity": 1.0, "surprise": 1},  # a field unknown
        {"name": "dana", "last_activity": "soon"},  # a time that is no number
        {"name": "dana", "last_activity": None},
    ],
)
def test_a_malformed_state_is_removed(stored):
    request = _request()
    request.session["test:idle"] = stored
    assert Idle.lookup(request) == (None, FlowStatus.MISSING)
    assert request.session == {"other": "kept"}


def test_clear_removes_the_state_and_nothing_else():
    request = _request()
    Idle(name="dana").save(request)
    Deadline(name="dana").save(request)
    Idle.clear(request)
    assert Idle.load(request) is None
    assert Deadline.load(request) is not None
    assert request.session["other"] == "kept"
    Idle.clear(request)  # clearing nothing is fine


def test_the_lifetime_is_read_at_access_time(monkeypatch):
    request = _request()
    with time_machine.travel(T0, tick=False):
        Idle(name="dana").save(request)
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        monkeypatch.setattr(Idle, "lifetime_seconds", classmethod(lambda cls: 30))
        assert Idle.lookup(request) == (None, FlowStatus.EXPIRED)


def test_enum_values_are_stored_as_plain_strings():
    request = _request()
    Idle(name="dana", colours=[Colour.RED, Colour.BLUE]).save(request)
    stored = request.session["test:idle"]["colours"]
    assert stored == ["red", "blue"]
    assert all(type(colour) is str for colour in stored)


def test_a_flow_needs_a_field_for_the_time_it_expires_from():
    with pytest.raises(TypeError, match="no field"):

        @dataclass
        class Broken(FlowState):  # expires after idle time but keeps no last_activity
            KEY = "test:broken"
            EXPIRES = Expiry.SINCE_LAST_ACTIVITY

            created: float = 0.0
