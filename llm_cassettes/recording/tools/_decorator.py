"""The ``tool`` decorator: a function's calls recorded in the test's cassette.

A tool call is an interaction like an HTTP one, so the cassette's own
machinery decides everything: a request ``TOOL tool://<name>`` whose body is
the JSON of the bound arguments (matched canonically, with id normalization,
like a request body), and a response holding the outcome (see
:mod:`llm_cassettes.format` for the stored shape). Record modes,
recorded-order replay and the explanation of a miss are those of HTTP
requests because they are the same code.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from vcr.request import Request

from ..._wire import dumps_compact
from ...format import ASYNC_STREAM, ERROR, METHOD, RESULT, STREAM, tool_uri, valid_tool_name
from .._cassette import LLMCassette, current_cassette
from ._encoding import ToolValues
from ._replay import replay_from

__all__ = ["RecordedTool", "tool"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def tool(fn: F, /) -> F: ...


@overload
def tool(
    fn: str | None = None,
    /,
    *,
    name: str | None = None,
    types: Iterable[type] = (),
    ignore: Iterable[str] = (),
) -> Callable[[F], F]: ...


def tool(
    fn: Any = None,
    /,
    *,
    name: str | None = None,
    types: Iterable[type] = (),
    ignore: Iterable[str] = (),
) -> Any:
    """Record and replay calls of a function or method in the active cassette.

    Usable bare (``@tool``) or configured (``@tool(name="web_search")``, or
    ``@tool("web_search")``), on sync and async functions, generators and methods.
    ``types`` lists result classes defined outside the tool's own module that replay
    may rebuild. ``ignore`` names arguments left out of the recorded request (a client
    or a connection: things that are not data). Outside a cassette it is a plain call.
    """
    if isinstance(fn, str):
        name, fn = fn, None

    def decorate(function: F) -> F:
        recorded = RecordedTool(function, name=name, types=types, ignore=ignore)
        return recorded.wrapper()  # type: ignore[return-value]

    return decorate if fn is None else decorate(fn)


class RecordedTool:
    """One recorded tool: how its calls become requests and its outcomes YAML, and back."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None,
        types: Iterable[type],
        ignore: Iterable[str],
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@tool needs a function or method, not {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "") or ""
        if not valid_tool_name(self.name):
            raise ValueError(
                f"tool name {self.name!r}: use letters, digits, '_', '.' and '-' only "
                "(pass name=...)"
            )
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):  # some builtins have none: record args positionally
            self.signature = None
        parameters = list(self.signature.parameters) if self.signature else []
        # A function in a class body is called with its receiver (``self``/``cls``) first,
        # which is not data. Whether a call has one is decided per call (see _receives):
        # a plain ``score(self, text)`` called as ``score("ham", "hi")`` keeps "ham".
        first = next(iter(self.signature.parameters.values()), None) if self.signature else None
        self.may_bind = (
            first is not None
            and first.kind in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD)
            and not inspect.ismethod(fn)
        )
        self._receiver_types: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()
        self.ignore = frozenset(ignore)
        open_ended = self.signature is None or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in self.signature.parameters.values()
        )
        unknown = [] if open_ended else sorted(self.ignore - set(parameters))
        if unknown:
            raise ValueError(f"tool {self.name!r}: ignore={unknown} names no parameter")
        self.values = ToolValues(self.name, types, getattr(fn, "__module__", None))

    # -- wrapping ------------------------------------------------------------------------
    def wrapper(self) -> Callable[..., Any]:
        fn = self.fn
        if inspect.iscoroutinefunction(fn):

            async def async_tool(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(args, kwargs)

            wrapped: Callable[..., Any] = async_tool
        elif inspect.isasyncgenfunction(fn):

            async def async_gen_tool(*args: Any, **kwargs: Any) -> Any:
                # Looked up on first iteration, when the original body would start too.
                stream = self.call(args, kwargs)
                try:
                    async for item in stream:
                        yield item
                finally:  # ``async for`` does not close what it stops reading
                    await _aclose(stream)

            wrapped = async_gen_tool
        elif inspect.isgeneratorfunction(fn):

            def gen_tool(*args: Any, **kwargs: Any) -> Any:
                return (yield from self.call(args, kwargs))

            wrapped = gen_tool
        else:

            def sync_tool(*args: Any, **kwargs: Any) -> Any:
                return self.call(args, kwargs)

            wrapped = sync_tool
        functools.update_wrapper(wrapped, fn)
        wrapped.__llm_tool__ = self  # type: ignore[attr-defined]
        return wrapped

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        cassette = current_cassette()
        request = self.request(args, kwargs) if cassette is not None else None
        if cassette is None or request is None:
            return self.fn(*args, **kwargs)
        if cassette.can_play_response_for(request):  # raises CassetteMiss if it may not record
            return replay_from(cassette, request, self.values)
        try:
            result = self.fn(*args, **kwargs)
        except Exception as exc:
            self.append(cassette, request, {ERROR: self.values.encode_error(exc)})
            raise
        return self.record(cassette, request, result)

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        cassette = current_cassette()
        request = self.request(args, kwargs) if cassette is not None else None
        if cassette is None or request is None:
            return await self.fn(*args, **kwargs)
        if cassette.can_play_response_for(request):
            return replay_from(cassette, request, self.values)
        try:
            result = await self.fn(*args, **kwargs)
        except Exception as exc:
            self.append(cassette, request, {ERROR: self.values.encode_error(exc)})
            raise
        return self.record(cassette, request, result)

    # -- the request ---------------------------------------------------------------------
    def request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request | None:
        """The call as a vcrpy request; None when the arguments do not fit the signature
        (the real call then raises Python's own TypeError)."""
        arguments = self.arguments(args, kwargs)
        if arguments is None:
            return None
        body = dumps_compact(arguments)
        return Request(METHOD, tool_uri(self.name), body.encode("utf-8"), {})

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if self.signature is None:
            return {
                "args": [self.values.plain(v, f"args[{i}]") for i, v in enumerate(args)],
                **{k: self.values.plain(v, k) for k, v in kwargs.items()},
            }
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        drop_first = self.may_bind and bool(args) and self._receives(args[0])
        out: dict[str, Any] = {}
        for position, (name, value) in enumerate(bound.arguments.items()):
            if (position == 0 and drop_first) or name in self.ignore:
                continue
            kind = self.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL and not value:
                continue  # no extra positional arguments: nothing worth a line in the YAML
            if kind is inspect.Parameter.VAR_KEYWORD:
                for key, item in value.items():
                    if key not in self.ignore:
                        out[key] = self.values.plain(item, key)
            else:
                out[name] = self.values.plain(value, name)
        return out

    def _receives(self, value: Any) -> bool:
        """Whether ``value`` is the receiver of a bound call: an instance whose class
        (or a class whose hierarchy) holds this very tool as a method (or classmethod)."""
        is_class = isinstance(value, type)
        owner = value if is_class else type(value)
        known = self._receiver_types.get(owner)
        if known is None:
            known = any(self._held_by(klass, is_class) for klass in owner.__mro__)
            self._receiver_types[owner] = known
        return known

    def _held_by(self, klass: type, as_classmethod: bool) -> bool:
        for attribute in vars(klass).values():
            if as_classmethod:
                if not isinstance(attribute, classmethod):
                    continue
                attribute = attribute.__func__
            if inspect.isfunction(attribute) and attribute.__dict__.get("__llm_tool__") is self:
                return True
        return False

    # -- recording -----------------------------------------------------------------------
    def append(
        self, cassette: LLMCassette, request: Request, outcome: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Append the interaction; return the stored response (streams fill it in later).

        ``headers: {}`` is there because vcrpy's record hooks (decompression) read the
        headers of every response, recorded or loaded.
        """
        before = len(cassette.data)
        cassette.append(request, {"headers": {}, **outcome})
        if len(cassette.data) == before:
            return None  # a before_record_request hook dropped it: not recorded, like HTTP
        return cassette.data[-1][1]  # type: ignore[no-any-return]

    def record(self, cassette: LLMCassette, request: Request, result: Any) -> Any:
        if isinstance(result, AsyncIterator):
            stored = self.append(cassette, request, {ASYNC_STREAM: []})
            return _record_async_stream(result, _StreamRecord(self.values, stored, ASYNC_STREAM))
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes, Mapping)):
            stored = self.append(cassette, request, {STREAM: []})
            return _record_stream(result, _StreamRecord(self.values, stored, STREAM))
        encoded = self.values.encode(result, "result")
        self.append(cassette, request, {RESULT: encoded})
        return result


class _StreamRecord:
    """The stored outcome of a call that returned an iterator, filled in as its items pass.

    The interaction is appended at the call, so the cassette keeps call order even
    when other calls happen while the iterator is consumed.
    """

    def __init__(self, values: ToolValues, stored: dict[str, Any] | None, key: str) -> None:
        self.values = values
        self.stored = stored  # None: a hook dropped the interaction; nothing is stored
        self.items: list[Any] = stored[key] if stored is not None else []

    def passed(self, item: Any) -> None:
        self.items.append(self.values.encode(item, f"yield[{len(self.items)}]"))

    def failed(self, exc: BaseException) -> None:
        if self.stored is not None:
            self.stored[ERROR] = self.values.encode_error(exc)


def _record_stream(iterator: Iterator[Any], record: _StreamRecord) -> Any:
    """Yield the real items, storing each as it passes; closing it closes the tool's."""
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                record.failed(exc)
                raise
            record.passed(item)
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _record_async_stream(iterator: AsyncIterator[Any], record: _StreamRecord) -> Any:
    """The async twin of :func:`_record_stream`, closing the tool's iterator as it does."""
    try:
        while True:
            try:
                item = await iterator.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                record.failed(exc)
                raise
            record.passed(item)
            yield item
    finally:
        # A consumer that stops early closes this generator; the tool's own must close
        # too, at once (its ``finally`` releases a connection or a file), not whenever
        # the event loop finalizes it.
        await _aclose(iterator)


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
