"""Errors and warnings the library raises, each naming the file and what to do."""

from __future__ import annotations

__all__ = [
    "CassetteDriftWarning",
    "CassetteFormatError",
    "CassetteLockError",
    "IncompleteStreamError",
    "LLMCassettesError",
    "StaleRecordingWarning",
    "ToolRecordError",
    "ToolReplayError",
    "UnusedRecordingsError",
]


class LLMCassettesError(Exception):
    """Base of this library's errors."""


class CassetteFormatError(LLMCassettesError, ValueError):
    """A cassette file cannot be read; the message names the file and the place.

    It is raised, never logged and swallowed: vcrpy would treat such a file as
    empty and a recording run would then overwrite it.
    """


class UnusedRecordingsError(LLMCassettesError, AssertionError):
    """A test left recorded interactions unplayed and its cassette has ``allow_unused=False``.

    An ``AssertionError``, so pytest reports the test as failed (not errored): a
    recording nobody plays is a dead recording, or a call the code silently stopped making.
    """


class CassetteLockError(LLMCassettesError):
    """A cassette's write lock cannot be taken; the message names the lock's path and why."""


class IncompleteStreamError(LLMCassettesError):
    """A replayed client reads past the end of a stream recorded cut short.

    While recording, the client stopped reading that response early (the
    cassette says ``complete: false``), so what the server would have sent next
    is not in the cassette; the message names the cassette, the request and the
    command that records it again.
    """


class ToolRecordError(LLMCassettesError, TypeError):
    """A tool's argument or result cannot be stored; the message names the tool and where.

    Raised at record time, so a cassette that could not be replayed faithfully is
    never written.
    """


class ToolReplayError(LLMCassettesError):
    """A recorded tool outcome cannot be rebuilt as it was.

    Either its ``__type__`` may not be imported from a cassette (pass the class in
    ``types=``), or the tool raised an exception whose type cannot be rebuilt: then
    this error is raised in its place, carrying ``type_name`` and ``message``.
    """

    def __init__(self, text: str, *, type_name: str | None = None, message: str = "") -> None:
        super().__init__(text)
        self.type_name = type_name
        self.message = message


class CassetteDriftWarning(UserWarning):
    """A stored payload no longer fits the installed SDK's model (SDKs drift)."""


class StaleRecordingWarning(UserWarning):
    """A cassette recorded without llm-cassettes answered a request that changed since.

    Such cassettes are matched the way vcrpy matched them (method and URL, in
    recorded order), so the test passes on the old answer; the warning names the
    test, the cassette and the first differing fields. ``-W
    error::llm_cassettes.StaleRecordingWarning`` (or ``llm_cassettes_strict``) makes
    it fatal.
    """
