"""The pytest plugin: pytest-recording, with typed, scrubbed cassettes one per test ID.

Registered through the ``pytest11`` entry point. pytest-recording keeps doing
everything it does (markers, ``--record-mode``, ``--block-network``,
fixtures); this plugin only

* turns the ``VCR`` it builds into an :class:`~llm_cassettes._vcr.LLMVCR`
  (``pytest_recording_configure``),
* names cassettes by full test ID (``vcr_cassette_dir`` / ``default_cassette_name``),
* reports what replay noticed without failing: stale recordings in cassettes
  recorded without this library, and recordings no test played. Each test's
  findings travel on its call report (so pytest-xdist brings them from the
  workers) and end the session as one terminal summary section.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import StaleRecordingWarning, UnusedRecordingsError
from ..recording import _findings
from . import _fixtures
from ._fixtures import INI_DIR

if TYPE_CHECKING:
    from vcr import VCR

INI_STRICT = "llm_cassettes_strict"
_REPORT_ATTRIBUTE = "llm_cassettes"  # on call reports; xdist serializes report attributes
_TEST_FINDINGS = pytest.StashKey[_findings.TestFindings]()

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
    config.pluginmanager.register(_SessionReport(), "llm_cassettes.report")


def _strict(config: pytest.Config) -> bool:
    return bool(config.getoption("--llm-strict") or config.getini(INI_STRICT))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the running test, so a cassette can name it in errors and metadata."""
    global _current_item
    _current_item = item
    _findings.start_tracking()  # the vcr fixture opens the test's cassette during setup


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """At the end of the test: its findings, a warning if stale, a failure if unused."""
    __tracebackhide__ = True  # the failure is the test's, not this hook's
    try:
        result = yield
    except BaseException:  # it did not run to the end: what it left unplayed means nothing
        tracked = _findings.tracked()
        item.stash[_TEST_FINDINGS] = _findings.collect(item.nodeid, tracked, unused=False)
        raise
    findings = _findings.collect(item.nodeid, _findings.tracked())
    item.stash[_TEST_FINDINGS] = findings
    if findings.stale:
        warnings.warn(StaleRecordingWarning(findings.stale_message()), stacklevel=1)
    forbidden = [c for c in _findings.tracked() if not c.allow_unused and c.unused()]
    if forbidden:
        unused = _findings.collect(item.nodeid, forbidden)
        raise UnusedRecordingsError(unused.unused_message())
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    try:
        return (yield)
    finally:
        _findings.stop_tracking()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    findings = item.stash.get(_TEST_FINDINGS, None)
    if call.when == "call" and findings:
        setattr(report, _REPORT_ATTRIBUTE, findings.to_data())
    return report


class _SessionReport:
    """The session's findings, gathered from this process's tests or from xdist workers'
    reports, for the terminal summary (one instance per pytest run)."""

    def __init__(self) -> None:
        self.findings: list[_findings.TestFindings] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, _REPORT_ATTRIBUTE, None)
        findings = _findings.TestFindings.from_data(data) if data else None
        if findings:
            self.findings.append(findings)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.findings:
            return
        found = sorted(self.findings, key=lambda f: f.test_id)  # xdist: in any order
        terminalreporter.write_sep("=", _findings.title(found), yellow=True)
        for line in _findings.render(found):
            terminalreporter.write_line(line)


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    from ..recording._vcr import (
        LLMVCR,
    )  # imported late: pytest-recording registers vcr for assert rewriting

    llm_vcr = LLMVCR.adopt(vcr)
    llm_vcr.strict = _strict(config)
    if _current_item is not None:
        llm_vcr.test_id = _current_item.nodeid
        # A cassette shared on purpose holds other tests' recordings too.
        llm_vcr.report_unused = _current_item.get_closest_marker("default_cassette") is None
