"""Replaying a tool call: its recorded outcome instead of the real function.

A result comes back with its type, a stream as a generator of the same items
(then the same error, if the tool raised after them), an exception as the same
exception type with the same message: the code under test cannot tell the
replay from the live call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from vcr.request import Request

from ..._errors import CassetteFormatError, ToolReplayError
from ...format import ASYNC_STREAM, ERROR, OUTCOMES, RESULT, STREAM
from .._cassette import display_path
from ._encoding import ToolValues

if TYPE_CHECKING:
    from .._cassette import LLMCassette

__all__ = ["replay", "replay_from"]


def replay_from(cassette: LLMCassette, request: Request, values: ToolValues) -> Any:
    """The recorded outcome of a call; a malformed record names file and place."""
    response = cassette.play_response(request)
    try:
        result, failure = replay(response, values)
    except (TypeError, ValueError, LookupError, AttributeError) as exc:
        # Shapes are checked when the cassette loads (check_outcome); this is the net
        # for what only the tool's own types can tell (binascii.Error is a ValueError).
        raise CassetteFormatError(
            f"{_place(cassette, response)}: tool {values.name!r} cannot be replayed "
            f"from it ({type(exc).__name__}: {exc})"
        ) from exc
    if failure is not None:
        raise failure
    return result


def replay(response: Any, values: ToolValues) -> tuple[Any, BaseException | None]:
    """(the result, or None) and (the exception to raise, or None) of a stored outcome."""
    if not isinstance(response, Mapping) or not (set(OUTCOMES) & set(response)):
        raise ToolReplayError(
            f"tool {values.name!r}: the matching interaction holds no tool outcome "
            f"(expected one of {', '.join(OUTCOMES)})"
        )
    error = response.get(ERROR)
    for key in (STREAM, ASYNC_STREAM):
        if key in response:
            items = [values.decode(item, f"{key}[{i}]") for i, item in enumerate(response[key])]
            failure = values.rebuild_error(error) if error is not None else None
            if key == STREAM:
                return _replay_stream(items, failure), None
            return _replay_async_stream(items, failure), None
    if error is not None:
        return None, values.rebuild_error(error)
    return values.decode(response[RESULT], RESULT), None


def _replay_stream(items: list[Any], failure: BaseException | None) -> Iterator[Any]:
    yield from items
    if failure is not None:
        raise failure


async def _replay_async_stream(items: list[Any], failure: BaseException | None) -> Any:
    for item in items:
        yield item
    if failure is not None:
        raise failure


def _place(cassette: LLMCassette, response: Any) -> str:
    """``FILE: interactions[N].response`` of a response object held by ``cassette``."""
    for index, (_, stored) in enumerate(cassette.data):
        if stored is response:
            return f"{display_path(cassette.file_path)}: interactions[{index}].response"
    return display_path(cassette.file_path)
