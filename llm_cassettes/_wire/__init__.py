"""HTTP messages as they travel, before anything is stored: headers, bodies, JSON, streams.

Every part of the package reads request and response bodies (scrubbing,
matching, the cassette format, the review commands); what they share about
reading them lives here once.
"""

from ._bounded_json import MAX_DEPTH as MAX_JSON_DEPTH
from ._bounded_json import JSONTooDeep, dumps_compact, too_deep
from ._bounded_json import loads as loads_json
from ._frames import frame_ends
from ._http import decompress, header, is_json_media, media_type, utf8_text
from ._ndjson import NDJSON_MEDIA_TYPES, line_ends
from ._sse import DONE as SSE_DONE
from ._sse import MEDIA_TYPE as SSE_MEDIA_TYPE
from ._sse import encode as encode_sse
from ._sse import ends_with_done, event_ends
from ._sse import parse as parse_sse

__all__ = [
    "MAX_JSON_DEPTH",
    "NDJSON_MEDIA_TYPES",
    "SSE_DONE",
    "SSE_MEDIA_TYPE",
    "JSONTooDeep",
    "decompress",
    "dumps_compact",
    "encode_sse",
    "ends_with_done",
    "event_ends",
    "frame_ends",
    "header",
    "is_json_media",
    "line_ends",
    "loads_json",
    "media_type",
    "parse_sse",
    "too_deep",
    "utf8_text",
]
