"""Which files the commands read: one walker for ``show``, ``check``, ``diff``, ``upgrade``
and ``import-llama-stack``.

Pointed at a repository (``llm-cassettes upgrade .``), a command must not
touch ``.github/workflows/ci.yml`` or flag ``.pre-commit-config.yaml``. So a
walk skips hidden directories (``.git``, ``.github``, ``.venv``, the lock
directories), virtual environments and ``node_modules``, hidden files, and
YAML that is not a cassette: a cassette is a document with a top-level
``interactions`` key. A file named on the command line is always read, and
the command says when it is not a cassette.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._errors import CassetteFormatError

__all__ = [
    "CASSETTE_SUFFIXES",
    "CassetteFile",
    "cassette_files",
    "find_files",
    "looks_like_cassette",
    "read_text",
    "walked",
]

CASSETTE_SUFFIXES = (".yaml", ".yml")

#: Directories never walked besides hidden ones: installed code, not the project's cassettes.
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv"})

# A top-level ``interactions:`` key (YAML block style, what every recorder writes), or an
# ``"interactions":`` key anywhere (vcrpy's JSON serializer, YAML flow style).
_CASSETTE_KEY = re.compile(
    r"^(?:interactions|'interactions')[ \t]*:|\"interactions\"[ \t]*:", re.MULTILINE
)


@dataclass(frozen=True)
class Found:
    """A file to read; ``explicit`` when it was named rather than found by walking."""

    path: Path
    explicit: bool


@dataclass(frozen=True)
class CassetteFile:
    """A cassette to process: its text, or ``error`` (``FILE: why``) when it cannot be read."""

    path: Path
    explicit: bool
    text: str | None = None
    error: str | None = None


def walked(directory: Path) -> bool:
    """Whether a walk goes into ``directory`` (not hidden, not installed code)."""
    name = directory.name
    if name.startswith(".") or name in _SKIPPED_DIRS:
        return False
    return not (directory / "pyvenv.cfg").is_file()  # a virtual environment


def find_files(
    paths: Iterable[str | os.PathLike[str]], suffixes: tuple[str, ...] = CASSETTE_SUFFIXES
) -> list[Found]:
    """The files named and the files with ``suffixes`` under the directories named.

    Sorted and unique; a path that does not exist is returned as named, for the
    reader to report. Only the walk filters: a hidden file named explicitly is read.
    """
    found: dict[Path, bool] = {}
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found[path] = True
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if walked(Path(root, d))]
            for name in files:
                if name.endswith(suffixes) and not name.startswith("."):
                    found.setdefault(Path(root, name), False)
    return [Found(path, explicit) for path, explicit in sorted(found.items())]


def read_text(path: Path) -> str:
    """A file's text; :class:`CassetteFormatError` (``FILE: why``) when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise CassetteFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def looks_like_cassette(text: str) -> bool:
    """Whether a file's text is meant as a cassette (it may still be a broken one)."""
    return _CASSETTE_KEY.search(text) is not None


def cassette_files(
    paths: Iterable[str | os.PathLike[str]], suffixes: tuple[str, ...] = CASSETTE_SUFFIXES
) -> Iterator[CassetteFile]:
    """Each cassette under ``paths`` with its text, or the error reading it.

    Files found by walking that are not cassettes are left out silently; files
    named explicitly are always yielded (the loader then says what is wrong).
    """
    for found in find_files(paths, suffixes):
        try:
            text = read_text(found.path)
        except CassetteFormatError as exc:
            yield CassetteFile(found.path, found.explicit, error=str(exc))
            continue
        if found.explicit or looks_like_cassette(text):
            yield CassetteFile(found.path, found.explicit, text)
