"""httpx and httpx2, patched once per process: streams pass through while recording.

vcrpy patches every HTTP library it supports each time a cassette is entered,
and its httpx stub reads a whole response before the client gets any of it: a
streamed answer arrives all at once while recording, a stream the client stops
early is still read to the end, and on replay the body comes back in one read.

Here the httpx / httpx2 transport methods vcrpy would patch
(:func:`llm_cassettes._compat.httpx_transport_methods`) are replaced once, by
dispatchers that ask which cassette is in use (the context variable, else the
cassette entered last, as a thread started by the test sees it). With none, the
original method runs, untouched. With one:

* a request the cassette answers is replayed: a stream one event per read (or
  the whole body at once with ``stream_chunking="coalesce"``), at the recorded
  pace when ``replay_speed`` > 0, ending the way the recording ended;
* any other request goes out and its response streams through
  (:class:`_Recording`): each chunk reaches the client when it arrives and is
  kept. When the body ends, or the client closes or drops the response, or the
  cassette exits with it still open, the interaction is appended with the bytes
  the client saw: ``complete: false`` if it did not end, ``error`` if the server
  broke it off, each event's arrival time with ``stream_timing="record"``.

Scrubbing, matching and saving stay the cassette's: they see the assembled body.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import shlex
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import ModuleType
from typing import Any
from unittest import mock

from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from .. import _compat
from .._errors import IncompleteStreamError
from .._wire import ends_with_done, frame_ends, media_type
from ..format import COMPLETE_KEY, ERROR_KEY, OFFSETS_KEY

__all__ = ["close_open_streams", "install", "patchers"]

#: vcrpy's patcher groups whose transports this module patches once per process.
GROUPS = frozenset({"httpx", "httpx2"})


_install_lock = threading.Lock()
#: (transport method, its dispatcher), once installed.
_dispatchers: list[tuple[_compat.TransportMethod, Callable[..., Any]]] = []
_active: Callable[[], Any] = lambda: None


def install(active: Callable[[], Any]) -> None:
    """Replace the httpx / httpx2 transport methods by dispatchers, once per process.

    ``active()`` tells the cassette in use (None: call the original method).
    """
    global _active
    if _dispatchers:
        return
    with _install_lock:
        if _dispatchers:
            return
        _active = active
        for method in _compat.httpx_transport_methods():
            dispatch = _async_dispatcher(method) if method.is_async else _sync_dispatcher(method)
            if getattr(method.owner, method.name) is method.original:
                setattr(method.owner, method.name, dispatch)
            _dispatchers.append((method, dispatch))


def patchers() -> list[contextlib.AbstractContextManager[Any]]:
    """Patches for one cassette: a dispatcher where something else replaced it.

    A plain vcrpy cassette, or a mocking library, may have patched a transport
    method when this cassette is entered; the innermost patch wins, as with vcrpy.
    A method found back to its original is given its dispatcher for good.
    """
    shadowing = []
    for method, dispatch in _dispatchers:
        current = getattr(method.owner, method.name)
        if current is dispatch:
            continue
        if current is method.original:
            setattr(method.owner, method.name, dispatch)
        else:
            shadowing.append(mock.patch.object(method.owner, method.name, dispatch))
    return shadowing


def _cassette_for(group: str) -> Any:
    cassette = _active()
    if cassette is None or group in (getattr(cassette, "skip_patchers", None) or ()):
        return None
    return cassette


def _sync_dispatcher(method: _compat.TransportMethod) -> Callable[..., Any]:
    original, httpx, group = method.original, method.httpx, method.group

    @functools.wraps(original)
    def handle_request(transport: Any, request: Any) -> Any:
        cassette = _cassette_for(group)
        if cassette is None:
            return original(transport, request)
        started = time.perf_counter()
        body = b"".join(request.stream)
        request.stream = httpx.ByteStream(body)  # read once: give it back to the transport
        vcr_request, replayed = _lookup(cassette, request, body, httpx, started)
        if replayed is not None:
            return replayed
        response = original(transport, request)
        _record(cassette, vcr_request, response, httpx, started, asynchronous=False)
        return response

    return handle_request


def _async_dispatcher(method: _compat.TransportMethod) -> Callable[..., Any]:
    original, httpx, group = method.original, method.httpx, method.group

    @functools.wraps(original)
    async def handle_async_request(transport: Any, request: Any) -> Any:
        cassette = _cassette_for(group)
        if cassette is None:
            return await original(transport, request)
        started = time.perf_counter()
        body = b"".join([part async for part in request.stream])
        request.stream = httpx.ByteStream(body)
        vcr_request, replayed = _lookup(cassette, request, body, httpx, started)
        if replayed is not None:
            return replayed
        response = await original(transport, request)
        _record(cassette, vcr_request, response, httpx, started, asynchronous=True)
        return response

    return handle_async_request


def _lookup(
    cassette: Any, request: Any, body: bytes, httpx: ModuleType, started: float
) -> tuple[Request, Any]:
    """The request as vcrpy sees it, and the replayed response (None: go to the network).

    The same decisions, in the same order, as vcrpy's httpx stub.
    """
    vcr_request = _compat.CopyableRequest(request.method, str(request.url), body, request.headers)
    if cassette.can_play_response_for(vcr_request):
        return vcr_request, _replayed(cassette, vcr_request, httpx, started)
    if cassette.write_protected and cassette.filter_request(vcr_request):
        raise CannotOverwriteExistingCassetteException(
            cassette=cassette, failed_request=vcr_request
        )
    return vcr_request, None


# ------------------------------------------------------------------------- recording --
_open_lock = threading.Lock()
#: Responses streaming through, not yet recorded (see :func:`close_open_streams`).
_open: set[_Recording] = set()


def _record(
    cassette: Any,
    vcr_request: Request,
    response: Any,
    httpx: ModuleType,
    started: float,
    *,
    asynchronous: bool,
) -> None:
    base = _AsyncRecording if asynchronous else _SyncRecording
    stream = _stream_class(base, httpx)(response.stream, cassette, vcr_request, response, started)
    response.stream = stream
    with _open_lock:
        _open.add(stream)


def close_open_streams(cassette: Any) -> None:
    """Record what arrived of every response ``cassette`` still streams (the test is
    leaving the cassette: it will read no more), and close their connections."""
    with _open_lock:
        streams = [stream for stream in _open if stream.cassette is cassette]
    for stream in streams:
        stream.abandon()


class _Recording:
    """A response body passing through to the client, kept to be recorded when it ends."""

    def __init__(
        self, upstream: Any, cassette: Any, request: Request, response: Any, started: float
    ) -> None:
        self.upstream = upstream
        self.cassette = cassette
        self.request = request
        self.response = response
        self.started = started
        self.chunks: list[bytes] = []
        timing = getattr(cassette, "stream_options", None)
        #: seconds after the request was sent at which each chunk arrived (when asked)
        self.times: list[float] | None = (
            [] if timing is not None and timing.timing == "record" else None
        )
        self.closed = False
        self._finished = False
        self._finish_lock = threading.Lock()

    def finish(self, *, ended: bool, error: BaseException | None = None) -> None:
        """Append the interaction to the cassette, once, with what arrived."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        with _open_lock:
            _open.discard(self)
        content = b"".join(self.chunks)
        recorded = _compat.httpx_recorded_response(self.response, content)
        body = recorded["body"]
        # OpenAI-style clients stop at the [DONE] event, before the body's end: nothing
        # follows it, so such a stream is complete.
        if not ended and (error is not None or not ends_with_done(content)):
            body[COMPLETE_KEY] = False
        if error is not None:
            body[ERROR_KEY] = {"type": type(error).__name__, "message": str(error)}
        if self.times is not None:
            offsets = self._event_offsets(content)
            if offsets:
                body[OFFSETS_KEY] = offsets
        self.cassette.append_recorded(self.request, recorded)

    def _event_offsets(self, content: bytes) -> list[int] | None:
        """Milliseconds after the request at which each event had arrived in full."""
        headers = self.response.headers
        if headers.get("content-encoding"):
            return None  # events end in the decoded body, chunks in the encoded one
        ends = frame_ends(media_type(headers.get("content-type")), content)
        if not ends:
            return None
        assert self.times is not None
        offsets = []
        chunk, received = -1, 0
        for end in ends:
            while received < end:
                chunk += 1
                received += len(self.chunks[chunk])
            offsets.append(round(self.times[chunk] * 1000))
        return offsets

    def abandon(self) -> None:
        raise NotImplementedError


class _SyncRecording(_Recording):
    def __iter__(self) -> Iterator[bytes]:
        chunks, times, started = self.chunks, self.times, self.started
        try:
            for chunk in self.upstream:
                chunks.append(chunk)
                if times is not None:
                    times.append(time.perf_counter() - started)
                yield chunk
        except GeneratorExit:  # the client dropped the stream without closing it
            self.close()
            raise
        except Exception as error:  # the server broke off: the client gets this error
            self.finish(ended=False, error=error)
            raise
        except BaseException:
            self.close()
            raise
        self.finish(ended=True)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.upstream.close()  # before the end: the connection is closed, not reused
        finally:
            self.finish(ended=False)

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
        self.finish(ended=False)


class _AsyncRecording(_Recording):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks, times, started = self.chunks, self.times, self.started
        try:
            async for chunk in self.upstream:
                chunks.append(chunk)
                if times is not None:
                    times.append(time.perf_counter() - started)
                yield chunk
        except GeneratorExit:
            await self.aclose()
            raise
        except Exception as error:
            self.finish(ended=False, error=error)
            raise
        except BaseException:  # cancelled: record first, closing may be cancelled too
            self.finish(ended=False)
            await self.aclose()
            raise
        self.finish(ended=True)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.upstream.aclose()
        finally:
            self.finish(ended=False)

    def abandon(self) -> None:
        """Record now; close the connection on its event loop if one runs here."""
        self.finish(ended=False)
        try:
            import asyncio

            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the connection goes with its pool
        task = loop.create_task(self.aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)


_closing: set[Any] = set()


# ----------------------------------------------------------------------------- replay --
def _replayed(cassette: Any, vcr_request: Request, httpx: ModuleType, started: float) -> Any:
    """The recorded response, its body read as the server sent it (see :class:`_Replay`)."""
    recorded = cassette.play_response(vcr_request)
    response = _compat.httpx_response(recorded, httpx)
    body = recorded.get("body")
    if not isinstance(body, Mapping) or not isinstance(body.get("string"), (str, bytes)):
        return response  # vcrpy's older httpx shape: as vcrpy replays it
    content = body["string"]
    content = content.encode("utf-8") if isinstance(content, str) else content
    framed = frame_ends(media_type(response.headers.get("content-type")), content)
    stream = framed is not None
    complete = body.get(COMPLETE_KEY) is not False
    error = body.get(ERROR_KEY)
    if not stream and complete and error is None:
        return response
    options = getattr(cassette, "stream_options", None)
    speed = options.replay_speed if options is not None else 0.0
    coalesce = options is not None and options.chunking == "coalesce"
    ends = framed or []
    if stream and not coalesce:
        chunks = [content[start:end] for start, end in zip([0, *ends], ends)]
        if ends and ends[-1] < len(content):  # a comment after the last event
            chunks[-1] += content[ends[-1] :]
        chunks = chunks or [content]
    else:
        chunks = [content]
    due: list[float] | None = None
    offsets = body.get(OFFSETS_KEY)
    if speed and isinstance(offsets, list) and offsets and len(offsets) == len(ends):
        seconds = [offset / 1000 / speed for offset in offsets]
        due = seconds if len(chunks) == len(seconds) else [seconds[-1]]
    ending: BaseException | None = None
    if isinstance(error, Mapping):
        ending = _exception(error, httpx)
    elif not complete:
        ending = IncompleteStreamError(_cut_short(cassette, vcr_request, len(ends)))
    response.stream = _stream_class(_Replay, httpx)(chunks, due, started, ending)
    return response


class _Replay:
    """A recorded body, one chunk per read, each when it is due; then the recorded end."""

    def __init__(
        self,
        chunks: list[bytes],
        due: list[float] | None,
        started: float,
        ending: BaseException | None,
    ) -> None:
        self.chunks = chunks
        self.due = due  # seconds after the request at which each chunk is delivered
        self.started = started
        self.ending = ending

    def __iter__(self) -> Iterator[bytes]:
        due = self.due
        for index, chunk in enumerate(self.chunks):
            if due is not None:
                wait = self.started + due[index] - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            yield chunk
        if self.ending is not None:
            raise self.ending

    async def __aiter__(self) -> AsyncIterator[bytes]:
        due = self.due
        sleep = _async_sleep() if due is not None else None
        for index, chunk in enumerate(self.chunks):
            if due is not None and sleep is not None:
                wait = self.started + due[index] - time.perf_counter()
                if wait > 0:
                    await sleep(wait)
            yield chunk
        if self.ending is not None:
            raise self.ending

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def _async_sleep() -> Callable[[float], Any]:
    """anyio's sleep (httpx's async backends are asyncio and trio, through anyio)."""
    try:
        import anyio
    except ImportError:  # pragma: no cover - httpx depends on anyio
        import asyncio

        return asyncio.sleep
    return anyio.sleep


def _exception(error: Mapping[str, Any], httpx: ModuleType) -> BaseException:
    """The exception the client got while recording, rebuilt for this httpx module.

    Only httpx's exceptions (``RemoteProtocolError``, ``ReadTimeout`` ...) and
    Python's built-in ones are rebuilt: a cassette never names a class to import.
    """
    name, message = str(error["type"]), str(error.get("message", ""))
    for namespace in (httpx, builtins):
        cls = getattr(namespace, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                return cls(message)
            except TypeError:  # needs more than a message (HTTPStatusError ...)
                break
    return httpx.TransportError(f"{name}: {message}")  # type: ignore[no-any-return]


def _cut_short(cassette: Any, request: Request, events: int) -> str:
    from ._cassette import display_path

    test_id = getattr(cassette, "test_id", None)
    again = (
        f"pytest --record-mode=rewrite {shlex.quote(test_id)}"
        if test_id
        else "record_mode='rewrite' (or delete the cassette and record again)"
    )
    return (
        f"{display_path(cassette.file_path)}: the recorded response to {request.method} "
        f"{request.uri} ends after {events} event(s), where the client stopped reading it "
        f"while it was recorded (complete: false); this client reads on. Record it again: "
        f"{again}"
    )


@functools.cache
def _stream_class(base: type, httpx: ModuleType) -> type:
    """``base`` as a stream of ``httpx`` (httpx and httpx2 check their own base classes)."""
    if base is _Replay:
        bases: tuple[type, ...] = (base, httpx.SyncByteStream, httpx.AsyncByteStream)
    elif base is _AsyncRecording:
        bases = (base, httpx.AsyncByteStream)
    else:
        bases = (base, httpx.SyncByteStream)
    return type(base.__name__.lstrip("_"), bases, {"__module__": __name__})
