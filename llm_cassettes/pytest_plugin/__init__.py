"""The pytest plugin: pytest-recording, with typed, scrubbed cassettes one per test ID.

Registered through the ``pytest11`` entry point ``llm_cassettes`` (``-p
no:llm_cassettes`` switches it off). pytest-recording keeps doing
everything it does (markers, ``--record-mode``, ``--block-network``,
fixtures); this plugin only

* turns the ``VCR`` it builds into an :class:`~llm_cassettes.recording.LLMVCR`
  (``pytest_recording_configure``),
* names cassettes by full test ID (``vcr_cassette_dir`` / ``default_cassette_name``),
* reports what replay noticed without failing: stale recordings in cassettes
  recorded without this library, and recordings no test played. Each test's
  findings travel on its call report (so pytest-xdist brings them from the
  workers) and end the session as one terminal summary section (``_summary``).

Its fixtures (``_fixtures``) are registered at configure time, after
pytest-recording's, so the same-named ones win; ``_naming`` maps test IDs to
cassette files, for the fixtures, ``check --orphans`` and the importer alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .. import recording
from .._errors import StaleRecordingWarning, UnusedRecordingsError
from .._ini import INI_SECRETS, INI_STRICT, not_a_pattern
from . import _fixtures
from ._naming import (
    INI_DIR,
    cassette_dir,
    cassette_name,
    configured_tree,
    legacy_cassette_name,
    module_cassette_dir,
    safe_stem,
)
from ._summary import REPORT_ATTRIBUTE, SessionReport

if TYPE_CHECKING:
    from vcr import VCR

__all__ = [
    # what other parts of the package use: the plugin's naming rules
    "cassette_dir",
    "cassette_name",
    "configured_tree",
    "legacy_cassette_name",
    "module_cassette_dir",
    # what pytest uses: the hooks
    "pytest_addoption",
    "pytest_configure",
    "pytest_recording_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "safe_stem",
]

_TEST_FINDINGS = pytest.StashKey[recording.TestFindings]()

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
    parser.addini(
        INI_STRICT,
        type="bool",
        default=False,
        help=(
            "Match every cassette on canonical request bodies, also those recorded without "
            "llm-cassettes (matched by method and URL otherwise): stale recordings then fail."
        ),
    )
    for ini, option in INI_SECRETS.items():
        parser.addini(
            ini,
            type="linelist",
            default=[],
            help=(
                f"Project-wide {option.replace('_', ' ')} (one per line), added to every "
                f"cassette's {option} and read by llm-cassettes check too."
            ),
        )
    parser.getgroup("llm-cassettes").addoption(
        "--llm-strict",
        action="store_true",
        default=False,
        help=f"match every cassette on request bodies (as the ini option {INI_STRICT} = true)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after every entry-point plugin, so these fixtures take
    # precedence over pytest-recording's same-named ones (a conftest still wins).
    config.pluginmanager.register(_fixtures, "llm_cassettes.fixtures")
    config.pluginmanager.register(SessionReport(), "llm_cassettes.report")
    for ini in INI_SECRETS:
        problem = not_a_pattern(config.getini(ini)) if ini.endswith("_patterns") else None
        if problem:
            raise pytest.UsageError(f"{ini}: {problem}")


def _project_options(config: pytest.Config) -> dict[str, tuple[str, ...]]:
    """The project-wide secret rules set in the pytest configuration."""
    found = {option: tuple(config.getini(ini)) for ini, option in INI_SECRETS.items()}
    return {option: values for option, values in found.items() if values}


def _strict(config: pytest.Config) -> bool:
    return bool(config.getoption("--llm-strict") or config.getini(INI_STRICT))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the running test, so a cassette can name it in errors and metadata."""
    global _current_item
    _current_item = item
    recording.start_tracking()  # the vcr fixture opens the test's cassette during setup


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """At the end of the test: its findings, a warning if stale, a failure if unused."""
    __tracebackhide__ = True  # the failure is the test's, not this hook's
    try:
        result = yield
    except BaseException:  # it did not run to the end: what it left unplayed means nothing
        tracked = recording.tracked()
        item.stash[_TEST_FINDINGS] = recording.collect(item.nodeid, tracked, unused=False)
        raise
    findings = recording.collect(item.nodeid, recording.tracked())
    item.stash[_TEST_FINDINGS] = findings
    if findings.stale:
        warnings.warn(StaleRecordingWarning(findings.stale_message()), stacklevel=1)
    forbidden = [c for c in recording.tracked() if not c.allow_unused and c.unused()]
    if forbidden:
        unused = recording.collect(item.nodeid, forbidden)
        raise UnusedRecordingsError(unused.unused_message())
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    try:
        return (yield)
    finally:
        recording.stop_tracking()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    findings = item.stash.get(_TEST_FINDINGS, None)
    if call.when == "call" and findings:
        setattr(report, REPORT_ATTRIBUTE, findings.to_data())
    return report


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    from ..recording import LLMVCR  # late: pytest-recording registers vcr for assert rewriting

    llm_vcr = LLMVCR.adopt(vcr)
    llm_vcr.strict = _strict(config)
    llm_vcr.project_options = _project_options(config)
    if _current_item is not None:
        llm_vcr.test_id = _current_item.nodeid
        # A cassette shared on purpose holds other tests' recordings too.
        llm_vcr.report_unused = _current_item.get_closest_marker("default_cassette") is None
