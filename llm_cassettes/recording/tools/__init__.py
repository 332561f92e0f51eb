"""Tool calls (web search, a vector store, a database, an MCP server) recorded in the
test's cassette, next to the model calls around them.

Recording only the HTTP to the model would leave the tool live on replay: slow,
flaky, and often needing credentials CI does not have. :func:`tool` makes any
function or method a recorded tool, and the ``llm_tools`` fixture
(:class:`ToolPatcher`) does the same for a callable the test does not own.

* ``_decorator``: :func:`tool`, a call as an interaction (``TOOL tool://<name>``);
* ``_encoding``: arguments and outcomes as cassette data, and back, typed;
* ``_replay``: the recorded outcome in place of the real function;
* ``_patcher``: :class:`ToolPatcher`, behind the ``llm_tools`` fixture.
"""

from ..._errors import ToolRecordError, ToolReplayError
from ._decorator import tool
from ._patcher import ToolPatcher

__all__ = ["ToolPatcher", "ToolRecordError", "ToolReplayError", "tool"]
