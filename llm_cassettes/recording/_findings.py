"""What replay noticed but did not fail on: stale recordings and unused ones.

A cassette recorded without this library is matched the way vcrpy matched it
(method and URL), so a request whose body changed since still gets the old
answer: the test passes, as it did before this library was installed, and the
difference is reported here instead (a :class:`Stale`). Interactions a test
never played (:class:`Unused`) are dead recordings, or calls the code silently
stopped making.

The cassette gathers its findings while it replays; :func:`collect` turns the
findings of the cassettes a test opened into one :class:`TestFindings`, which
travels as plain data (pytest-xdist sends it from the workers with the test's
report); the pytest plugin renders the session's findings in its terminal summary.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cassette import LLMCassette

__all__ = [
    "MAX_FIELDS",
    "Stale",
    "TestFindings",
    "Unused",
    "collect",
    "opened",
    "rerecord_all_command",
    "start_tracking",
    "stop_tracking",
    "tracked",
]

#: Differing fields kept per stale interaction.
MAX_FIELDS = 5


@dataclass(frozen=True)
class Stale:
    """A recorded interaction that answered a request whose body changed since."""

    cassette: str
    index: int
    request: str
    #: ``path: recorded … | live …`` lines, as in a miss report (at most MAX_FIELDS)
    differences: tuple[str, ...]
    more: int = 0


@dataclass(frozen=True)
class Unused:
    """A recorded interaction the test never played."""

    cassette: str
    index: int
    request: str


@dataclass
class TestFindings:
    """One test's findings, as plain data (it crosses process boundaries under xdist)."""

    __test__ = False  # not a test class, whatever its name says to pytest

    test_id: str
    stale: list[Stale] = field(default_factory=list)
    unused: list[Unused] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.stale or self.unused)

    def to_data(self) -> dict[str, Any]:
        return {
            "test_id": self.test_id,
            "stale": [asdict(item) for item in self.stale],
            "unused": [asdict(item) for item in self.unused],
        }

    @classmethod
    def from_data(cls, data: Any) -> TestFindings | None:
        """Back from :meth:`to_data`; None for anything else (a report from another plugin)."""
        try:
            return cls(
                str(data["test_id"]),
                [
                    Stale(**{**item, "differences": tuple(item["differences"])})
                    for item in data["stale"]
                ],
                [Unused(**item) for item in data["unused"]],
            )
        except (TypeError, KeyError):
            return None

    def stale_message(self) -> str:
        """The text of this test's :class:`~llm_cassettes.StaleRecordingWarning`."""
        first = self.stale[0]
        field = f": {first.differences[0].strip()}" if first.differences else ""
        count = len(self.stale)
        return (
            f"{self.test_id} replayed {count} stale recording{'s' * (count != 1)} from "
            f"{first.cassette} (recorded without llm-cassettes, matched by method and URL; "
            f"the request changed since: interactions[{first.index}]{field}). "
            f"Re-record: {rerecord_all_command([self.test_id])}"
        )

    def unused_message(self) -> str:
        """Why the test fails when its cassette has ``allow_unused=False``."""
        lines = [f"{self.test_id} never replayed {len(self.unused)} recorded interaction(s):"]
        lines += [
            f"  {item.cassette}: interactions[{item.index}] {item.request}" for item in self.unused
        ]
        lines.append(
            "Remove them (re-record: "
            f"{rerecord_all_command([self.test_id])}), or allow them: allow_unused=True"
        )
        return "\n".join(lines)


def collect(test_id: str, cassettes: Iterable[LLMCassette], *, unused: bool = True) -> TestFindings:
    """The findings of the cassettes one test opened, in the order it opened them."""
    findings = TestFindings(test_id)
    for cassette in cassettes:
        findings.stale.extend(cassette.stale)
        if unused:
            findings.unused.extend(cassette.unused())
    return findings


def rerecord_all_command(test_ids: Sequence[str]) -> str:
    """One command that records these tests again from scratch (and nothing else).

    ``rewrite`` rather than ``new_episodes``: a stale interaction still matches
    its request by method and URL, so ``new_episodes`` would replay it again.
    """
    return "pytest --record-mode=rewrite " + " ".join(shlex.quote(t) for t in test_ids)


# ---------------------------------------------------------------------------- tracking --
_opened: list[LLMCassette] | None = None


def start_tracking() -> None:
    """From now on (a test's setup), remember every cassette opened, for :func:`stop_tracking`."""
    global _opened
    _opened = []


def opened(cassette: LLMCassette) -> bool:
    """Note an opened cassette; False when no test is tracking (a script, a session fixture)."""
    if _opened is None:
        return False
    _opened.append(cassette)
    return True


def tracked() -> list[LLMCassette]:
    return list(_opened or ())


def stop_tracking() -> None:
    global _opened
    _opened = None
