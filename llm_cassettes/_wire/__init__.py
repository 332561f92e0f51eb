"""Bodies as they travel on the wire, before anything is stored: bounded JSON and SSE.

Every part of the package reads request and response bodies (scrubbing,
matching, the cassette format, the review commands); what they share about
reading them lives here once.
"""

from ._bounded_json import MAX_DEPTH as MAX_JSON_DEPTH
from ._bounded_json import JSONTooDeep, too_deep
from ._bounded_json import loads as loads_json
from ._sse import encode as encode_sse
from ._sse import parse as parse_sse

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeep", "encode_sse", "loads_json", "parse_sse", "too_deep"]
