"""One writer per cassette at a time, across threads and processes (pytest-xdist workers).

The lock is an OS file lock (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on
Windows), so the kernel releases it when its holder dies, even by SIGKILL: a
killed test run never leaves a lock that blocks the next one.

Lock files live next to the cassettes, in a ``.llm-cassettes-locks`` directory
per cassette directory, which holds its own ``.gitignore`` (as
``.pytest_cache`` does), so ``git status`` stays clean without any setup. Next
to the cassette, every process that can write the cassette finds the same lock
(whatever its temporary directory, in a container sharing the checkout too),
and no other user can create it first: a lock directory in the shared
temporary directory could be squatted by another account. A lock directory
or file that is a symlink is refused rather than followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .._errors import CassetteLockError

__all__ = ["LOCK_DIR", "CassetteLockError", "CassetteLockTimeout", "cassette_lock", "lock_path"]

#: Seconds to wait for another process to finish writing the same cassette. A save
#: takes milliseconds; waiting this long means the holder is stuck, not busy.
LOCK_TIMEOUT = 120.0

#: The directory of lock files in each cassette directory (hidden: file walkers skip it).
LOCK_DIR = ".llm-cassettes-locks"

_GITIGNORE = "# Write locks of llm-cassettes (created while saving); never committed.\n*\n"
_MAX_NAME = 200  # bytes of a cassette file name used as is in its lock's name


class CassetteLockTimeout(CassetteLockError):
    """Another process held a cassette's lock for longer than :data:`LOCK_TIMEOUT`."""


def lock_path(cassette: str | os.PathLike[str]) -> Path:
    """The lock file of a cassette: the same for every process, whatever its cwd."""
    path = Path(os.path.abspath(os.fspath(cassette)))
    directory = Path(os.path.realpath(path.parent))
    name = path.name
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME:
        name = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return directory / LOCK_DIR / f"{name}.lock"


def _prepare_lock_dir(cassette: str | os.PathLike[str], lock: Path) -> None:
    """Create the lock directory (and its ``.gitignore``); refuse symlinks."""
    directory = lock.parent
    try:
        directory.mkdir(exist_ok=True)
        if not stat.S_ISDIR(os.lstat(directory).st_mode):
            raise _lock_error(cassette, directory, "it is not a directory (a symlink?); remove it")
        ignore = directory / ".gitignore"
        if not os.path.lexists(ignore):
            try:
                with open(ignore, "x", encoding="utf-8") as handle:
                    handle.write(_GITIGNORE)
            except FileExistsError:
                pass  # another process wrote it just now
        if os.path.islink(lock):
            raise _lock_error(cassette, lock, "it is a symlink; remove it")
    except OSError as exc:
        raise _lock_error(cassette, exc.filename or directory, exc.strerror or str(exc)) from exc


def _lock_error(
    cassette: str | os.PathLike[str], where: str | os.PathLike[str], why: str
) -> CassetteLockError:
    return CassetteLockError(
        f"{os.fspath(cassette)}: cannot take the cassette's write lock {os.fspath(where)}: {why}"
    )


@contextmanager
def cassette_lock(
    cassette: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT
) -> Iterator[None]:
    """Hold the cassette's write lock. Not re-entrant: do not nest for the same cassette.

    The cassette's directory must exist.
    """
    path = lock_path(cassette)
    _prepare_lock_dir(cassette, path)
    lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise CassetteLockTimeout(
            f"{os.fspath(cassette)}: another process has held its write lock "
            f"({lock.lock_file}) for more than {timeout:g} s"
        ) from exc
    except OSError as exc:
        raise _lock_error(cassette, path, exc.strerror or str(exc)) from exc
    try:
        yield
    finally:
        lock.release()
