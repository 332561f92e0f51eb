"""Test ID → cassette file: one file per test ID, and no two tests share one by accident.

pytest-recording names a cassette after the innermost class and the test name,
so ``TestA.TestInner.test_x`` and ``TestB.TestInner.test_x`` share a file, and
``test[a/b]`` and ``test[a:b]`` both become ``test[a-b]``. Here every enclosing
class is kept, and a name that had to be changed to be a file name carries a
short hash of the original, which keeps it unique. A credential in a test ID
(a key passed as a ``parametrize`` value) is replaced by a hash of it: file
names reach disk and ``git`` like cassette contents do.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

import pytest

from .._ini import INI_DIR
from ..scrub import hide_secrets_in_name

__all__ = [
    "INI_DIR",
    "cassette_dir",
    "cassette_name",
    "configured_tree",
    "legacy_cassette_name",
    "module_cassette_dir",
    "safe_stem",
]

#: The ini option naming the one tree all cassettes live in (unset: pytest-recording's layout).

#: Longest cassette file stem we produce; file systems allow 255 bytes per name.
MAX_STEM = 180
_UNSAFE = re.compile(r"[<>:\"/\\|?*\x00-\x1f\s']")
_LEGACY_UNSAFE = "<>?%*:|\"'/\\"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def test_name(item: pytest.Item) -> str:
    """Every enclosing class and the test name with its parametrize id, dot-joined."""
    classes = [node.name for node in item.listchain() if isinstance(node, pytest.Class)]
    return ".".join([*classes, item.name])


def safe_stem(name: str) -> str:
    """A file stem for ``name``: secrets and unsafe characters replaced, a hash added if
    anything changed."""
    stem = _UNSAFE.sub("-", hide_secrets_in_name(name))
    if stem != name or len(stem.encode("utf-8")) > MAX_STEM:
        digest = _short_hash(name)
        stem = stem.encode("utf-8")[: MAX_STEM - len(digest) - 1].decode("utf-8", "ignore")
        stem = f"{stem}-{digest}"
    return stem


def cassette_name(item: pytest.Item) -> str:
    """The collision-free cassette stem of a test."""
    return safe_stem(test_name(item))


def legacy_cassette_name(item: pytest.Item) -> str:
    """The file stem pytest-recording itself would use (innermost class only).

    A name too long for a file is shortened to ``prefix...<md5>`` exactly as
    pytest-recording does, so its existing cassettes are found under that name.
    """
    cls = getattr(item, "cls", None)
    name = f"{cls.__name__}.{item.name}" if cls else item.name
    for char in _LEGACY_UNSAFE:
        name = name.replace(char, "-")
    return _legacy_shorten(name)


def _legacy_shorten(name: str, suffix: str = ".yaml") -> str:
    """pytest-recording's rule (``_vcr.use_cassette``), in characters as it counts them."""
    from .._compat import pytest_recording_filename_limit  # imports vcrpy: not at plugin load

    limit = pytest_recording_filename_limit()
    if len(name) + len(suffix) <= limit:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    return f"{name[: limit - len(suffix) - len(digest) - 3]}...{digest}"


def module_cassette_dir(root: Path, tree: str, test_file: Path) -> Path:
    """``<root>/<tree>/<test file path without .py>``: a tree mirroring the tests."""
    try:
        relative = test_file.relative_to(root)
    except ValueError:
        relative = PurePosixPath(test_file.name)  # a test outside the root: keep its name only
    parts = [safe_stem(part) for part in relative.with_suffix("").parts]
    return root.joinpath(tree, *parts)


def configured_tree(config: pytest.Config) -> str:
    """The ``llm_cassettes_dir`` ini option, or "" for pytest-recording's layout."""
    return str(config.getini(INI_DIR) or "").strip()


def cassette_dir(config: pytest.Config, test_file: Path) -> Path:
    """The directory of a test module's cassettes: under ``llm_cassettes_dir``, mirroring the
    test paths, or pytest-recording's ``<test dir>/cassettes/<module>/``."""
    tree = configured_tree(config)
    if tree:
        return module_cassette_dir(config.rootpath, tree, test_file)
    return test_file.parent / "cassettes" / test_file.stem
