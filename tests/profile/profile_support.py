"""Helpers shared by the My Vehicles and My Online Profile tests."""

from __future__ import annotations

import time
from typing import Any

from security.sessions import PASSWORD_VERIFIED_AT


def sign_in(client: Any, user: Any, *, password_entered_at: float | None = None) -> Any:
    """A full login as the sign-in flow leaves it: logged in, password just entered."""
    client.force_login(user)
    session = client.session
    session[PASSWORD_VERIFIED_AT] = int(
        time.time() if password_entered_at is None else password_entered_at
    )
    session.save()
    return client


def mail_to(outbox: list[Any], address: str) -> list[Any]:
    return [message for message in outbox if address in message.to]
