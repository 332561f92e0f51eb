"""Every reach into vcrpy's and pytest-recording's private names, in one place.

This library extends vcrpy where it has no public hook: it must know which
cassette is current (for tool calls), index a cassette's interactions when
they load, choose what a save writes, keep pytest-recording's settings
when it takes over the ``VCR`` that plugin builds, patch the httpx transports
once per process (streaming through them as they record) instead of with
every cassette, and build responses the way vcrpy's httpx stub does. Each such reach is here,
under a name that says what it does for us, next to the upstream object it
relies on. The rest of the package subclasses :class:`Cassette`,
:class:`CassetteContext` and :class:`VCR` and overrides their hooks
(``load_interactions``, ``entered``, ``prepare_save`` ...), never vcrpy's
private methods.

``tests/compat/test_upstream.py`` pins each upstream object and fails naming
it when an upgrade removes or changes it; ``nox -s lowest latest`` runs the
suite on the oldest and newest supported versions.

Importing this module imports vcrpy, so modules loaded with the pytest plugin
(before pytest-recording registers ``vcr.matchers`` for assertion rewriting)
import it inside the function that needs it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import importlib.util
import inspect
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import vcr
import vcr.cassette
import vcr.matchers
import vcr.patch
import vcr.request
from vcr.request import Request

__all__ = [
    "VCR",
    "VCRPY_DEFAULT_MATCH_ON",
    "Cassette",
    "CassetteContext",
    "CopyableRequest",
    "TransportMethod",
    "adopt",
    "extra_cassette_paths",
    "httpx_recorded_response",
    "httpx_response",
    "httpx_transport_methods",
    "normalized_path",
    "normalized_uri",
    "pytest_recording_filename_limit",
    "replay_non_ascii_headers",
    "request_from_dict",
    "request_to_dict",
    "vcrpy_patchers",
]

#: vcrpy's default ``match_on`` (read from ``vcr.VCR``'s signature, not copied): a VCR
#: with it has no matching chosen by the user.
VCRPY_DEFAULT_MATCH_ON: tuple[str, ...] = tuple(
    inspect.signature(vcr.VCR).parameters["match_on"].default
)


# ------------------------------------------------------------------ the context manager --
class CassetteContext(vcr.cassette.CassetteContextDecorator):
    """vcrpy's ``use_cassette`` context manager with ``entered`` / ``exited`` hooks.

    vcrpy creates the cassette inside ``__enter__`` and patches the HTTP libraries
    in the private generator ``_patch_generator(cassette)``; hooking that generator
    is the only way to see the new cassette while it is in use. The patches are
    :meth:`patchers`: vcrpy's, less the groups in ``patched_once`` (which a
    subclass patches once per process and switches by itself).
    """

    #: vcrpy patcher groups (``"httpx"``, ``"httpx2"`` ...) not patched per cassette.
    patched_once: frozenset[str] = frozenset()

    def entered(self, cassette: Any) -> None:
        """The cassette was loaded and is about to be patched in."""

    def exited(self, cassette: Any) -> None:
        """The cassette was patched out (also when saving it failed)."""

    def patchers(self, cassette: Any) -> Iterable[contextlib.AbstractContextManager[Any]]:
        """The patches in force while ``cassette`` is in use."""
        return vcrpy_patchers(cassette, skip=self.patched_once)

    def _patch_generator(self, cassette: Any) -> Iterator[Any]:  # vcrpy private
        # vcrpy's own generator, with our hooks and our choice of patchers.
        self.entered(cassette)
        try:
            with contextlib.ExitStack() as patches:
                for patcher in self.patchers(cassette):
                    patches.enter_context(patcher)
                yield cassette
        finally:
            self.exited(cassette)

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)
        except BaseException:
            # vcrpy saves before it unpatches: when saving fails, finish anyway, or the
            # cassette stays patched in (and current) for every later test. vcrpy keeps
            # the patch generator in a name-mangled attribute.
            finish = self._CassetteContextDecorator__finish  # type: ignore[attr-defined]
            self._CassetteContextDecorator__finish = None
            if finish is not None:
                finish.close()
            raise


# -------------------------------------------------------------- patching the HTTP libraries --
#: vcrpy's patcher groups in its order (``vcr.patch.PATCHER_NAMES`` in vcrpy 9): the
#: ``CassettePatcherBuilder`` method building each, and the module it needs.
_PATCHER_GROUPS: dict[str, tuple[str, str]] = {
    "httplib": ("_httplib", "http.client"),
    "requests": ("_requests", "requests"),
    "boto3": ("_boto3", "botocore"),
    "urllib3": ("_urllib3", "urllib3"),
    "httplib2": ("_httplib2", "httplib2"),
    "tornado": ("_tornado", "tornado"),
    "aiohttp": ("_aiohttp", "aiohttp"),
    "httpx": ("_httpx", "httpx"),
    "httpx2": ("_httpx2", "httpx2"),
}


@functools.cache
def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def vcrpy_patchers(
    cassette: Any, skip: Collection[str] = ()
) -> Iterator[contextlib.AbstractContextManager[Any]]:
    """vcrpy's patches for ``cassette`` (``CassettePatcherBuilder(cassette).build()``),
    without the groups in ``skip`` or the cassette's own ``skip_patchers`` (vcrpy 9).

    vcrpy tries to import every library it supports on every cassette; a library
    that is not installed costs a search of ``sys.path`` each time (most of the
    time vcrpy spends entering a cassette). Here that is asked once per process.
    vcrpy 8 has no ``skip_patchers``, so the builder's group methods are called
    one by one.
    """
    builder = vcr.patch.CassettePatcherBuilder(cassette)
    yield _letting_go(builder, cassette)  # first, so it exits last: after every unpatch
    skipped = set(skip) | set(getattr(cassette, "skip_patchers", ()) or ())
    for name, (method, module) in _PATCHER_GROUPS.items():
        if name not in skipped and _importable(module):
            yield from getattr(builder, method)()
    yield from builder._build_patchers_from_mock_triples(cassette.custom_patches)


@contextlib.contextmanager
def _letting_go(builder: Any, cassette: Any) -> Iterator[None]:
    """Once unpatched, vcrpy's per-cassette connection classes refer to the cassette weakly.

    vcrpy builds a subclass per patched class with the cassette as a class attribute
    (``_build_cassette_subclass``, kept in ``_class_to_cassette_subclass``); classes
    live in reference cycles, so every cassette, and all it loaded, stayed in memory
    until the cyclic collector ran, and made it run longer. A connection made inside
    the cassette and used after it still reaches it while anything else holds it.
    """
    try:
        yield
    finally:
        proxy = weakref.proxy(cassette)
        for subclass in getattr(builder, "_class_to_cassette_subclass", {}).values():
            if subclass.__dict__.get("cassette") is cassette:
                subclass.cassette = proxy


@dataclass(frozen=True)
class TransportMethod:
    """One httpx transport method vcrpy patches, with the original vcrpy keeps for it."""

    group: str  # vcrpy's patcher group: "httpx" or "httpx2"
    owner: type
    name: str  # "handle_request" or "handle_async_request"
    original: Callable[..., Any]
    httpx: ModuleType  # the httpx (or httpx2) module its requests and responses are from

    @property
    def is_async(self) -> bool:
        return self.name == "handle_async_request"


#: (group, httpx module, owner module, owner class, method, vcrpy's saved original).
_TRANSPORT_METHODS = [
    (group, group, group, owner, method, f"_{prefix}{saved}_{method}")
    for group, prefix in (("httpx", "Httpx"), ("httpx2", "Httpx2"))
    for owner, saved, method in (
        ("HTTPTransport", "HttpTransport", "handle_request"),
        ("AsyncHTTPTransport", "AsyncHttpTransport", "handle_async_request"),
        ("WSGITransport", "WsgiTransport", "handle_request"),
        ("ASGITransport", "AsgiTransport", "handle_async_request"),
        ("MockTransport", "MockTransport", "handle_request"),
        ("MockTransport", "MockTransport", "handle_async_request"),
    )
] + [
    ("httpx", "httpx", "httpx_curl_cffi", "CurlTransport", "handle_request",
     "_HttpxCurlTransport_handle_request"),
    ("httpx", "httpx", "httpx_curl_cffi", "AsyncCurlTransport", "handle_async_request",
     "_HttpxAsyncCurlTransport_handle_async_request"),
    ("httpx", "httpx", "pyreqwest.compatibility.httpx", "SyncHttpxTransport", "handle_request",
     "_HttpxSyncPyreqwestTransport_handle_request"),
    ("httpx", "httpx", "pyreqwest.compatibility.httpx", "HttpxTransport",
     "handle_async_request", "_HttpxPyreqwestTransport_handle_async_request"),
]  # fmt: skip


def httpx_transport_methods() -> list[TransportMethod]:
    """Every httpx / httpx2 transport method vcrpy would patch here, with its original.

    The originals are the ones ``vcr.patch`` saved when it was imported (as its
    stubs call them), so a transport someone else patched meanwhile is not taken
    for the real one.
    """
    found = []
    for group, httpx_name, module_name, owner_name, method, saved in _TRANSPORT_METHODS:
        original = getattr(vcr.patch, saved, None)
        if original is None:  # the library was not importable when vcrpy was imported
            continue
        owner = getattr(importlib.import_module(module_name), owner_name)
        httpx = importlib.import_module(httpx_name)
        found.append(TransportMethod(group, owner, method, original, httpx))
    return found


def httpx_response(recorded: dict[str, Any], httpx: ModuleType) -> Any:
    """The ``httpx.Response`` vcrpy's httpx stub replays for a recorded response.

    vcrpy builds it in the private ``httpx_stubs._deserialize_response``: headers
    as recorded (:func:`replay_non_ascii_headers`), the reason phrase, and the
    older vcrpy cassette shape.
    """
    from vcr.stubs import httpx_stubs

    return httpx_stubs._deserialize_response(recorded, httpx)


def httpx_recorded_response(response: Any, content: bytes) -> dict[str, Any]:
    """The response dict vcrpy's httpx stub records (``httpx_stubs._serialize_response``)."""
    from vcr.stubs import httpx_stubs

    return httpx_stubs._serialize_response(response, content)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- the cassette --
class Cassette(vcr.cassette.Cassette):
    """vcrpy's ``Cassette``, its private state and steps under names of our own.

    Subclasses override the hooks (``load_interactions``, ``new_interactions``,
    ``rerecorded_interactions``, ``matching_responses``, ``prepare_save``) and
    read the properties; vcrpy keeps calling its private methods, which forward
    to them. Cassette metadata works on vcrpy 8 too (the newest on Python 3.10),
    which keeps none of its own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self, "_metadata"):  # vcrpy 8
            self._metadata: dict[str, Any] = {}
            self._persister = _MetadataPersister(self._persister, self)

    # -- state vcrpy keeps under private names -------------------------------------------
    @property
    def file_path(self) -> str:
        """The cassette's file (vcrpy 9 has ``path``; vcrpy 8 only ``_path``)."""
        return self._path  # type: ignore[no-any-return]

    @property
    def match_on(self) -> tuple[Callable[..., Any], ...]:
        """The matcher functions this cassette compares requests with."""
        return tuple(self._match_on)

    @property
    def loaded_count(self) -> int:
        """How many interactions at the start of ``data`` were read from the files."""
        return self._loaded_count  # type: ignore[no-any-return]

    @property
    def file_metadata(self) -> dict[str, Any]:
        """The cassette's ``metadata`` mapping, as loaded and as it will be saved."""
        return self._metadata

    @file_metadata.setter
    def file_metadata(self, value: dict[str, Any]) -> None:
        self._metadata = value

    def filter_response(self, response: Any) -> Any:
        """A response after the ``before_record_response`` hooks (vcrpy's private attribute)."""
        return self._before_record_response(response)

    def note_played(self, request: Request, response: Any) -> None:
        """Remember a loaded interaction as played (``drop_unused_requests`` keeps it)."""
        self._played_interactions.append((request, response))

    # -- hooks: vcrpy's private steps, forwarded ------------------------------------------
    def load_interactions(self) -> None:
        """Read the cassette's files into ``data`` (vcrpy's ``_load``)."""
        super()._load()

    def new_interactions(self) -> list[tuple[Request, Any]]:
        """Interactions recorded now that match no loaded one (vcrpy's ``_new_interactions``)."""
        return super()._new_interactions()  # type: ignore[no-any-return]

    def rerecorded_interactions(self) -> list[tuple[Request, Any]]:
        """What a save in mode ``all`` writes (vcrpy's ``_rerecorded_interactions``)."""
        return super()._rerecorded_interactions()  # type: ignore[no-any-return]

    def matching_responses(self, request: Request) -> Iterator[tuple[int, Any]]:
        """(index, response) of every stored interaction matching ``request``."""
        return super()._responses(request)  # type: ignore[no-any-return]

    def prepare_save(self, cassette_dict: dict[str, Any]) -> dict[str, Any]:
        """The ``{"requests", "responses"}`` dict to save, given the one vcrpy built."""
        return cassette_dict

    def _load(self) -> None:  # vcrpy private
        self.load_interactions()

    def _new_interactions(self) -> list[tuple[Request, Any]]:  # vcrpy private
        return self.new_interactions()

    def _rerecorded_interactions(self) -> list[tuple[Request, Any]]:  # vcrpy private
        return self.rerecorded_interactions()

    def _responses(self, request: Request) -> Iterator[tuple[int, Any]]:  # vcrpy private
        return self.matching_responses(request)

    def _persist(self, cassette_dict: dict[str, Any]) -> None:  # vcrpy 9 private
        super()._persist(self.prepare_save(cassette_dict))  # type: ignore[misc]


class _MetadataPersister:
    """Cassette metadata on vcrpy 8, which loads and saves (requests, responses) only.

    Wraps the cassette's persister, so provenance is read and written without
    forking vcrpy 8's load and save.
    """

    def __init__(self, inner: Any, cassette: Cassette) -> None:
        self._inner = inner
        self._cassette = cassette

    def load_cassette(self, path: Any, serializer: Any) -> tuple[Any, Any]:
        requests, responses, *metadata = self._inner.load_cassette(path, serializer=serializer)
        if metadata:
            self._cassette.file_metadata = metadata[0]
        return requests, responses

    def save_cassette(self, path: Any, cassette_dict: dict[str, Any], serializer: Any) -> None:
        cassette_dict = self._cassette.prepare_save(cassette_dict)
        metadata = self._cassette.file_metadata
        if metadata and "metadata" not in cassette_dict:
            cassette_dict = {**cassette_dict, "metadata": metadata}
        self._inner.save_cassette(path, cassette_dict, serializer=serializer)


# -------------------------------------------------------------------------------- the VCR --
class VCR(vcr.VCR):
    """vcrpy's ``VCR`` whose cassettes are ``cassette_class`` (vcrpy hard-codes its own
    ``Cassette`` in the private ``_use_cassette``)."""

    cassette_class: type[Cassette] = Cassette

    def _use_cassette(self, with_current_defaults: bool = False, **kwargs: Any) -> Any:
        if with_current_defaults:
            return self.cassette_class.use(**self.get_merged_config(**kwargs))
        return self.cassette_class.use_arg_getter(
            functools.partial(self.get_merged_config, **kwargs)
        )


def adopt(instance: vcr.VCR, cls: type[VCR]) -> VCR:
    """Make a ``vcr.VCR`` an instance of the subclass ``cls`` in place, every setting kept.

    pytest-recording builds a plain ``VCR`` per test and hands it to
    ``pytest_recording_configure``; replacing it is not possible there.
    """
    instance.__class__ = cls
    return instance  # type: ignore[return-value]


def extra_cassette_paths(instance: vcr.VCR) -> list[str]:
    """The extra cassettes pytest-recording's persister reads (the ``vcr`` marker's args).

    pytest-recording registers a ``CombinedPersister`` (``pytest_recording._vcr``)
    holding them in ``extra_paths``.
    """
    return list(getattr(instance.persister, "extra_paths", ()))


# ---------------------------------------------------------------------- requests on disk --
class CopyableRequest(Request):
    """vcrpy's ``Request``, deep-copied without the generic machinery.

    vcrpy deep-copies a request each time it runs the ``before_record_request`` hooks
    (every loaded and every live request); ``copy.deepcopy`` walks its header dict
    entry by entry. A request's state is its method, URI (and its parse, a tuple),
    body (bytes, or a list for an iterator) and a ``HeadersDict`` whose private
    ``_store`` maps each lowercased name to ``(name, value)``; values are strings.
    """

    def _set_headers(self, value: Any) -> None:
        """As vcrpy's setter (``HeadersDict(value)``), its per-key steps inlined: the first
        spelling of a name kept, a list's first value, the mapping's own ``[key]``."""
        if isinstance(value, vcr.request.HeadersDict) or not isinstance(value, Mapping):
            Request.headers.fset(self, value)  # type: ignore[attr-defined]
            return
        headers = vcr.request.HeadersDict()
        store = headers._store
        for name in value:
            item = value[name]
            if isinstance(item, (tuple, list)):
                item = item[0]
            lower = name.lower()
            known = store.get(lower)
            store[lower] = (known[0] if known else name, item)
        self._headers = headers

    headers = property(Request.headers.fget, _set_headers)  # type: ignore[attr-defined]

    def __deepcopy__(self, memo: dict[int, Any]) -> CopyableRequest:
        new = object.__new__(type(self))
        memo[id(self)] = new
        state = dict(self.__dict__)
        headers = state.pop("_headers")
        copied = vcr.request.HeadersDict()
        copied._store = {
            lower: (name, value if isinstance(value, (str, bytes)) else copy.deepcopy(value, memo))
            for lower, (name, value) in headers._store.items()
        }
        for name, value in state.items():
            if not isinstance(value, (str, bytes, bool, tuple, type(None))):
                state[name] = copy.deepcopy(value, memo)  # a list body, a hook's attribute
        new.__dict__.update(state)
        new._headers = copied
        return new


def request_from_dict(data: dict[str, Any]) -> Request:
    """vcrpy's in-memory request from its stored form (as ``Request._from_dict``)."""
    return CopyableRequest(**data)


def request_to_dict(request: Request) -> dict[str, Any]:
    """A request's stored form (``Request._to_dict``)."""
    return request._to_dict()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- matcher normalizations --
# vcrpy 9 compares "https://x.com" and "https://x.com/" as one URI (its private
# normalizations); an index key must agree with vcrpy's matcher, so it uses them as they
# are. Older vcrpy compared raw values.
normalized_uri: Callable[[Request], str] = getattr(
    vcr.matchers, "_normalized_uri", lambda request: request.uri
)
normalized_path: Callable[[str], str] = getattr(vcr.matchers, "_normalized_path", lambda p: p)


# ------------------------------------------------------------------- replaying headers --
def replay_non_ascii_headers() -> None:
    """Let vcrpy's httpx stub replay response headers that are not ASCII.

    A server may send a header in latin-1 (``content-disposition: attachment;
    filename="résumé.pdf"``); httpx decodes it and vcrpy records the text, but
    on replay the stub hands that text back to ``httpx.Response``, which encodes
    header strings as ASCII and raises ``UnicodeEncodeError``. Given bytes,
    httpx decodes every header with the first of ASCII, UTF-8, latin-1 that
    fits them all; as UTF-8 bytes, each value decodes back to the exact text
    that was recorded. The stub builds headers in its private ``_deserialize_headers``.
    """
    try:
        from vcr.stubs import httpx_stubs
    except ImportError:  # pragma: no cover - vcrpy without its httpx stub
        return
    original = getattr(httpx_stubs, "_deserialize_headers", None)
    if original is None or getattr(original, "_llm_cassettes", False):
        return

    def deserialize_headers(headers: Any) -> list[tuple[Any, Any]]:
        pairs = original(headers)
        if all(not isinstance(value, str) or value.isascii() for _, value in pairs):
            return pairs  # type: ignore[no-any-return]
        return [
            (name, value.encode("utf-8") if isinstance(value, str) else value)
            for name, value in pairs
        ]

    deserialize_headers._llm_cassettes = True  # type: ignore[attr-defined]
    httpx_stubs._deserialize_headers = deserialize_headers


# ------------------------------------------------------------------------ pytest-recording --
def pytest_recording_filename_limit() -> int:
    """The longest file name pytest-recording gives a cassette on this file system.

    pytest-recording computes it at import (``_vcr.MAX_FILENAME_LEN``) and shortens
    longer names to ``prefix...<md5>``; its existing cassettes are found under that name.
    """
    try:
        from pytest_recording._vcr import MAX_FILENAME_LEN
    except ImportError:  # pragma: no cover - pytest-recording is a dependency
        return 255
    return int(MAX_FILENAME_LEN)
