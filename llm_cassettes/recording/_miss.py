"""The explanation a test gets when its request matches nothing in the cassette."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vcr.request import Request

from .._compat import VCRPY_DEFAULT_MATCH_ON
from ..matching import canonical_body, diff, format_diff

if TYPE_CHECKING:
    from ._cassette import LLMCassette

_DIFF_LINES = 12
_CANDIDATES = 200
#: The request parts compared before bodies: those vcrpy matches on by default.
_PARTS = VCRPY_DEFAULT_MATCH_ON


def _request_part(request: Request, name: str) -> Any:
    value = getattr(request, name)
    return tuple(value) if name == "query" else value


def explain(cassette: LLMCassette, request: Request) -> str:
    from ._cassette import display_path, rerecord_command

    live = cassette.filter_request(request) or request
    mode = getattr(cassette.record_mode, "value", cassette.record_mode)
    lines = [f"No recorded interaction matches {live.method} {live.uri}", ""]
    recorded = cassette.recorded_for(request)
    if recorded:
        lines.append(
            f"The cassette has {recorded} recorded response(s) for this exact request and all "
            "were already played: the test now makes it more often than when it was recorded."
        )
    else:
        lines += _closest(cassette, live)
    lines += [
        "",
        f"  cassette:    {display_path(cassette.file_path)}",
        f"  test:        {cassette.test_id or '(not run by pytest)'}",
        f"  record mode: {mode}",
        "",
        "To re-record this test:",
        f"  {rerecord_command(cassette.test_id)}",
    ]
    return "\n".join(lines)


def _closest(cassette: LLMCassette, live: Request) -> list[str]:
    if not cassette.data:
        return ["The cassette is empty (or does not exist yet)."]
    scored = [
        (
            index,
            [name for name in _PARTS if _request_part(stored, name) != _request_part(live, name)],
        )
        for index, (stored, _) in enumerate(cassette.data)
    ]
    fewest = min(len(differing) for _, differing in scored)
    candidates = [item for item in scored if len(item[1]) == fewest][:_CANDIDATES]
    options = cassette.body_options()
    live_body = canonical_body(live, options)
    # The candidate whose canonical body differs in the fewest places; the first on a tie.
    index, differing, differences = min(
        (
            (
                index,
                differing,
                diff(canonical_body(cassette.data[index][0], options), live_body, limit=50),
            )
            for index, differing in candidates
        ),
        key=lambda found: len(found[2]),
    )
    stored = cassette.data[index][0]
    out = [f"Closest recorded request: interactions[{index}] {stored.method} {stored.uri}"]
    for name in differing:
        out.append(
            f"  {name}: recorded {_request_part(stored, name)!r} "
            f"| live {_request_part(live, name)!r}"
        )
    if differences:
        out.append("  body differs (canonical form: ids, key order and defaults normalised):")
        shown = format_diff(differences[:_DIFF_LINES]).splitlines()
        out += [f"  {line}" if not line.startswith("  ") else line for line in shown]
        if len(differences) > _DIFF_LINES:
            out.append(f"    ... and {len(differences) - _DIFF_LINES} more difference(s)")
    elif not differing:
        out.append("  (it differs only in what a custom matcher compares)")
    return out
