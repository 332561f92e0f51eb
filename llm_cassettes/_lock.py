"""One writer per cassette at a time, across threads and processes (pytest-xdist workers).

The lock is an OS file lock (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on
Windows), so the kernel releases it when its holder dies, even by SIGKILL: a
killed test run never leaves a lock that blocks the next one.

The lock files live in the temporary directory, named by a hash of the
cassette's resolved path, not next to the cassette: ``filelock`` keeps its
file after release, and a cassette directory is committed to the repository,
where a ``.lock`` per cassette would be noise in every ``git status``. Every
process on one machine resolves the same cassette to the same lock file.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import LLMCassettesError

__all__ = ["CassetteLockTimeout", "cassette_lock", "lock_path"]

#: Seconds to wait for another process to finish writing the same cassette. A save
#: takes milliseconds; waiting this long means the holder is stuck, not busy.
LOCK_TIMEOUT = 120.0


class CassetteLockTimeout(LLMCassettesError):
    """Another process held a cassette's lock for longer than :data:`LOCK_TIMEOUT`."""


def _lock_dir() -> Path:
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name (some containers)
        user = "any"
    directory = Path(tempfile.gettempdir()) / f"llm-cassettes-locks-{user}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def lock_path(cassette: str | os.PathLike[str]) -> Path:
    """The lock file of a cassette: the same for every process, whatever its cwd."""
    resolved = os.path.realpath(os.fspath(cassette))
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return _lock_dir() / f"{digest}.lock"


@contextmanager
def cassette_lock(
    cassette: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT
) -> Iterator[None]:
    """Hold the cassette's write lock. Not re-entrant: do not nest for the same cassette."""
    lock = FileLock(lock_path(cassette), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise CassetteLockTimeout(
            f"{os.fspath(cassette)}: another process has held its write lock "
            f"({lock.lock_file}) for more than {timeout:g} s"
        ) from exc
    try:
        yield
    finally:
        lock.release()
