"""An indexed vcrpy cassette: O(1) lookup, recorded order kept, misses that explain themselves.

vcrpy's :class:`~vcr.cassette.Cassette` scans every stored interaction and runs
every matcher on each, for every request. :class:`LLMCassette` computes each
stored request's key once (the tuple of its matchers' keys, see
:mod:`llm_cassettes.matchers`) and keeps, per key, the interactions in recorded
order, so a live request is found with one dict lookup and identical requests
replay in the order they were recorded. Matchers without a key (a user's own
function) still run, but only against the interactions in the same bucket.

It also fixes vcrpy's ``new_episodes`` alternation: a response recorded in this
session counts as played, so a third identical request is recorded, not
answered with the second one's response.
"""

from __future__ import annotations

import contextvars
import datetime
import gc
import json
import os
import shlex
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from vcr.cassette import Cassette, CassetteContextDecorator
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import requests_match
from vcr.record_mode import RecordMode
from vcr.request import Request

from .matchers import key_of

__all__ = ["CassetteMiss", "LLMCassette", "current_cassette"]

_CURRENT: contextvars.ContextVar[LLMCassette | None] = contextvars.ContextVar(
    "llm_cassettes_current", default=None
)

#: Key of this library's entry in a cassette's ``metadata``.
PROVENANCE_KEY = "llm_cassettes"


def current_cassette() -> LLMCassette | None:
    """The innermost cassette in use here, for recorders of non-HTTP calls (tools)."""
    return _CURRENT.get()


class _Context(CassetteContextDecorator):
    """vcrpy's context decorator, also making the cassette :func:`current_cassette`."""

    def _patch_generator(self, cassette: Any) -> Iterator[Any]:
        token = _CURRENT.set(cassette)
        try:
            yield from super()._patch_generator(cassette)
        finally:
            try:
                _CURRENT.reset(token)
            except ValueError:  # exited in another context (an async task): just clear it
                _CURRENT.set(None)

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)
        except BaseException:
            # vcrpy saves before it unpatches: when saving fails, finish anyway, or the
            # cassette stays patched in and current for every later test.
            finish = self._CassetteContextDecorator__finish  # type: ignore[attr-defined]
            self._CassetteContextDecorator__finish = None
            if finish is not None:
                finish.close()
            raise


class LLMCassette(Cassette):
    """A vcrpy cassette with an index. Accepts ``test_id`` for error messages."""

    @classmethod
    def use_arg_getter(cls, arg_getter: Callable[[], dict[str, Any]]) -> _Context:
        return _Context(cls, arg_getter)

    @classmethod
    def use(cls, **kwargs: Any) -> _Context:
        return _Context.from_args(cls, **kwargs)

    def __init__(self, *args: Any, test_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.test_id = test_id
        if not hasattr(self, "_metadata"):  # vcrpy 8 (the newest on Python 3.10)
            self._metadata: dict[str, Any] = {}
            self._persister = _MetadataAdapter(self._persister, self)
        keyed = [(m, key_of(m)) for m in self._match_on]
        self._key_fns: list[Callable[[Request], Any]] = [fn for _, fn in keyed if fn is not None]
        self._pairwise = [m for m, fn in keyed if fn is None]
        self._index: dict[Hashable, list[int]] = defaultdict(list)
        self._keys: list[Hashable] = []
        self._cursor: dict[Hashable, int] = {}
        self._loading = False
        self._last: tuple[Request | None, Hashable, Request | None] = (None, None, None)

    # -- keys ----------------------------------------------------------------------------
    def _key(self, request: Request) -> Hashable:
        return tuple(fn(request) for fn in self._key_fns)

    def _live_key(self, request: Request) -> tuple[Hashable, Request | None]:
        """Key of a live request, after the record hooks (cached: vcrpy asks several times)."""
        last_request, last_key, last_filtered = self._last
        if last_request is request:
            return last_key, last_filtered
        filtered = self._before_record_request(request)
        key = self._key(filtered) if filtered else None
        self._last = (request, key, filtered)
        return key, filtered

    # -- recording -----------------------------------------------------------------------
    def _load(self) -> None:
        # Loading builds hundreds of thousands of small objects, none of them garbage:
        # the cyclic collector would sweep the growing heap again and again for nothing
        # (measured: a third of replay time at 1,000 interactions).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        self._loading = True
        try:
            super()._load()
        finally:
            self._loading = False
            if gc_was_enabled:
                gc.enable()

    def append(self, request: Request, response: Any) -> None:
        before = len(self.data)
        super().append(request, response)
        if len(self.data) == before:
            return  # a hook dropped it
        index = before
        key = self._key(self.data[index][0])
        self._keys.append(key)
        self._index[key].append(index)
        if not self._loading:
            self._note_provenance(self.data[index][0])
            if self.record_mode != RecordMode.ALL:
                # Recorded now, so already answered: the next identical request must not
                # replay it.
                self.play_counts[index] += 1

    def _note_provenance(self, request: Request) -> None:
        """Record when, with which SDK and for which models this cassette was recorded.

        The date has day precision, so re-recording identical traffic on the same
        day still writes a byte-identical file.
        """
        info = dict(self._metadata.get(PROVENANCE_KEY) or {})
        info["recorded"] = datetime.date.today().isoformat()
        info["sdk"] = _sdk_versions()
        model = _model_of(request) if request.method != "TOOL" else None
        models = set(info.get("models") or ())
        if model:
            models.add(model)
        info["models"] = sorted(models)
        if self._metadata.get(PROVENANCE_KEY) != info:
            self._metadata = {**self._metadata, PROVENANCE_KEY: info}

    def rewind(self) -> None:
        super().rewind()
        self._cursor.clear()

    # -- lookup --------------------------------------------------------------------------
    def _candidates(self, request: Request) -> Iterator[int]:
        key, filtered = self._live_key(request)
        if filtered is None:
            return
        for index in self._index.get(key, ()):
            if not self._pairwise or requests_match(filtered, self.data[index][0], self._pairwise):
                yield index

    def _responses(self, request: Request) -> Iterator[tuple[int, Any]]:
        for index in self._candidates(request):
            yield index, self.data[index][1]

    def _next_unplayed(self, request: Request) -> int | None:
        if self.allow_playback_repeats:
            return next(self._candidates(request), None)
        key, filtered = self._live_key(request)
        if filtered is None:
            return None
        bucket = self._index.get(key, ())
        if not self._pairwise:
            start = self._cursor.get(key, 0)
            for position in range(start, len(bucket)):
                if self.play_counts[bucket[position]] == 0:
                    self._cursor[key] = position
                    return bucket[position]
            self._cursor[key] = len(bucket)
            return None
        for index in self._candidates(request):
            if self.play_counts[index] == 0:
                return index
        return None

    def __contains__(self, request: Request) -> bool:
        return self._next_unplayed(request) is not None

    def can_play_response_for(self, request: Request) -> bool:
        if self.record_mode == RecordMode.ALL:
            return False
        _, filtered = self._live_key(request)
        if not filtered:
            return False
        found = (self.rewound or self.allow_playback_repeats) and request in self
        if not found and self.write_protected:
            raise CassetteMiss(cassette=self, failed_request=request)
        return bool(found)

    def play_response(self, request: Request) -> Any:
        index = self._next_unplayed(request)
        if index is None:
            return super().play_response(request)  # raises vcrpy's UnhandledHTTPRequestError
        if self.play_counts[index] == 0 and index < self._loaded_count:
            self._played_interactions.append((self.data[index][0], self.data[index][1]))
        self.play_counts[index] += 1
        return self.data[index][1]

    # -- saving --------------------------------------------------------------------------
    def _new_interactions(self) -> list[tuple[Request, Any]]:
        if self._pairwise:
            return super()._new_interactions()
        old = set(self._keys[: self._loaded_count])
        return [item for item, key in zip(self.data, self._keys, strict=True) if key not in old]

    def _rerecorded_interactions(self) -> list[tuple[Request, Any]]:
        if self._pairwise:
            return super()._rerecorded_interactions()
        recorded_keys = set(self._keys[self._loaded_count :])
        loaded = list(zip(self.data[: self._loaded_count], self._keys, strict=False))
        recorded = self.data[self._loaded_count :]
        if self.drop_unused_requests:
            return recorded
        return [item for item, key in loaded if key not in recorded_keys] + recorded

    # -- misses --------------------------------------------------------------------------
    def explain_miss(self, request: Request) -> str:
        """A readable account of why ``request`` matched nothing, for the test's error."""
        from ._miss import explain

        return explain(self, request)


class _MetadataAdapter:
    """Cassette metadata for vcrpy 8, which only knows (requests, responses).

    vcrpy 9 keeps ``metadata`` itself; on vcrpy 8 this wraps the persister so
    provenance is still read and written, without forking vcrpy's load/save.
    """

    def __init__(self, inner: Any, cassette: LLMCassette) -> None:
        self._inner = inner
        self._cassette = cassette

    def load_cassette(self, path: Any, serializer: Any) -> tuple[Any, Any]:
        requests, responses, *metadata = self._inner.load_cassette(path, serializer=serializer)
        if metadata:
            self._cassette._metadata = metadata[0]
        return requests, responses

    def save_cassette(self, path: Any, cassette_dict: dict[str, Any], serializer: Any) -> None:
        if self._cassette._metadata and "metadata" not in cassette_dict:
            cassette_dict = {**cassette_dict, "metadata": self._cassette._metadata}
        self._inner.save_cassette(path, cassette_dict, serializer=serializer)


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


def _sdk_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in ("openai", "anthropic", "llama-stack-client"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _model_of(request: Request) -> str | None:
    body = request.body
    if not isinstance(body, bytes) or b'"model"' not in body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    model = value.get("model") if isinstance(value, dict) else None
    return model if isinstance(model, str) else None


def rerecord_command(test_id: str | None) -> str:
    if not test_id:
        return "re-record with record_mode='new_episodes' (or delete the cassette and record again)"
    return f"pytest --record-mode=new_episodes {shlex.quote(test_id)}"


def display_path(path: Any) -> str:
    try:
        return os.path.relpath(os.fspath(path))
    except ValueError:
        return os.fspath(path)
