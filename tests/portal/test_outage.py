"""An unreachable shared store (Redis) gives a clear 503 page and never lets an attempt through."""

from __future__ import annotations

import pytest
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from portal import urls

pytestmark = pytest.mark.django_db


def test_server_error_caused_by_an_unreachable_redis_is_a_clear_503(client, settings):
    def needs_redis(request):
        raise RedisConnectionError("Connection refused")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [path("x/", needs_redis), *urls.urlpatterns],
            "handler500": urls.handler500,
        },
    )
    client.raise_request_exception = False
    response = client.get("/x/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "temporarily unavailable" in page and "Traceback" not in page
    assert settings.PORTAL_SUPPORT_PHONE in page


def test_other_server_errors_stay_500(client, settings):
    def broken(request):
        raise RuntimeError("bug")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {"urlpatterns": [path("x/", broken), *urls.urlpatterns], "handler500": urls.handler500},
    )
    client.raise_request_exception = False
    assert client.get("/x/").status_code == 500


def test_enrollment_check_refused_while_the_limit_store_is_down(client, monkeypatch, make_customer):
    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr("security.ratelimits.is_ratelimited", unreachable)
    customer = make_customer()
    response = client.post(
        "/enroll/",
        {
            "tin_last4": "1234",
            "birth_date": "04/12/1985",
            "reference": customer.loan_accounts.first().account_number,
        },
    )
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_a_database_that_is_restarting_gives_the_503_page(client, settings):
    from django.db import OperationalError

    def restarting(request):
        raise OperationalError("terminating connection due to administrator command")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {"urlpatterns": [path("x/", restarting), *urls.urlpatterns], "handler500": urls.handler500},
    )
    client.raise_request_exception = False
    response = client.get("/x/")
    assert response.status_code == 503
    assert "administrator" not in response.content.decode()
