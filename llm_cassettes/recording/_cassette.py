"""An indexed vcrpy cassette: O(1) lookup, recorded order kept, misses that explain themselves.

vcrpy's :class:`~vcr.cassette.Cassette` scans every stored interaction and runs
every matcher on each, for every request. :class:`LLMCassette` computes each
stored request's key once (the tuple of its matchers' keys, see
:mod:`llm_cassettes.matching`) and keeps, per key, the interactions in recorded
order, so a live request is found with one dict lookup and identical requests
replay in the order they were recorded. Matchers without a key (a user's own
function) still run, but only against the interactions in the same bucket.

It also fixes vcrpy's ``new_episodes`` alternation: a response recorded in this
session counts as played, so a third identical request is recorded, not
answered with the second one's response.

Each interaction is matched the way it was recorded (see
:mod:`llm_cassettes.format`'s provenance): one recorded by plain vcrpy on method and
URL, in recorded order, as vcrpy would; one recorded by this library on its
canonical body too. A legacy interaction that answers a changed request is
noted as stale (:mod:`._findings`) instead of failing the test;
``strict`` matches every interaction on its body.
"""

from __future__ import annotations

import contextvars
import gc
import os
import shlex
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import requests_match
from vcr.record_mode import RecordMode
from vcr.request import Request

from .._compat import Cassette, CassetteContext
from .._errors import StaleRecordingWarning, UnusedRecordingsError
from ..format import (
    LEGACY,
    LOAD_INFO,
    LoadInfo,
    Provenance,
    declare_matching,
    file_matching,
    matched_on_body,
    provenance_entry,
    with_provenance_entry,
)
from ..matching import CanonicalOptions, canonical_body, diff, format_diff, key_of
from . import _findings, _transport
from ._options import StreamOptions

__all__ = ["CassetteMiss", "LLMCassette", "current_cassette"]

_CURRENT: contextvars.ContextVar[LLMCassette | None] = contextvars.ContextVar(
    "llm_cassettes_current", default=None
)

_BODY_KEY = "body"  # first item of the index key of an interaction matched on its body
_LEGACY_KEY = "legacy"  # ... and of one matched as plain vcrpy matched it


#: Cassettes in use in any thread, in the order they were entered.
_ACTIVE: list[LLMCassette] = []
_ACTIVE_LOCK = threading.Lock()


def current_cassette() -> LLMCassette | None:
    """The innermost cassette in use here: the one HTTP calls and tool calls record into.

    A thread started inside the test (a ``ThreadPoolExecutor`` running an agent's
    tools) does not inherit context variables; there, as vcrpy's patches did for
    every thread, the cassette entered last is current. So it is for a task that
    outlived the cassette it was started in.
    """
    cassette = _CURRENT.get()
    if cassette is not None and cassette.in_use:
        return cassette
    with _ACTIVE_LOCK:
        return _ACTIVE[-1] if _ACTIVE else None


class _Arguments:
    """The cassette's arguments, built once per use of a context (vcrpy asks for them on
    entering and again on exiting; they are a scrubber, a serializer, the matchers).

    A callable object rather than a closure over the context: the context would then sit
    in a reference cycle, and with it the VCR and all it holds, until the cyclic
    collector ran (a full collection's worth of garbage every few hundred tests).
    """

    __slots__ = ("build", "in_use")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self.build = build
        self.in_use: list[dict[str, Any]] | None = None

    def __call__(self) -> dict[str, Any]:
        remembered = self.in_use
        if remembered is None:
            return self.build()
        if not remembered:
            remembered.append(self.build())
        return dict(remembered[0])


class _CurrentCassetteContext(CassetteContext):
    """vcrpy's context decorator, also making the cassette :func:`current_cassette`.

    httpx and httpx2 are patched once per process (``_transport``) and follow
    :func:`current_cassette`; the other libraries vcrpy patches for each cassette.
    """

    patched_once = _transport.GROUPS
    _llm_cassette: LLMCassette | None = None
    _token: contextvars.Token[LLMCassette | None] | None = None

    def __init__(self, cls: type, args_getter: Callable[[], dict[str, Any]]) -> None:
        self._arguments = _Arguments(args_getter)
        super().__init__(cls, self._arguments)

    def __enter__(self) -> Any:
        self._arguments.in_use = []
        try:
            return super().__enter__()
        except BaseException:
            self._arguments.in_use = None
            raise

    def entered(self, cassette: Any) -> None:
        _transport.install(current_cassette)
        self._token = _CURRENT.set(cassette)
        self._llm_cassette = cassette
        cassette.tracked = _findings.opened(cassette)
        cassette.in_use = True
        with _ACTIVE_LOCK:
            _ACTIVE.append(cassette)

    def patchers(self, cassette: Any) -> list[Any]:
        return [*super().patchers(cassette), *_transport.patchers()]

    def exited(self, cassette: Any) -> None:
        cassette.in_use = False
        with _ACTIVE_LOCK:
            for position in range(len(_ACTIVE) - 1, -1, -1):
                if _ACTIVE[position] is cassette:
                    del _ACTIVE[position]
                    break
        token, self._token = self._token, None
        try:
            if token is not None:
                _CURRENT.reset(token)
        except ValueError:  # exited in another context (an async task): just clear it
            _CURRENT.set(None)

    def __exit__(self, *exc_info: object) -> None:
        cassette, self._llm_cassette = self._llm_cassette, None
        try:
            if cassette is not None:  # the test reads no more: record what arrived, then save
                _transport.close_open_streams(cassette)
        finally:
            try:
                super().__exit__(*exc_info)
            finally:
                self._arguments.in_use = None  # entering again builds them anew
        if cassette is not None and not cassette.tracked and not any(exc_info):
            cassette.report_findings()


class LLMCassette(Cassette):
    """A vcrpy cassette with an index. Accepts ``test_id`` for error messages.

    Also accepts ``match_as_recorded`` (False: every interaction is matched by
    ``match_on``, the strict mode), ``allow_unused``, ``report_unused`` and
    ``stream_options`` (how streams are recorded and replayed).
    """

    #: between entering and leaving its context (see :func:`current_cassette`)
    in_use = False

    @classmethod
    def use_arg_getter(cls, arg_getter: Callable[[], dict[str, Any]]) -> _CurrentCassetteContext:
        return _CurrentCassetteContext(cls, arg_getter)

    @classmethod
    def use(cls, **kwargs: Any) -> _CurrentCassetteContext:
        return _CurrentCassetteContext.from_args(cls, **kwargs)

    def __init__(
        self,
        *args: Any,
        test_id: str | None = None,
        match_as_recorded: bool = True,
        allow_unused: bool = True,
        report_unused: bool = True,
        stream_options: StreamOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stream_options = stream_options or StreamOptions()
        self.test_id = test_id
        self.match_as_recorded = match_as_recorded
        self.allow_unused = allow_unused
        self.report_unused = report_unused
        #: whether a pytest test collects this cassette's findings (else it reports them itself)
        self.tracked = False
        #: interactions that answered a changed request (legacy matching only)
        self.stale: list[_findings.Stale] = []
        keyed = [(m, key_of(m)) for m in self.match_on]
        self._key_fns: list[Callable[[Request], Any]] = [fn for _, fn in keyed if fn is not None]
        # vcrpy's own matching, for interactions recorded by it: all but the body matcher.
        self._legacy_key_fns = [
            fn for m, fn in keyed if fn is not None and not hasattr(m, "options")
        ]
        self._pairwise = [m for m, fn in keyed if fn is None]
        # The index: each interaction's key (canonical body, or vcrpy's key when matched as
        # plain vcrpy matched it) and the interactions per key in recorded order. Built
        # lazily, in recorded order: ``_keys`` covers a prefix of ``data``.
        self._index: dict[Hashable, list[int]] = defaultdict(list)
        self._keys: list[Hashable] = []
        # Before any body is canonicalized, the request's exact bytes: a live request whose
        # bytes equal a loaded one's has its canonical body too (see ``_exact_match``).
        self._exact: dict[Hashable, list[int]] = defaultdict(list)
        self._groups: dict[Hashable, list[int]] = defaultdict(list)
        self._group_cursor: dict[Hashable, int] = {}
        #: per interaction: how it was recorded (saved as such) / how it is matched now
        self._recorded_legacy: list[bool] = []
        self._matched_legacy: list[bool] = []
        self._origin: list[LoadInfo | None] = []
        self._any_legacy = False
        self._cursor: dict[Hashable, int] = {}
        self._loading = False
        self._last: tuple[Request | None, Request | None] = (None, None)
        self._last_keys: tuple[Request | None, tuple[Hashable, ...]] = (None, ())
        self._last_exact: tuple[Request | None, Hashable | None] = (None, None)
        self._added = Provenance({}, set())

    # -- keys ----------------------------------------------------------------------------
    def _body_key(self, request: Request) -> Hashable:
        return (_BODY_KEY, *(fn(request) for fn in self._key_fns))

    def _legacy_key(self, request: Request) -> Hashable:
        return (_LEGACY_KEY, *(fn(request) for fn in self._legacy_key_fns))

    def _exact_key(self, request: Request) -> Hashable | None:
        """vcrpy's key, the content type and the exact body: equal exact keys mean equal
        canonical keys (the body key is a function of the body and its content type)."""
        body = request.body
        if body is not None and not isinstance(body, bytes):
            return None  # a file-like body: only the canonical path reads it
        return (self._legacy_key(request), request.headers.get("content-type"), body)

    def _live_filtered(self, request: Request) -> Request | None:
        """A live request after the record hooks (cached: vcrpy asks several times)."""
        last_request, last_filtered = self._last
        if last_request is request:
            return last_filtered
        filtered = self.filter_request(request)
        self._last = (request, filtered)
        return filtered

    def _live_keys(self, request: Request) -> tuple[tuple[Hashable, ...], Request | None]:
        """Keys of a live request, body bucket first, after the record hooks (cached)."""
        filtered = self._live_filtered(request)
        if not filtered:
            return (), filtered
        last_request, last_keys = self._last_keys
        if last_request is request:
            return last_keys, filtered
        keys: tuple[Hashable, ...] = (self._body_key(filtered),)
        if self._any_legacy:
            keys += (self._legacy_key(filtered),)
        self._last_keys = (request, keys)
        return keys, filtered

    def recorded_for(self, request: Request) -> int:
        """How many stored interactions answer exactly this live request (played or not)."""
        keys, _ = self._live_keys(request)
        self._complete_index()
        return len(self._index.get(keys[0], ())) if keys else 0

    def _stored_key(self, index: int) -> Hashable:
        request = self.data[index][0]
        return self._legacy_key(request) if self._matched_legacy[index] else self._body_key(request)

    def _complete_index(self) -> None:
        """Key every interaction not keyed yet (canonicalizing bodies), in recorded order."""
        for index in range(len(self._keys), len(self.data)):
            key = self._stored_key(index)
            self._keys.append(key)
            self._index[key].append(index)

    # -- recording -----------------------------------------------------------------------
    def load_interactions(self) -> None:
        # Loading builds hundreds of thousands of small objects, none of them garbage:
        # the cyclic collector would sweep the growing heap again and again for nothing
        # (measured: a third of replay time at 1,000 interactions).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        self._loading = True
        try:
            super().load_interactions()
        finally:
            self._loading = False
            if gc_was_enabled:
                gc.enable()
        # Only now is the file's metadata known (vcrpy sets it after appending): how each
        # interaction is matched. Bodies are canonicalized later, when a request needs them.
        default = file_matching(self.file_metadata)
        for index in range(len(self.data)):
            origin = self._origin[index]
            legacy = (origin.matching if origin else default) == LEGACY
            self._recorded_legacy.append(legacy)
            self._matched_legacy.append(legacy and self.match_as_recorded)
            self._any_legacy = self._any_legacy or self._matched_legacy[-1]
        if self._any_legacy or self._pairwise:
            self._complete_index()
            return
        for index, (request, _) in enumerate(self.data):
            exact = self._exact_key(request)
            group = exact[0] if exact is not None else None
            self._exact[exact].append(index)
            self._groups[group].append(index)

    def append(self, request: Request, response: Any) -> None:
        origin = response.pop(LOAD_INFO, None) if isinstance(response, dict) else None
        before = len(self.data)
        if self._loading:
            # As vcrpy appends (the record hooks, then the list), without its deep copy of
            # the response: that guards a live response, and this one was just read.
            request = self.filter_request(request)
            response = self.filter_response(response) if request else None
            if response is None:
                return  # a hook dropped it
            self.data.append((request, response))
            self.dirty = True
            self._origin.append(origin)
            return  # indexed by load_interactions, once the file's metadata is known
        super().append(request, response)
        self._appended(before, request)

    def append_recorded(self, request: Request, response: dict[str, Any]) -> None:
        """Append what this library's transport just recorded (see ``_transport``).

        As vcrpy's :meth:`append`, less two steps that only cost here: the request went
        through the record hooks when it was looked up (that result is reused, not made
        again), and the response dict is the transport's own, so vcrpy's deep copy of it
        (which guards stubs that build the client's response from the same dict) is not
        needed.
        """
        before = len(self.data)
        filtered = self._live_filtered(request)
        recorded = self.filter_response(response) if filtered else None
        if recorded is not None:
            self.data.append((filtered, recorded))
            self.dirty = True
        self._appended(before, request)

    def _appended(self, before: int, request: Request) -> None:
        """Index and note an interaction recorded now (``before``: the count until then)."""
        if len(self.data) == before:
            return  # a hook dropped it
        self._origin.append(None)
        self._recorded_legacy.append(False)
        self._matched_legacy.append(False)
        self._complete_index()  # keys this one too (recorded now, it is never exact-matched)
        self._added.note(request.headers, request.body, request.uri)  # raw: SDK header intact
        if self.record_mode != RecordMode.ALL:
            # Recorded now, so already answered: the next identical request must not
            # replay it.
            self.play_counts[before] += 1

    def rewind(self) -> None:
        super().rewind()
        self._cursor.clear()
        self._group_cursor.clear()

    # -- lookup --------------------------------------------------------------------------
    def _candidates(self, request: Request) -> Iterator[int]:
        keys, filtered = self._live_keys(request)
        if filtered is None:
            return
        self._complete_index()
        for key in keys:
            for index in self._index.get(key, ()):
                if not self._pairwise or requests_match(
                    filtered, self.data[index][0], self._pairwise
                ):
                    yield index

    def matching_responses(self, request: Request) -> Iterator[tuple[int, Any]]:
        for index in self._candidates(request):
            yield index, self.data[index][1]

    def _next_unplayed(self, request: Request) -> int | None:
        if self.allow_playback_repeats:
            return next(self._candidates(request), None)
        if self._pairwise:
            return next((i for i in self._candidates(request) if self.play_counts[i] == 0), None)
        exact = self._exact_match(request)
        if exact is not None:
            return exact
        keys, filtered = self._live_keys(request)
        if filtered is None:
            return None
        self._complete_index()
        for key in keys:  # an interaction matched on its body first, then a legacy one
            bucket = self._index.get(key, ())
            start = self._cursor.get(key, 0)
            for position in range(start, len(bucket)):
                if self.play_counts[bucket[position]] == 0:
                    self._cursor[key] = position
                    return bucket[position]
            self._cursor[key] = len(bucket)
        return None

    def _exact_match(self, request: Request) -> int | None:
        """The interaction the index would answer with, found without canonicalizing a body.

        A loaded interaction whose request has the live request's exact bytes (and
        vcrpy's key, and content type) is in the live request's bucket; it is the one
        the index picks when no unplayed interaction recorded before it has the same
        vcrpy key (only those could share the bucket). Replaying in recorded order, as
        tests do, that always holds. Otherwise None: the index decides.
        """
        if not self._exact:
            return None
        filtered = self._live_filtered(request)
        if not filtered:
            return None
        last_request, exact = self._last_exact
        if last_request is not request:  # vcrpy asks twice per request (contains, play)
            exact = self._exact_key(filtered)
            self._last_exact = (request, exact)
        if exact is None:
            return None
        for index in self._exact.get(exact, ()):
            if self.play_counts[index] == 0:
                return index if self._first_unplayed(exact[0]) == index else None
        return None

    def _first_unplayed(self, group: Hashable) -> int | None:
        members = self._groups[group]
        position = self._group_cursor.get(group, 0)
        while position < len(members) and self.play_counts[members[position]]:
            position += 1
        self._group_cursor[group] = position
        return members[position] if position < len(members) else None

    def __contains__(self, request: Request) -> bool:
        return self._next_unplayed(request) is not None

    def can_play_response_for(self, request: Request) -> bool:
        if self.record_mode == RecordMode.ALL:
            return False
        if not self._live_filtered(request):
            return False
        found = (self.rewound or self.allow_playback_repeats) and request in self
        if not found and self.write_protected:
            raise CassetteMiss(cassette=self, failed_request=request)
        return bool(found)

    def play_response(self, request: Request) -> Any:
        index = self._next_unplayed(request)
        if index is None:
            return super().play_response(request)  # raises vcrpy's UnhandledHTTPRequestError
        if self.play_counts[index] == 0:
            if index < self.loaded_count:
                self.note_played(self.data[index][0], self.data[index][1])
            if self._matched_legacy[index]:
                self._note_if_stale(index, request)
        self.play_counts[index] += 1
        return self.data[index][1]

    # -- what replay noticed -------------------------------------------------------------
    def body_options(self) -> CanonicalOptions:
        """The canonicalization this cassette's body matcher uses (the default without one)."""
        for matcher in self.match_on:
            options = getattr(matcher, "options", None)
            if isinstance(options, CanonicalOptions):
                return options
        return CanonicalOptions()

    def _note_if_stale(self, index: int, request: Request) -> None:
        """A legacy interaction answers ``request``: note it if the body changed since."""
        _, live = self._live_keys(request)
        stored = self.data[index][0]
        options = self.body_options()
        differences = diff(canonical_body(stored, options), canonical_body(live, options), 50)
        if not differences:
            return
        shown = differences[: _findings.MAX_FIELDS]
        where, at = self._origin_of(index)
        self.stale.append(
            _findings.Stale(
                cassette=where,
                index=at,
                request=f"{stored.method} {stored.uri}",
                differences=tuple(format_diff(shown).splitlines()),
                more=len(differences) - len(shown),
            )
        )

    def _origin_of(self, index: int) -> tuple[str, int]:
        """The file an interaction was read from and its index there, for reports."""
        origin = self._origin[index]
        if origin is None:
            return display_path(self.file_path), index
        return display_path(origin.source), origin.index

    def _from_extra(self, index: int) -> bool:
        origin = self._origin[index]
        return origin is not None and os.path.abspath(origin.source) != os.path.abspath(
            self.file_path
        )

    def unused(self) -> list[_findings.Unused]:
        """Interactions of this cassette's own file that nothing played (modes none/once).

        Extra cassettes (pytest-recording's ``vcr`` marker arguments) are shared
        libraries of answers, so their unplayed interactions are not reported.
        """
        if not self.report_unused or self.record_mode not in (RecordMode.NONE, RecordMode.ONCE):
            return []
        found = []
        for index in range(self.loaded_count):
            if self.play_counts[index] == 0 and not self._from_extra(index):
                where, at = self._origin_of(index)
                request = self.data[index][0]
                found.append(_findings.Unused(where, at, f"{request.method} {request.uri}"))
        return found

    def report_findings(self) -> None:
        """Outside pytest: warn about stale recordings, fail on unused ones if not allowed."""
        findings = _findings.collect(self.test_id or display_path(self.file_path), [self])
        if findings.stale:
            warnings.warn(StaleRecordingWarning(findings.stale_message()), stacklevel=3)
        if findings.unused and not self.allow_unused:
            raise UnusedRecordingsError(findings.unused_message())

    # -- saving --------------------------------------------------------------------------
    def new_interactions(self) -> list[tuple[Request, Any]]:
        if self._pairwise:
            return super().new_interactions()
        self._complete_index()
        old = set(self._keys[: self.loaded_count])
        return [item for item, key in zip(self.data, self._keys, strict=True) if key not in old]

    def rerecorded_interactions(self) -> list[tuple[Request, Any]]:
        if self._pairwise:
            return super().rerecorded_interactions()
        recorded = self.data[self.loaded_count :]
        if self.drop_unused_requests:
            return recorded
        self._complete_index()
        recorded_keys = set(self._keys[self.loaded_count :])
        # A legacy interaction is replaced by a re-recording of its method and URL.
        recorded_legacy = {self._legacy_key(request) for request, _ in recorded}
        kept = [
            self.data[i]
            for i in range(self.loaded_count)
            if self._keys[i] not in (recorded_legacy if self._matched_legacy[i] else recorded_keys)
        ]
        return kept + recorded

    def prepare_save(self, cassette_dict: dict[str, Any]) -> dict[str, Any]:
        """What to save: each interaction saying how it was recorded, and the provenance."""
        legacy = {id(response) for (_, response), old in zip(self.data, self._recorded_legacy)
                  if old}  # fmt: skip
        loaded = {id(response) for _, response in self.data[: self.loaded_count]}
        responses = cassette_dict["responses"]
        any_legacy = any(id(response) in legacy for response in responses)
        if any_legacy:  # a mixed cassette: the interactions recorded here say so
            cassette_dict = {
                **cassette_dict,
                "responses": [r if id(r) in legacy else matched_on_body(r) for r in responses],
            }
        self._note_provenance(
            fresh=not any(id(response) in loaded for response in responses),
            legacy=any_legacy,
        )
        return cassette_dict

    def _note_provenance(self, *, fresh: bool, legacy: bool) -> None:
        """When, with which SDKs and for which models the saved interactions were recorded.

        A cassette recorded entirely in this session gets a new entry; one that
        was added to keeps its first recording date and gains lines only.
        """
        recorded_now = len(self.data) > self.loaded_count
        info = provenance_entry(self.file_metadata)
        if fresh:
            updated = self._added.fresh()
        elif recorded_now or (legacy and not isinstance(info, dict)):
            updated = self._added.added_to(info if isinstance(info, dict) else {})
            if not recorded_now:
                updated.pop("last_recorded", None)
        else:
            return
        updated = declare_matching(updated, legacy=legacy)
        if updated != info:
            self.file_metadata = with_provenance_entry(self.file_metadata, updated)

    # -- misses --------------------------------------------------------------------------
    def explain_miss(self, request: Request) -> str:
        """A readable account of why ``request`` matched nothing, for the test's error."""
        from ._miss import explain

        return explain(self, request)


class CassetteMiss(CannotOverwriteExistingCassetteException):
    """No recorded interaction matches a request and the record mode forbids recording.

    A subclass of vcrpy's exception, so code that catches that keeps working;
    the message names the cassette and the test, shows the closest recorded
    request with a diff of the canonical bodies, and the command to re-record.
    """

    def __init__(self, *, cassette: LLMCassette, failed_request: Request) -> None:
        self.cassette = cassette
        self.failed_request = failed_request
        self.similar_requests = []
        self.reason = "no_match" if len(cassette) else "cassette_not_found"
        Exception.__init__(self, cassette.explain_miss(failed_request))


def rerecord_command(test_id: str | None) -> str:
    if not test_id:
        return "re-record with record_mode='new_episodes' (or delete the cassette and record again)"
    return f"pytest --record-mode=new_episodes {shlex.quote(test_id)}"


def display_path(path: Any) -> str:
    """A cassette's path as a report shows it: relative inside the current directory
    (short, and what the user types), absolute outside it (never ``../../../../tmp/…``)."""
    absolute = os.path.abspath(os.fspath(path))
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        return absolute
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute
    return relative
