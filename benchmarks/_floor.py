"""The floor both benchmarks measure against: a stored vcrpy response, served as is."""

from __future__ import annotations

from typing import Any

import httpx2


def stored_response(stored: dict[str, Any]) -> httpx2.Response:
    """An httpx2 response from a plain vcrpy cassette's response, with no matching."""
    headers = [(k, v) for k, vs in stored["headers"].items() for v in vs]
    body = stored["body"]["string"]
    return httpx2.Response(
        stored["status"]["code"],
        headers=headers,
        content=body.encode() if isinstance(body, str) else body,
    )
