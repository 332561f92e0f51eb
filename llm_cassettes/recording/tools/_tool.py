"""Tool calls recorded in the test's cassette, next to the model calls around them.

An agent test calls the model, then a tool (web search, a vector store, a
database, an MCP server), then the model again. Recording only the HTTP to the
model would leave the tool live on replay: slow, flaky, and often needing
credentials CI does not have. :func:`tool` makes any function or method a
recorded tool, and the ``llm_tools`` fixture (:class:`ToolPatcher`) does the
same for a callable the test does not own.

A tool call is an interaction like an HTTP one, so the cassette's own
machinery decides everything: a request ``TOOL tool://<name>`` whose body is
the JSON of the bound arguments (matched canonically, with id normalization,
like a request body), and a response without ``status``, which the serializer
stores as it is::

    response:
      headers: {}
      tool_result: {__type__: pkg.module.Class, __data__: {...}}
      # or tool_stream / tool_async_stream: [...], and tool_error: {__type__, message}

Record modes, recorded-order replay and the explanation of a miss are those of
HTTP requests because they are the same code. Results keep their type, but a
cassette never makes us import an arbitrary name: a ``__type__`` is only
resolved in :data:`~llm_cassettes.providers.TYPE_ALLOWLIST`, the module that
defines the tool, and the classes (and their modules) passed as ``types=``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import functools
import importlib
import inspect
import json
import re
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from vcr.request import Request

from ..._errors import CassetteFormatError, LLMCassettesError
from ...providers._registry import TYPE_ALLOWLIST, import_installed

if TYPE_CHECKING:
    from .._cassette import LLMCassette

__all__ = ["ToolPatcher", "ToolRecordError", "ToolReplayError", "tool"]

F = TypeVar("F", bound=Callable[..., Any])

METHOD = "TOOL"
SCHEME = "tool"
RESULT = "tool_result"
STREAM = "tool_stream"
ASYNC_STREAM = "tool_async_stream"
ERROR = "tool_error"
TYPE_KEY = "__type__"
DATA_KEY = "__data__"

# The name is the host of ``tool://<name>``: it must survive URL parsing unchanged.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Containers with no JSON form, stored tagged so that replay gives the same type back.
_TUPLE, _BYTES, _DICT = "builtins.tuple", "builtins.bytes", "builtins.dict"


class ToolRecordError(LLMCassettesError, TypeError):
    """A tool's argument or result cannot be stored; the message names the tool and where.

    Raised at record time, so a cassette that could not be replayed faithfully is
    never written.
    """


class ToolReplayError(LLMCassettesError):
    """A recorded tool outcome cannot be rebuilt as it was.

    Either its ``__type__`` may not be imported from a cassette (pass the class in
    ``types=``), or the tool raised an exception whose type cannot be rebuilt: then
    this error is raised in its place, carrying ``type_name`` and ``message``.
    """

    def __init__(self, text: str, *, type_name: str | None = None, message: str = "") -> None:
        super().__init__(text)
        self.type_name = type_name
        self.message = message


# --------------------------------------------------------------------------- the decorator


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
        return _Tool(function, name=name, types=types, ignore=ignore).wrapper()  # type: ignore[return-value]

    return decorate if fn is None else decorate(fn)


class _Tool:
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
        if not _NAME.match(self.name):
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
        self.types: dict[str, type] = {}
        for cls in types:
            if not isinstance(cls, type):
                raise TypeError(f"tool {self.name!r}: types= takes classes, not {cls!r}")
            self.types[_type_name(cls)] = cls
        module = getattr(fn, "__module__", None)
        self.modules = {m for m in [module, *(c.__module__ for c in self.types.values())] if m}

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
                async for item in self.call(args, kwargs):
                    yield item

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
        cassette = _current()
        request = self.request(args, kwargs) if cassette is not None else None
        if cassette is None or request is None:
            return self.fn(*args, **kwargs)
        if cassette.can_play_response_for(request):  # raises CassetteMiss if it may not record
            return self.replay_from(cassette, request)
        try:
            result = self.fn(*args, **kwargs)
        except Exception as exc:
            self.append(cassette, request, {ERROR: self.encode_error(exc)})
            raise
        return self.record(cassette, request, result)

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        cassette = _current()
        request = self.request(args, kwargs) if cassette is not None else None
        if cassette is None or request is None:
            return await self.fn(*args, **kwargs)
        if cassette.can_play_response_for(request):
            return self.replay_from(cassette, request)
        try:
            result = await self.fn(*args, **kwargs)
        except Exception as exc:
            self.append(cassette, request, {ERROR: self.encode_error(exc)})
            raise
        return self.record(cassette, request, result)

    # -- the request ---------------------------------------------------------------------
    def request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request | None:
        """The call as a vcrpy request; None when the arguments do not fit the signature
        (the real call then raises Python's own TypeError)."""
        arguments = self.arguments(args, kwargs)
        if arguments is None:
            return None
        body = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
        return Request(METHOD, f"{SCHEME}://{self.name}", body.encode("utf-8"), {})

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if self.signature is None:
            return {
                "args": [self.plain(v, f"args[{i}]") for i, v in enumerate(args)],
                **{k: self.plain(v, k) for k, v in kwargs.items()},
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
                        out[key] = self.plain(item, key)
            else:
                out[name] = self.plain(value, name)
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

    def plain(self, value: Any, where: str) -> Any:
        """An argument as plain JSON: what a reader expects to see, and what matching needs."""
        if value is None or isinstance(value, (bool, int, float, str)) and not _is_enum(value):
            return value
        if isinstance(value, enum.Enum):
            return self.plain(value.value, where)
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if not isinstance(key, (str, int)):
                    raise self._record_error(f"argument {where!r}", f"has a {_kind(key)} key")
                out[str(key)] = self.plain(item, f"{where}.{key}")
            return out
        if isinstance(value, (list, tuple)):
            return [self.plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            items = [self.plain(item, f"{where}[*]") for item in value]
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        if _is_model(value):
            return self._dump_model(value, f"argument {where!r}")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: self.plain(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
            }
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return base64.b64encode(value).decode("ascii")
        if hasattr(value, "isoformat"):  # datetime, date, time
            return value.isoformat()
        if type(value).__name__ in ("UUID", "Decimal") or hasattr(value, "__fspath__"):
            return str(value)
        raise self._record_error(
            f"argument {where!r}",
            f"is a {_kind(value)}, which has no JSON form; pass ignore=[{where.split('.')[0]!r}]"
            " to leave it out of the cassette",
        )

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
            return self._record_async_stream(result, stored)
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes, Mapping)):
            stored = self.append(cassette, request, {STREAM: []})
            return self._record_stream(result, stored)
        encoded = self.encode(result, "result")
        self.append(cassette, request, {RESULT: encoded})
        return result

    def _record_stream(self, iterator: Iterator[Any], stored: dict[str, Any] | None) -> Any:
        """Yield the real items, storing each as it passes (appended at the call, so the
        cassette keeps call order even when other calls happen while it is consumed)."""
        items: list[Any] = stored[STREAM] if stored is not None else []
        try:
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    if stored is not None:
                        stored[ERROR] = self.encode_error(exc)
                    raise
                items.append(self.encode(item, f"yield[{len(items)}]"))
                yield item
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    async def _record_async_stream(
        self, iterator: AsyncIterator[Any], stored: dict[str, Any] | None
    ) -> Any:
        items: list[Any] = stored[ASYNC_STREAM] if stored is not None else []
        while True:
            try:
                item = await iterator.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                if stored is not None:
                    stored[ERROR] = self.encode_error(exc)
                raise
            items.append(self.encode(item, f"yield[{len(items)}]"))
            yield item

    def encode(self, value: Any, where: str) -> Any:
        """A result as YAML-ready data that :meth:`decode` turns back into the same type."""
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, enum.Enum):
            return {TYPE_KEY: _type_name(type(value)), DATA_KEY: self.encode(value.value, where)}
        for base in (bool, int, float, str):  # a subclass: stored as its JSON base type
            if isinstance(value, base):
                return base(value)
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {
                TYPE_KEY: _TUPLE,
                DATA_KEY: [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)],
            }
        if isinstance(value, dict):
            if TYPE_KEY not in value and all(isinstance(key, str) for key in value):
                return {key: self.encode(item, f"{where}.{key}") for key, item in value.items()}
            return {
                TYPE_KEY: _DICT,
                DATA_KEY: [
                    [self.encode(key, f"{where}.<key>"), self.encode(item, f"{where}.{key}")]
                    for key, item in value.items()
                ],
            }
        if isinstance(value, bytes):
            return {TYPE_KEY: _BYTES, DATA_KEY: base64.b64encode(value).decode("ascii")}
        if _is_model(value):
            return {TYPE_KEY: _type_name(type(value)), DATA_KEY: self._dump_model(value, where)}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            data = {
                f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
                if f.init
            }
            return {TYPE_KEY: _type_name(type(value)), DATA_KEY: data}
        raise self._record_error(
            where,
            f"is a {_kind(value)}; a tool result must be JSON values, pydantic models, "
            "dataclasses, enums, tuples or bytes",
        )

    def _dump_model(self, model: Any, where: str) -> Any:
        try:
            return model.model_dump(mode="json", by_alias=True, round_trip=True)
        except Exception as exc:  # pydantic's PydanticSerializationError
            for field in type(model).model_fields:
                try:
                    model.model_dump(mode="json", include={field}, round_trip=True)
                except (ValueError, TypeError):  # PydanticSerializationError is a ValueError
                    where = f"{where}.{field}"
                    break
            raise self._record_error(where, f"cannot be serialized ({exc})") from exc

    def encode_error(self, exc: BaseException) -> dict[str, Any]:
        stored: dict[str, Any] = {TYPE_KEY: _type_name(type(exc)), "message": str(exc)}
        args = list(exc.args)
        if args != [str(exc)] and _is_json(args):
            stored["args"] = args  # rebuilt with these, so str() gives the same message
        return stored

    def _record_error(self, where: str, problem: str) -> ToolRecordError:
        return ToolRecordError(f"tool {self.name!r}: cannot record {where}: it {problem}")

    # -- replaying -----------------------------------------------------------------------
    def replay_from(self, cassette: LLMCassette, request: Request) -> Any:
        """The recorded outcome of this call; a malformed record names file and place."""
        response = cassette.play_response(request)
        try:
            result, failure = self.replay(response)
        except (TypeError, ValueError, LookupError, AttributeError) as exc:
            # Shapes are checked when the cassette loads (check_outcome); this is the net
            # for what only the tool's own types can tell (binascii.Error is a ValueError).
            raise CassetteFormatError(
                f"{_place(cassette, response)}: tool {self.name!r} cannot be replayed "
                f"from it ({type(exc).__name__}: {exc})"
            ) from exc
        if failure is not None:
            raise failure
        return result

    def replay(self, response: Any) -> tuple[Any, BaseException | None]:
        """(the result, or None) and (the exception to raise, or None) of a stored outcome."""
        if not isinstance(response, Mapping) or not (
            {RESULT, STREAM, ASYNC_STREAM, ERROR} & set(response)
        ):
            raise ToolReplayError(
                f"tool {self.name!r}: the matching interaction holds no tool outcome "
                f"(expected one of {RESULT}, {STREAM}, {ASYNC_STREAM}, {ERROR})"
            )
        error = response.get(ERROR)
        for key in (STREAM, ASYNC_STREAM):
            if key in response:
                items = [self.decode(item, f"{key}[{i}]") for i, item in enumerate(response[key])]
                failure = self.rebuild_error(error) if error is not None else None
                if key == STREAM:
                    return _replay_stream(items, failure), None
                return _replay_async_stream(items, failure), None
        if error is not None:
            return None, self.rebuild_error(error)
        return self.decode(response[RESULT], RESULT), None

    def decode(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self.decode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if TYPE_KEY not in value:
            return {key: self.decode(item, f"{where}.{key}") for key, item in value.items()}
        name, data = value[TYPE_KEY], value.get(DATA_KEY)
        if name == _TUPLE:
            return tuple(self.decode(data, where))
        if name == _BYTES:
            return base64.b64decode(data)
        if name == _DICT:
            return {self.decode(k, where): self.decode(v, f"{where}.{k}") for k, v in data}
        cls = self.resolve(name, where)
        try:
            if _is_model_class(cls):
                return cls.model_validate(data)  # type: ignore[attr-defined]
            if issubclass(cls, enum.Enum):
                return cls(self.decode(data, where))
            fields = {k: self.decode(v, f"{where}.{k}") for k, v in data.items()}
            return cls(**fields)
        except Exception as exc:
            raise ToolReplayError(
                f"tool {self.name!r}: {where}: the recorded {name} no longer builds ({exc}); "
                "re-record the test"
            ) from exc

    def resolve(self, name: Any, where: str, *, exception: bool = False) -> type:
        """The class a stored ``__type__`` names, imported only from allowed modules."""
        cls = self._lookup(name, exception)
        if cls is None:
            allowed = ", ".join([*sorted(self.modules), *TYPE_ALLOWLIST])
            raise ToolReplayError(
                f"tool {self.name!r}: {where}: __type__ {name!r} may not be imported from a "
                f"cassette (allowed: {allowed}); pass the class in types=[...]",
                type_name=name if isinstance(name, str) else None,
            )
        return cls

    def _lookup(self, name: Any, exception: bool) -> type | None:
        if not isinstance(name, str):
            return None
        wanted = _is_exception_class if exception else _is_value_class
        if name in self.types:
            cls = self.types[name]
            return cls if wanted(cls) else None
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            allowed = module_name in self.modules or any(
                name.startswith(prefix) for prefix in TYPE_ALLOWLIST
            )
            if exception and module_name == "builtins":
                allowed = True
            if not allowed:
                continue
            try:
                if module_name in self.modules or module_name == "builtins":
                    found: Any = importlib.import_module(module_name)
                else:  # named only by the cassette: from an installed distribution only
                    found = import_installed(module_name)
            except ImportError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute, None)
            if isinstance(found, type) and wanted(found):
                return found
        return None

    def rebuild_error(self, stored: Any) -> BaseException:
        if not isinstance(stored, Mapping):
            return ToolReplayError(f"tool {self.name!r}: {ERROR} should be a mapping")
        name, message = stored.get(TYPE_KEY), str(stored.get("message", ""))
        try:
            cls = self.resolve(name, ERROR, exception=True)
            args = stored.get("args")
            exc = cls(*args) if isinstance(args, list) else cls(message)
        except Exception:  # noqa: BLE001 - any constructor may refuse: fall back, never crash
            return ToolReplayError(
                f"tool {self.name!r} raised {name}: {message} (replayed; that exception type "
                "cannot be rebuilt here, pass it in types=[...] to get it back)",
                type_name=name if isinstance(name, str) else None,
                message=message,
            )
        if hasattr(exc, "add_note"):
            exc.add_note(f"(replayed from the cassette: tool {self.name!r})")
        return exc  # type: ignore[no-any-return]


def _replay_stream(items: list[Any], failure: BaseException | None) -> Iterator[Any]:
    yield from items
    if failure is not None:
        raise failure


async def _replay_async_stream(items: list[Any], failure: BaseException | None) -> Any:
    for item in items:
        yield item
    if failure is not None:
        raise failure


# --------------------------------------------------------------------------- the fixture


class ToolPatcher:
    """What the ``llm_tools`` fixture gives a test: record callables it does not own.

    ``patch("package.module.function")`` or ``patch(obj, "attribute")`` replaces
    the callable with a recorded tool, where the code under test looks it up (as
    with ``unittest.mock.patch``); :meth:`undo` (run after the test) puts it back.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any, bool]] = []

    def patch(
        self,
        target: str | object,
        attribute: str | None = None,
        *,
        name: str | None = None,
        types: Iterable[type] = (),
        ignore: Iterable[str] = (),
    ) -> Callable[..., Any]:
        """Make ``target`` (dotted path) or ``target.attribute`` a recorded tool; returns it.

        The tool name defaults to the attribute's name.
        """
        owner, attribute = _resolve_target(target, attribute)
        try:
            static = inspect.getattr_static(owner, attribute)
        except AttributeError:
            raise AttributeError(
                f"llm_tools.patch: {_describe(owner)} has no attribute {attribute!r}"
            ) from None
        options: dict[str, Any] = {"name": name or attribute, "types": types, "ignore": ignore}
        replacement: Any
        if isinstance(owner, type) and isinstance(static, (staticmethod, classmethod)):
            replacement = type(static)(tool(**options)(static.__func__))
        else:
            original = getattr(owner, attribute)
            if not callable(original):
                raise TypeError(
                    f"llm_tools.patch: {_describe(owner)}.{attribute} is not callable "
                    f"(it is a {_kind(original)})"
                )
            replacement = tool(**options)(original)
        own = _has_own(owner, attribute)
        self._undo.append((owner, attribute, static if own else None, own))
        setattr(owner, attribute, replacement)
        return getattr(owner, attribute)  # type: ignore[no-any-return]

    def undo(self) -> None:
        """Put every patched callable back, last first."""
        while self._undo:
            owner, attribute, original, own = self._undo.pop()
            if own:
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)


def _resolve_target(target: str | object, attribute: str | None) -> tuple[Any, str]:
    if not isinstance(target, str):
        if not attribute:
            raise TypeError(
                "llm_tools.patch(obj, 'attribute'): name the attribute to patch on "
                f"{_describe(target)}"
            )
        return target, attribute
    if attribute is not None:
        return importlib.import_module(target), attribute
    parts = target.split(".")
    if len(parts) < 2:
        raise ValueError(f"llm_tools.patch({target!r}): expected 'package.module.function'")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            owner: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # not a module: try a shorter prefix
            raise
        for part in parts[cut:-1]:
            if not hasattr(owner, part):
                raise AttributeError(f"llm_tools.patch({target!r}): {module_name} has no {part!r}")
            owner = getattr(owner, part)
        return owner, parts[-1]
    raise ModuleNotFoundError(f"llm_tools.patch({target!r}): no importable module in this path")


def _has_own(owner: Any, attribute: str) -> bool:
    try:
        return attribute in vars(owner)
    except TypeError:  # no __dict__ (slots): setattr will tell
        return True


# --------------------------------------------------------------------------- helpers


def _current() -> LLMCassette | None:
    from .._cassette import current_cassette

    return current_cassette()


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _kind(value: Any) -> str:
    return _type_name(type(value)).removeprefix("builtins.")


def _describe(obj: Any) -> str:
    return getattr(obj, "__name__", None) or repr(obj)


def _is_enum(value: Any) -> bool:
    return isinstance(value, enum.Enum)


def _is_model(value: Any) -> bool:
    return _is_model_class(type(value))


def _is_model_class(cls: type) -> bool:
    # Checked without importing pydantic when no pydantic class is involved.
    return any(
        base.__module__.startswith("pydantic") and base.__name__ == "BaseModel"
        for base in cls.__mro__
    )


def _is_value_class(cls: type) -> bool:
    return _is_model_class(cls) or dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)


def _is_exception_class(cls: type) -> bool:
    return issubclass(cls, Exception)


def _is_json(value: Any) -> bool:
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def _place(cassette: LLMCassette, response: Any) -> str:
    """``FILE: interactions[N].response`` of a response object held by ``cassette``."""
    from .._cassette import display_path

    for index, (_, stored) in enumerate(cassette.data):
        if stored is response:
            return f"{display_path(cassette._path)}: interactions[{index}].response"
    return display_path(cassette._path)


# --------------------------------------------------------------------------- stored shapes


def check_outcome(response: Any, where: str) -> None:
    """Raise :class:`CassetteFormatError` naming the place when a stored tool outcome cannot
    be rebuilt (a hand edit: bad base64, a tuple that is not a list ...).

    Checked when the cassette loads, so ``check`` reports it and replay never meets a bare
    ``binascii.Error`` or ``TypeError``. Records of other shapes (another recorder's, an
    error stored as text) are left to replay, which explains what it cannot use.
    """
    if not isinstance(response, Mapping):
        return
    if RESULT in response:
        _check_value(response[RESULT], f"{where}.{RESULT}")
    for key in (STREAM, ASYNC_STREAM):
        if key in response:
            items = response[key]
            if not isinstance(items, list):
                raise CassetteFormatError(
                    f"{where}.{key}: expected a list of items, not {type(items).__name__}"
                )
            for index, item in enumerate(items):
                _check_value(item, f"{where}.{key}[{index}]")


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        return
    if TYPE_KEY not in value:
        for key, item in value.items():
            _check_value(item, f"{where}.{key}")
        return
    name = value[TYPE_KEY]
    if not isinstance(name, str) or not name:
        raise CassetteFormatError(f"{where}.{TYPE_KEY}: expected a dotted class name")
    if DATA_KEY not in value:
        raise CassetteFormatError(f"{where}: {TYPE_KEY} without {DATA_KEY}")
    data, place = value[DATA_KEY], f"{where}.{DATA_KEY}"
    if name == _BYTES:
        if not isinstance(data, str):
            raise CassetteFormatError(
                f"{place}: expected base64 text for {_BYTES}, not {type(data).__name__}"
            )
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise CassetteFormatError(f"{place}: not valid base64 ({exc})") from None
    elif name == _TUPLE:
        if not isinstance(data, list):
            raise CassetteFormatError(f"{place}: expected a list for {_TUPLE}")
        _check_value(data, place)
    elif name == _DICT:
        if not isinstance(data, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in data
        ):
            raise CassetteFormatError(f"{place}: expected a list of [key, value] pairs")
        _check_value(data, place)
    else:
        _check_value(data, place)
