"""The pytest plugin: pytest-recording, with typed, scrubbed cassettes one per test ID.

Registered through the ``pytest11`` entry point. pytest-recording keeps doing
everything it does (markers, ``--record-mode``, ``--block-network``,
fixtures); this plugin only

* turns the ``VCR`` it builds into an :class:`~llm_cassettes._vcr.LLMVCR`
  (``pytest_recording_configure``), and
* names cassettes by full test ID (``vcr_cassette_dir`` / ``default_cassette_name``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import naming

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vcr import VCR

    from .tools import ToolPatcher

INI_DIR = "llm_cassettes_dir"

_current_item: pytest.Item | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_DIR,
        help=(
            "Keep all cassettes in this directory (relative to the rootdir), mirroring the "
            "test paths: <dir>/<test file path>/<Class.test_name[param]>.yaml. Unset: "
            "pytest-recording's layout (<test dir>/cassettes/<module>/)."
        ),
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after every entry-point plugin, so these fixtures take
    # precedence over pytest-recording's same-named ones (a conftest still wins).
    config.pluginmanager.register(_Fixtures(), "llm_cassettes.fixtures")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the running test, so a cassette can name it in errors and metadata."""
    global _current_item
    _current_item = item


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    from ._vcr import LLMVCR  # imported late: pytest-recording registers vcr for assert rewriting

    llm_vcr = LLMVCR.adopt(vcr)
    if _current_item is not None:
        llm_vcr.test_id = _current_item.nodeid


def _tree(config: pytest.Config) -> str:
    return str(config.getini(INI_DIR) or "").strip()


class _Fixtures:
    @pytest.fixture
    def llm_tools(self) -> Iterator[ToolPatcher]:
        """Record callables the test does not own as tools: ``llm_tools.patch(...)``, undone after."""
        from .tools import ToolPatcher

        patcher = ToolPatcher()
        try:
            yield patcher
        finally:
            patcher.undo()

    @pytest.fixture(scope="module")
    def vcr_cassette_dir(self, request: pytest.FixtureRequest) -> str:
        """Where this module's cassettes live (see the ``llm_cassettes_dir`` ini option)."""
        test_file = Path(request.node.path)
        tree = _tree(request.config)
        if tree:
            return os.fspath(naming.module_cassette_dir(request.config.rootpath, tree, test_file))
        return os.fspath(test_file.parent / "cassettes" / test_file.stem)

    @pytest.fixture
    def default_cassette_name(self, request: pytest.FixtureRequest, vcr_cassette_dir: str) -> str:
        """The test's cassette stem: its full ID, unique within the module's directory."""
        marker = request.node.get_closest_marker("default_cassette")
        if marker is not None:
            assert marker.args, "pass the cassette name to `pytest.mark.default_cassette`"
            return str(marker.args[0])
        item: Any = request.node
        if not _tree(request.config):
            legacy = naming.legacy_cassette_name(item)
            if (Path(vcr_cassette_dir) / f"{legacy}.yaml").exists():
                return legacy  # an existing pytest-recording cassette keeps working in place
        return naming.cassette_name(item)
