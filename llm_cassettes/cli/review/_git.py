"""The cassettes changed since a git revision, with their text then and now.

For ``llm-cassettes diff --git REV``: every cassette changed since ``REV`` in the
working tree (untracked ones included: a fresh recording), skipping YAML that
is not a cassette and hidden directories, as every command's file walker does.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..._errors import CassetteFormatError
from ...format import CASSETTE_SUFFIXES, looks_like_cassette, read_text

__all__ = ["ChangedFile", "GitError", "git_changed"]


class GitError(Exception):
    """git failed (not a repository, unknown revision): exit code 2."""


def _git(*args: str, cwd: Path) -> str:
    try:
        result = subprocess.run(
            ["git", *args], check=False, cwd=cwd, capture_output=True, text=True
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


@dataclass
class ChangedFile:
    """A cassette changed since a revision: its text there and now (None: no file), or
    ``error`` (``FILE: why``) when a side cannot be read."""

    path: str
    old: str | None
    new: str | None
    error: str | None = None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(
            f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc


def git_changed(rev: str, paths: list[str], cwd: Path) -> Iterator[ChangedFile]:
    """Every cassette changed since ``rev``, with its text at ``rev`` and now.

    Includes cassettes not yet added to git (a fresh recording), and skips YAML
    files that are not cassettes (CI configs and the like) and hidden directories,
    as every command's file walker does.
    """
    top = Path(_git("rev-parse", "--show-toplevel", cwd=cwd).strip())
    _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=cwd)
    specs = paths or ["*.yaml", "*.yml"]
    names = _git("diff", "--name-only", "--no-renames", rev, "--", *specs, cwd=cwd).splitlines()
    names += _git(
        "ls-files", "--others", "--exclude-standard", "--full-name", "--", *specs, cwd=cwd
    ).splitlines()
    for name in sorted(set(names)):
        parts = PurePosixPath(name).parts
        if not name.endswith(CASSETTE_SUFFIXES) or any(p.startswith(".") for p in parts):
            continue
        current = top / name
        display = os.path.relpath(current, cwd)
        shown = subprocess.run(
            ["git", "show", f"{rev}:{name}"], check=False, cwd=top, capture_output=True
        )
        try:
            old = _decode(shown.stdout, f"{display} at {rev}") if shown.returncode == 0 else None
            new = read_text(current) if current.is_file() else None
        except CassetteFormatError as exc:
            yield ChangedFile(display, None, None, str(exc))
            continue
        if not any(text is not None and looks_like_cassette(text) for text in (old, new)):
            continue
        yield ChangedFile(display, old, new)
