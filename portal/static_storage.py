"""Static files in production: whitenoise's compressed, content-hashed files, with each file's
address worked out once per process.

The hashed name of a file is fixed by the manifest that `collectstatic` wrote and the process read
at start-up, yet Django works it out again (split, unquote, look up, join, quote) for every
`{% static %}` tag: about 15-20 microseconds each, and a page has three or four of them.
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keyed by the names templates use: a fixed, small set (no name comes from a request).
        self._urls: dict[str, str] = {}

    def url(self, name: str, force: bool = False) -> str:
        if force:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = super().url(name)
        return url
