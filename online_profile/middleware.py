"""The challenge-question reset gate."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from portal.conf import portal

Handler = Callable[[HttpRequest], HttpResponse]


class ChallengeQuestionsResetMiddleware:
    """A signed-in customer whom support asked to replace their challenge questions
    (user.must_reset_challenge_questions) can open nothing but that page (plus re-authentication,
    logout and static files) until three new questions are saved."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and getattr(user, "must_reset_challenge_questions", False):
            allowed = (
                reverse("profile:challenge_questions"),
                reverse("profile:reauth"),
                reverse("signin:logout"),
            )
            path = request.path_info
            exempt = (str(settings.STATIC_URL), "/" + portal.admin_path)
            if path not in allowed and not path.startswith(exempt):
                return redirect("profile:challenge_questions")
        return self.get_response(request)
