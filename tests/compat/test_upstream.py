"""Every private upstream name ``llm_cassettes/_compat.py`` relies on, pinned.

vcrpy, pytest-recording and openai may rename or change their private names in
any release. Each test here checks one of them, the way the library uses it,
and fails naming the upstream object and what breaks, so an upgrade that
changes one is caught here (``nox -s latest``) rather than as a silent
``current_cassette() is None`` in someone's suite.
"""

from __future__ import annotations

import http.client
import inspect
import types
from pathlib import Path
from typing import Any

import httpx2
import pytest
import vcr
import vcr.cassette
import vcr.config
import vcr.matchers
import vcr.patch
from vcr.request import Request

from llm_cassettes import _compat, use_cassette
from llm_cassettes.recording import LLMVCR, current_cassette


def upstream(name: str, relies: str) -> str:
    """The failure message: which upstream object changed, and what it breaks here."""
    return (
        f"{name} changed upstream: llm_cassettes/_compat.py relies on it to {relies}. "
        "Adapt _compat.py (and only it) to the new version."
    )


class Recorded(_compat.Cassette):
    """A compat cassette whose hooks note that vcrpy called them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def load_interactions(self) -> None:
        self.calls = [*getattr(self, "calls", []), "load_interactions"]
        super().load_interactions()

    def new_interactions(self) -> list[tuple[Request, Any]]:
        self.calls.append("new_interactions")
        return super().new_interactions()

    def rerecorded_interactions(self) -> list[tuple[Request, Any]]:
        self.calls.append("rerecorded_interactions")
        return super().rerecorded_interactions()

    def matching_responses(self, request: Request) -> Any:
        self.calls.append("matching_responses")
        return super().matching_responses(request)

    def prepare_save(self, cassette_dict: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("prepare_save")
        return cassette_dict


def _request(uri: str = "https://example.com/v1/x") -> Request:
    return Request("POST", uri, b'{"a":1}', {"content-type": "application/json"})


def _response() -> dict[str, Any]:
    return {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b"{}"}}


# ------------------------------------------------------------------ the context manager --


def test_vcrpy_patches_through_its_patch_generator(tmp_path: Path) -> None:
    """``CassetteContextDecorator._patch_generator(cassette)``: where the cassette is seen."""
    method = getattr(vcr.cassette.CassetteContextDecorator, "_patch_generator", None)
    message = upstream(
        "vcr.cassette.CassetteContextDecorator._patch_generator",
        "see each cassette while it is in use (current_cassette(); @tool records in it)",
    )
    assert inspect.isgeneratorfunction(method), message
    assert list(inspect.signature(method).parameters) == ["self", "cassette"], message
    with use_cassette(tmp_path / "c.yaml", record_mode="once") as cassette:
        assert current_cassette() is cassette, message
    assert current_cassette() is None, message


def test_a_failed_save_still_unpatches(tmp_path: Path) -> None:
    """``CassetteContextDecorator.__finish`` (name-mangled): the patch generator to close.

    httpx is patched once per process; http.client is still patched per cassette."""
    original = http.client.HTTPConnection
    context = LLMVCR().use_cassette(str(tmp_path / "c.yaml"), record_mode="all")
    context.__enter__()
    message = upstream(
        "vcr.cassette.CassetteContextDecorator.__finish (_CassetteContextDecorator__finish)",
        "unpatch the HTTP libraries when saving a cassette fails",
    )
    assert inspect.isgenerator(getattr(context, "_CassetteContextDecorator__finish", None)), message

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    cassette = current_cassette()
    assert cassette is not None
    cassette.dirty = True
    cassette._persister = types.SimpleNamespace(save_cassette=fail)
    with pytest.raises(OSError, match="disk full"):
        context.__exit__(None, None, None)
    assert http.client.HTTPConnection is original, message
    assert current_cassette() is None, message


def test_vcrpy_builds_its_patches_group_by_group() -> None:
    """``CassettePatcherBuilder``'s group methods (``_httplib`` ... ``_httpx2``) and
    ``_build_patchers_from_mock_triples``: entering a cassette skips the groups patched
    once per process and the libraries that are not installed."""
    builder = vcr.patch.CassettePatcherBuilder
    message = upstream(
        "vcr.patch.CassettePatcherBuilder._httplib/_requests/.../_httpx2",
        "patch per cassette only what is installed and not patched once per process",
    )
    for method, _ in _compat._PATCHER_GROUPS.values():
        assert callable(getattr(builder, method, None)), f"{method}: {message}"
    assert callable(getattr(builder, "_build_patchers_from_mock_triples", None)), message
    if hasattr(vcr.patch, "PATCHER_NAMES"):  # vcrpy 9
        assert tuple(_compat._PATCHER_GROUPS) == tuple(vcr.patch.PATCHER_NAMES), message
    cassette = vcr.cassette.Cassette("c.yaml")
    patched = [p.attribute for p in _compat.vcrpy_patchers(cassette) if hasattr(p, "attribute")]
    assert {"HTTPConnection", "HTTPSConnection", "handle_request"} <= set(patched), message
    only_httplib = _compat.vcrpy_patchers(cassette, skip=set(_compat._PATCHER_GROUPS) - {"httplib"})
    attributes = {p.attribute for p in only_httplib if hasattr(p, "attribute")}
    assert attributes == {"HTTPConnection", "HTTPSConnection"}, message


def test_vcrpy_keeps_the_original_httpx_transport_methods() -> None:
    """``vcr.patch._Httpx2HttpTransport_handle_request`` and the like: the real methods,
    saved when vcrpy was imported, which the once-per-process dispatchers call."""
    methods = _compat.httpx_transport_methods()
    message = upstream(
        "vcr.patch._Httpx2HttpTransport_handle_request (and the other saved originals)",
        "call the real transport when no cassette is in use",
    )
    found = {(m.owner.__name__, m.name, m.group) for m in methods}
    for group in ("httpx", "httpx2"):
        assert ("HTTPTransport", "handle_request", group) in found, message
        assert ("AsyncHTTPTransport", "handle_async_request", group) in found, message
    for method in methods:
        assert method.original.__qualname__ == f"{method.owner.__name__}.{method.name}", message


def test_vcrpy_builds_and_records_httpx_responses_in_its_httpx_stub() -> None:
    """``vcr.stubs.httpx_stubs._deserialize_response`` / ``_serialize_response``: the
    response replayed for a recording, and the recording of a response."""
    message = upstream(
        "vcr.stubs.httpx_stubs._deserialize_response / _serialize_response",
        "replay and record httpx responses exactly as vcrpy's stub does",
    )
    recorded = {
        "status": {"code": 201, "message": "Created"},
        "headers": {"content-type": ["text/plain"], "set-cookie": ["a=1", "b=2"]},
        "body": {"string": b"hello"},
    }
    response = _compat.httpx_response(recorded, httpx2)
    assert isinstance(response, httpx2.Response), message
    assert response.status_code == 201 and response.reason_phrase == "Created", message
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"], message
    assert response.read() == b"hello", message
    assert _compat.httpx_recorded_response(response, b"hello") == recorded, message


# -------------------------------------------------------------------------- the cassette --


def test_vcrpy_calls_the_cassette_steps_the_hooks_stand_for(tmp_path: Path) -> None:
    """``Cassette._load``, ``_responses``, ``_new_interactions``, ``_rerecorded_interactions``
    and (vcrpy 9) ``_persist``: each forwards to a hook of ``_compat.Cassette``."""
    path = str(tmp_path / "c.yaml")
    cassette = Recorded.load(path=path, record_mode="new_episodes", drop_unused_requests=True)
    assert cassette.calls == ["load_interactions"], upstream(
        "vcr.cassette.Cassette._load", "index a cassette's interactions when they load"
    )
    cassette.append(_request(), _response())
    list(cassette.responses_of(_request()))
    assert "matching_responses" in cassette.calls, upstream(
        "vcr.cassette.Cassette._responses", "find stored responses by index key"
    )
    cassette._old_interactions.append((_request("https://example.com/old"), _response()))
    cassette._save()
    assert "new_interactions" in cassette.calls, upstream(
        "vcr.cassette.Cassette._new_interactions", "tell new interactions from loaded ones by key"
    )
    assert "prepare_save" in cassette.calls, upstream(
        "vcr.cassette.Cassette._persist (vcrpy 9; the persister on vcrpy 8)",
        "write provenance and each interaction's matching when a cassette is saved",
    )
    rewriting = Recorded.load(path=path, record_mode="all")
    rewriting.append(_request(), _response())
    rewriting._save()
    assert "rerecorded_interactions" in rewriting.calls, upstream(
        "vcr.cassette.Cassette._rerecorded_interactions",
        "replace re-recorded interactions in mode all",
    )


@pytest.mark.parametrize(
    ("attribute", "kind", "relies"),
    [
        ("_path", str, "name the cassette's file in errors and reports"),
        ("_match_on", (list, tuple), "build the index from the cassette's matchers"),
        ("_loaded_count", int, "tell loaded interactions from recorded ones"),
        ("_played_interactions", list, "keep played interactions with drop_unused_requests"),
        ("_persister", object, "read and write provenance on vcrpy 8"),
    ],
)
def test_cassette_state_vcrpy_keeps_privately(attribute: str, kind: Any, relies: str) -> None:
    cassette = vcr.cassette.Cassette("c.yaml", match_on=[vcr.matchers.method])
    assert isinstance(getattr(cassette, attribute, None), kind), upstream(
        f"vcr.cassette.Cassette.{attribute}", relies
    )


def test_metadata_round_trips_on_this_vcrpy(tmp_path: Path) -> None:
    """vcrpy 9 keeps ``Cassette._metadata`` and saves it; vcrpy 8 gets it through the persister."""
    from llm_cassettes.format import CassettePersister, CassetteSerializer

    path = str(tmp_path / "c.yaml")
    cassette = _compat.Cassette(
        path, persister=CassettePersister(), serializer=CassetteSerializer(), record_mode="once"
    )
    cassette.append(_request(), _response())
    cassette.file_metadata = {"llm_cassettes": {"recorded": "2026-01-01"}}
    cassette._save()
    loaded = _compat.Cassette.load(
        path=path, persister=CassettePersister(), serializer=CassetteSerializer()
    )
    assert loaded.file_metadata == {"llm_cassettes": {"recorded": "2026-01-01"}}, upstream(
        "vcr.cassette.Cassette._metadata", "keep provenance (metadata.llm_cassettes)"
    )


# ---------------------------------------------------------------------------------- VCR --


def test_vcr_builds_cassettes_in_use_cassette() -> None:
    """``VCR._use_cassette(with_current_defaults=False, **kwargs)``: where the class is chosen."""
    method = getattr(vcr.config.VCR, "_use_cassette", None)
    message = upstream("vcr.config.VCR._use_cassette", "make every cassette an LLMCassette")
    assert method is not None, message
    assert "with_current_defaults" in inspect.signature(method).parameters, message
    context = LLMVCR().use_cassette("c.yaml")
    assert context.cls is LLMVCR.cassette_class, message


def test_pytest_recording_hands_over_a_plain_vcr(tmp_path: Path) -> None:
    """pytest-recording's ``_vcr.use_cassette`` builds a ``vcr.VCR`` with a ``CombinedPersister``
    (``extra_paths``); ``adopt`` turns that very object into an ``LLMVCR``."""
    from pytest_recording import _vcr as pytest_recording_vcr

    seen: list[Any] = []
    config = types.SimpleNamespace(
        hook=types.SimpleNamespace(pytest_recording_configure=lambda config, vcr: seen.append(vcr))
    )
    extra = tmp_path / "extra.yaml"
    mark = types.SimpleNamespace(args=(str(extra),), kwargs={})
    pytest_recording_vcr.use_cassette("c", str(tmp_path), "none", [mark], {}, config)
    message = upstream(
        "pytest_recording._vcr.use_cassette / CombinedPersister.extra_paths",
        "take over the VCR pytest-recording builds, keeping its extra cassettes",
    )
    assert len(seen) == 1 and type(seen[0]) is vcr.VCR, message
    assert _compat.extra_cassette_paths(seen[0]) == [str(extra)], message
    adopted = LLMVCR.adopt(seen[0])
    assert adopted is seen[0] and isinstance(adopted, LLMVCR), message
    assert adopted.record_mode == "none" and adopted.cassette_library_dir == str(tmp_path), message


def test_pytest_recording_filename_limit() -> None:
    from pytest_recording import _vcr as pytest_recording_vcr

    message = upstream(
        "pytest_recording._vcr.MAX_FILENAME_LEN",
        "find cassettes pytest-recording named prefix...<md5> (test IDs too long for a file)",
    )
    assert isinstance(getattr(pytest_recording_vcr, "MAX_FILENAME_LEN", None), int), message
    assert _compat.pytest_recording_filename_limit() == pytest_recording_vcr.MAX_FILENAME_LEN


def test_vcrpy_default_match_on_is_read_from_vcrpy() -> None:
    default = vcr.VCR()
    message = upstream("vcr.VCR(match_on=...) default", "tell a chosen match_on from vcrpy's")
    assert _compat.VCRPY_DEFAULT_MATCH_ON == tuple(default.match_on), message
    assert all(name in default.matchers for name in _compat.VCRPY_DEFAULT_MATCH_ON), message


# ---------------------------------------------------------------------- requests, stubs --


def test_requests_round_trip_through_their_stored_form() -> None:
    message = upstream(
        "vcr.request.Request._from_dict / Request._to_dict", "read and write stored requests"
    )
    request = _request()
    data = _compat.request_to_dict(request)
    assert isinstance(data, dict) and data["uri"] == request.uri, message
    again = _compat.request_from_dict(data)
    assert (again.method, again.uri, again.body) == (request.method, request.uri, request.body)


def test_index_keys_use_vcrpys_own_normalizations() -> None:
    for name in ("_normalized_uri", "_normalized_path"):
        assert callable(getattr(vcr.matchers, name, None)), upstream(
            f"vcr.matchers.{name}", "key the uri and path matchers as vcrpy compares them"
        )
    bare, slash = _request("https://example.com"), _request("https://example.com/")
    assert _compat.normalized_uri(bare) == _compat.normalized_uri(slash)
    vcr.matchers.uri(bare, slash)  # vcrpy agrees: raises AssertionError if not


def test_the_httpx_stub_builds_headers_in_deserialize_headers() -> None:
    from vcr.stubs import httpx_stubs

    message = upstream(
        "vcr.stubs.httpx_stubs._deserialize_headers",
        "replay response headers that are not ASCII (latin-1 file names)",
    )
    function = getattr(httpx_stubs, "_deserialize_headers", None)
    assert callable(function), message
    _compat.replay_non_ascii_headers()
    assert getattr(httpx_stubs._deserialize_headers, "_llm_cassettes", False), message
    pairs = httpx_stubs._deserialize_headers({"content-disposition": ['filename="résumé"']})
    assert pairs == [("content-disposition", 'filename="résumé"'.encode())], message
