"""The pytest plugin: pytest-recording, with typed, scrubbed cassettes one per test ID.

Registered through the ``pytest11`` entry point. pytest-recording keeps doing
everything it does (markers, ``--record-mode``, ``--block-network``,
fixtures); this plugin only

* turns the ``VCR`` it builds into an :class:`~llm_cassettes._vcr.LLMVCR`
  (``pytest_recording_configure``), and
* names cassettes by full test ID (``vcr_cassette_dir`` / ``default_cassette_name``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from . import _fixtures
from ._fixtures import INI_DIR

if TYPE_CHECKING:
    from vcr import VCR


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
    config.pluginmanager.register(_fixtures, "llm_cassettes.fixtures")


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
