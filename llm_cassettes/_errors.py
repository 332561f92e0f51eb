"""Errors and warnings the library raises, each naming the file and what to do."""

from __future__ import annotations

__all__ = [
    "CassetteDriftWarning",
    "CassetteFormatError",
    "CassetteLockError",
    "LLMCassettesError",
    "StaleRecordingWarning",
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
