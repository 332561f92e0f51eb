"""A pytest plugin for ``llm-cassettes check --orphans``: which cassettes the tests use.

Loaded with ``-p`` into a ``pytest --collect-only`` subprocess, so the test IDs
are the ones pytest itself collects (parametrize ids, classes, conftest
plugins) and each is mapped to its cassette by the same rules the plugin
applies when the test runs (:mod:`llm_cassettes.pytest_plugin`), never by a copy of
them. Fixtures are not run, so a ``vcr_cassette_dir`` overridden in a
conftest is not seen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ...pytest_plugin import cassette_dir, cassette_name, configured_tree, legacy_cassette_name

#: Environment variable naming the JSON file the expected cassette paths are written to.
OUTPUT_ENV = "LLM_CASSETTES_COLLECT_OUTPUT"


def expected_cassettes(item: pytest.Item) -> set[Path]:
    """Every cassette file ``item`` may read: its own, pytest-recording's, marker extras."""
    directory = cassette_dir(item.config, Path(item.path))
    names = {cassette_name(item)}
    if not configured_tree(item.config):
        names.add(legacy_cassette_name(item))
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        names.add(str(marker.args[0]))
    paths = {directory / f"{name}.yaml" for name in names}
    for vcr_marker in item.iter_markers("vcr"):
        for extra in vcr_marker.args:
            extra_path = directory / str(extra)
            paths.add(extra_path if extra_path.suffix else extra_path.with_suffix(".yaml"))
    return {Path(os.path.abspath(path)) for path in paths}


def pytest_collection_finish(session: pytest.Session) -> None:
    output = os.environ.get(OUTPUT_ENV)
    if not output:
        return
    expected: set[Path] = set()
    for item in session.items:
        expected |= expected_cassettes(item)
    Path(output).write_text(json.dumps(sorted(map(str, expected))), encoding="utf-8")
