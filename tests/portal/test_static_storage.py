"""Production's static files: the content-hashed address from collectstatic's manifest, worked
out once per process."""

from __future__ import annotations

import json

import pytest

from portal.static_storage import StaticFilesStorage


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "portal.0123abcd.css").write_text("body{}")
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"version": "1.1", "paths": {"css/portal.css": "css/portal.0123abcd.css"}})
    )
    return StaticFilesStorage(location=tmp_path, base_url="/static/")


def test_a_page_links_the_hashed_file_named_in_the_manifest(storage):
    assert storage.url("css/portal.css") == "/static/css/portal.0123abcd.css"
    assert storage.url("css/portal.css") == "/static/css/portal.0123abcd.css"


def test_the_address_is_worked_out_once(storage, monkeypatch):
    calls = []
    original = storage.stored_name
    monkeypatch.setattr(storage, "stored_name", lambda name: calls.append(name) or original(name))
    for _ in range(3):
        storage.url("css/portal.css")
    assert calls == ["css/portal.css"]


def test_a_file_missing_from_the_manifest_is_still_an_error(storage):
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("css/missing.css")
    with pytest.raises(ValueError):
        storage.url("css/missing.css")
