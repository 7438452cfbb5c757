"""A state object kept in the session under one key, with a lifetime.

A login in progress, a password recovery, the enrollment wizard and a contact change each keep
what their later steps need in the session: a dataclass, stored as a dict under one key. Each
lives for a number of seconds counted either from its creation or from its last save; a state
that has expired, or that can no longer be read, is removed from the session when it is loaded.

A flow is a dataclass subclass of `FlowState` that sets

- `KEY`, the session key;
- `EXPIRES`, what the lifetime counts from, and declares the float field that holds that time
  (`created` or `last_activity`, 0.0 by default: `save` stamps it);
- `lifetime_seconds()`, read at access time, so settings changed in tests apply at once;

and, when a field does not survive the round trip through JSON as it is (an enum), overrides
`from_session`.

Time is `time.time()`, the clock of the signed-in session's own limits (portal.middleware,
security.sessions), so every session time in the portal is on one clock.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import asdict, dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar, Self

from django.http import HttpRequest

__all__ = ["Expiry", "FlowState", "FlowStatus", "now"]


def now() -> float:
    """The clock of session flows: seconds since the epoch."""
    return time.time()


class Expiry(StrEnum):
    """What a flow's lifetime counts from. The value names the field that holds that time."""

    SINCE_CREATED = "created"  # a fixed deadline, however busy the customer is
    SINCE_LAST_ACTIVITY = "last_activity"  # an idle limit: every save starts it again


class FlowStatus(StrEnum):
    ACTIVE = "active"
    MISSING = "missing"  # never started, ended, or unreadable (and then removed)
    EXPIRED = "expired"  # its lifetime had run out (and it was removed)


@dataclass
class FlowState:
    KEY: ClassVar[str]
    EXPIRES: ClassVar[Expiry]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "KEY" not in vars(cls):
            return  # an intermediate base: the flow below it declares the rest
        declared = {name for klass in cls.__mro__ for name in inspect.get_annotations(klass)}
        if cls.EXPIRES.value not in declared:
            raise TypeError(f"{cls.__name__} expires {cls.EXPIRES.name} but has no field for it")

    @classmethod
    def lifetime_seconds(cls) -> float:
        raise NotImplementedError

    # --- session ---------------------------------------------------------------------------------
    @classmethod
    def lookup(cls, request: HttpRequest) -> tuple[Self | None, FlowStatus]:
        """The live state of this session, or None and why there is none. An expired or
        unreadable state is removed from the session."""
        data = request.session.get(cls.KEY)
        if data is None:
            return None, FlowStatus.MISSING
        try:
            state = cls.from_session(data)
            started = float(getattr(state, cls.EXPIRES.value))
        except (AttributeError, KeyError, TypeError, ValueError):
            cls.clear(request)
            return None, FlowStatus.MISSING
        if now() - started > cls.lifetime_seconds():
            cls.clear(request)
            return None, FlowStatus.EXPIRED
        return state, FlowStatus.ACTIVE

    @classmethod
    def load(cls, request: HttpRequest) -> Self | None:
        """The live state of this session, or None (an expired or unreadable one is removed)."""
        return cls.lookup(request)[0]

    def save(self, request: HttpRequest) -> None:
        """Stores the state. Stamps the activity time (`last_activity` on every save; `created`
        on the first save only)."""
        stamp = self.EXPIRES.value
        if self.EXPIRES is Expiry.SINCE_LAST_ACTIVITY or not getattr(self, stamp):
            setattr(self, stamp, now())
        request.session[self.KEY] = self.to_session()

    @classmethod
    def clear(cls, request: HttpRequest) -> None:
        request.session.pop(cls.KEY, None)

    # --- serialisation ---------------------------------------------------------------------------
    def to_session(self) -> dict[str, Any]:
        """The fields as plain JSON values (enum members as their values: the session may be
        pickled by the cache, and a pickled member would tie the session to the enum's module)."""
        return {name: _plain(value) for name, value in asdict(self).items()}

    @classmethod
    def from_session(cls, data: Any) -> Self:
        """The state from what `to_session` stored. Raises KeyError, TypeError or ValueError when
        `data` is not such a state."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} is stored as a dict")
        return cls(**data)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
