from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from security.events import record_event
from security.models import SecurityEvent


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends the session on the server and asks the browser to drop what it kept of it."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        record_event(SecurityEvent.Kind.LOGGED_OUT, user=user, request=request)
    auth.logout(request)
    messages.success(request, "You have logged out.")
    response = redirect("security:login")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
