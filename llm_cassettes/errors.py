"""Errors and warnings the library raises, each naming the file and what to do."""

from __future__ import annotations

__all__ = ["CassetteDriftWarning", "CassetteFormatError", "LLMCassettesError"]


class LLMCassettesError(Exception):
    """Base of this library's errors."""


class CassetteFormatError(LLMCassettesError, ValueError):
    """A cassette file cannot be read; the message names the file and the place.

    It is raised, never logged and swallowed: vcrpy would treat such a file as
    empty and a recording run would then overwrite it.
    """


class CassetteDriftWarning(UserWarning):
    """A stored payload no longer fits the installed SDK's model (SDKs drift)."""
