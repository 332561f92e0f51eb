"""Where the events of a streamed body end, whatever its kind: what a server sends as one."""

from __future__ import annotations

from ._ndjson import NDJSON_MEDIA_TYPES, line_ends
from ._sse import MEDIA_TYPE as SSE_MEDIA_TYPE
from ._sse import event_ends

__all__ = ["frame_ends"]


def frame_ends(media: str, content: bytes) -> list[int] | None:
    """Offsets just past each event of a streamed body (SSE events, NDJSON lines).

    ``media`` is the bare media type (:func:`media_type`). None: not a stream this
    library frames, so a body read (and replayed) in one piece.
    """
    if media == SSE_MEDIA_TYPE:
        return event_ends(content)
    if media in NDJSON_MEDIA_TYPES:
        return line_ends(content)
    return None
