"""This plugin's fixtures, registered after pytest-recording's so same-named ones win.

A conftest's fixtures still win over these, the pytest way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._naming import cassette_dir, cassette_name, configured_tree, legacy_cassette_name

if TYPE_CHECKING:
    from ..recording.tools import ToolPatcher


@pytest.fixture
def llm_tools() -> Iterator[ToolPatcher]:
    """Record callables the test does not own as tools: ``llm_tools.patch(...)``, undone after."""
    from ..recording.tools import ToolPatcher

    patcher = ToolPatcher()
    try:
        yield patcher
    finally:
        patcher.undo()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """Where this module's cassettes live (see the ``llm_cassettes_dir`` ini option)."""
    return os.fspath(cassette_dir(request.config, Path(request.node.path)))


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest, vcr_cassette_dir: str) -> str:
    """The test's cassette stem: its full ID, unique within the module's directory."""
    marker = request.node.get_closest_marker("default_cassette")
    if marker is not None:
        assert marker.args, "pass the cassette name to `pytest.mark.default_cassette`"
        return str(marker.args[0])
    item: Any = request.node
    if not configured_tree(request.config):
        legacy = legacy_cassette_name(item)
        try:
            found = (Path(vcr_cassette_dir) / f"{legacy}.yaml").exists()
        except OSError:  # a name this file system cannot hold: there is no such file
            found = False
        if found:
            return legacy  # an existing pytest-recording cassette keeps working in place
    return cassette_name(item)
