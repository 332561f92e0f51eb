"""The session's terminal summary: stale and unused recordings, gathered from every test.

Each test's findings travel on its call report (as plain data, so pytest-xdist
brings them from the workers) and end the session as one section, the same
whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ..recording import Stale, TestFindings, rerecord_all_command

__all__ = ["REPORT_ATTRIBUTE", "SessionReport", "render", "title"]

#: Stale interactions shown per test and cassette.
MAX_INTERACTIONS = 5
#: The attribute of call reports holding the test's findings (xdist serializes it).
REPORT_ATTRIBUTE = "llm_cassettes"


class SessionReport:
    """The session's findings, gathered from this process's tests or from xdist workers'
    reports, for the terminal summary (one instance per pytest run)."""

    def __init__(self) -> None:
        self.findings: list[TestFindings] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTRIBUTE, None)
        findings = TestFindings.from_data(data) if data else None
        if findings:
            self.findings.append(findings)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.findings:
            return
        found = sorted(self.findings, key=lambda f: f.test_id)  # xdist: in any order
        terminalreporter.write_sep("=", title(found), yellow=True)
        for line in render(found):
            terminalreporter.write_line(line)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def title(findings: Sequence[TestFindings]) -> str:
    stale = sum(1 for f in findings if f.stale)
    unused = sum(1 for f in findings if f.unused)
    parts = []
    if stale or not unused:
        parts.append(f"{_plural(stale, 'test')} replayed stale recordings")
    if unused:
        parts.append(f"{_plural(unused, 'test')} left recordings unused")
    return "llm-cassettes: " + ", ".join(parts)


def render(findings: Sequence[TestFindings]) -> list[str]:
    """The terminal summary section's lines, below its :func:`title`."""
    lines: list[str] = []
    stale = [f for f in findings if f.stale]
    if stale:
        lines.append(
            "Recorded without llm-cassettes, these cassettes are matched by method and URL, "
            "so they answered requests that have changed since they were recorded:"
        )
        for test in stale:
            lines += ["", test.test_id]
            by_cassette: dict[str, list[Stale]] = {}
            for item in test.stale:
                by_cassette.setdefault(item.cassette, []).append(item)
            for cassette, items in by_cassette.items():
                lines.append(f"  cassette: {cassette}")
                for item in items[:MAX_INTERACTIONS]:
                    lines.append(f"  interactions[{item.index}] {item.request}")
                    lines += [f"  {line}" for line in item.differences]
                    if item.more:
                        lines.append(f"      ... and {item.more} more difference(s)")
                if len(items) > MAX_INTERACTIONS:
                    lines.append(
                        f"  ... and {len(items) - MAX_INTERACTIONS} more stale interaction(s)"
                    )
    unused = [f for f in findings if f.unused]
    if unused:
        if lines:
            lines.append("")
        lines.append("Recorded but never replayed (dead recordings, or calls no longer made):")
        for test in unused:
            lines += ["", test.test_id]
            for item in test.unused:
                lines.append(f"  {item.cassette}: interactions[{item.index}] {item.request}")
    if stale:
        lines += [
            "",
            "To re-record exactly the stale tests:",
            f"  {rerecord_all_command([test.test_id for test in stale])}",
            "To make stale recordings fail instead: llm_cassettes_strict = true (or --llm-strict).",
        ]
    return lines
