"""vcrpy with this library's defaults: the serializer, persister and scrubbing hooks.

:class:`LLMVCR` is a small documented subclass of :class:`vcr.VCR`. It reads
this library's options out of the ``use_cassette`` keyword arguments (so they
work in ``vcr_config`` and in the ``vcr`` marker), builds the serializer for
that cassette, and composes the scrubbing hooks *after* the user's own, so a
user's ``before_record_request`` cannot switch scrubbing off by accident.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vcr import VCR
from vcr.request import Request

from .. import _compat
from .._wire import header
from ..format import CassettePersister, CassetteSerializer, WrappedSerializer
from ..matching import BODY_MATCHER, DEFAULT_MATCH_ON, CanonicalOptions, body_matcher
from ..scrub import REDACTED, Scrubber, ScrubOptions
from ._cassette import LLMCassette

__all__ = ["LLMVCR", "LLM_OPTIONS", "use_cassette"]

#: Options this library adds to vcrpy's ``use_cassette`` keyword arguments, with defaults.
LLM_OPTIONS: dict[str, Any] = {
    "scrub": True,  # False is the one explicit way to let secrets reach disk
    "drop_volatile_headers": True,
    "keep_headers": (),
    "secret_headers": (),
    "volatile_headers": (),
    "secret_env": (),
    "secret_values": (),
    "secret_names": (),
    "secret_patterns": (),
    "keep_names": (),
    "typed_bodies": True,
    "validate_types": True,
    # request matching (see llm_cassettes.matchers)
    "float_places": 5,
    "ignore_json_paths": (),
    "id_patterns": (),
    "id_json_paths": (),
    "ignore_defaults": True,
    "normalize_ids": True,
    # adoption (see llm_cassettes._provenance and _findings)
    "strict": None,  # None: the VCR's setting (the plugin's llm_cassettes_strict)
    "allow_unused": True,
}


def _split_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    options = dict(LLM_OPTIONS)
    for key in LLM_OPTIONS:
        if key in kwargs:
            options[key] = kwargs.pop(key)
    return options


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value or ())


def canonical_options(options: Mapping[str, Any]) -> CanonicalOptions:
    """Canonicalization options (request matching) from this library's keys."""
    return CanonicalOptions(
        float_places=int(options["float_places"]),
        ignore_paths=_strings(options["ignore_json_paths"]),
        id_patterns=_strings(options["id_patterns"]),
        id_paths=_strings(options["id_json_paths"]),
        ignore_defaults=bool(options["ignore_defaults"]),
        normalize_ids=bool(options["normalize_ids"]),
    )


def build_scrubber(options: Mapping[str, Any]) -> Scrubber:
    return Scrubber(
        ScrubOptions(
            enabled=bool(options["scrub"]),
            drop_volatile_headers=bool(options["drop_volatile_headers"]),
            extra_secret_headers=_strings(options["secret_headers"]),
            extra_volatile_headers=_strings(options["volatile_headers"]),
            keep_headers=_strings(options["keep_headers"]),
            extra_secret_env=_strings(options["secret_env"]),
            extra_secret_values=_strings(options["secret_values"]),
            extra_secret_names=_strings(options["secret_names"]),
            extra_secret_patterns=_regexes_as_given(options["secret_patterns"]),
            keep_names=_strings(options["keep_names"]),
        )
    )


def _regexes_as_given(value: Any) -> tuple[Any, ...]:
    """Regexes as given: strings or compiled patterns."""
    if isinstance(value, (str, re.Pattern)):
        return (value,)
    return tuple(value or ())


def _request_scrubber(scrubber: Scrubber) -> Callable[[Request], Request]:
    """A ``before_record_request`` hook; vcrpy also applies it to live requests before
    matching, so a redacted query string or body field still matches the stored one."""

    def scrub_request(request: Request) -> Request:
        if request is None or not scrubber.enabled:
            return request
        content_type = header(request.headers, "content-type")
        scrubber.learn_interaction(
            {"uri": request.uri, "headers": request.headers, "body": request.body}, None
        )
        for name in list(request.headers):  # other headers are scrubbed when saved
            if scrubber.header_action(name) == "redact":
                request.headers[name] = REDACTED
        uri = scrubber.url(request.uri)
        if uri != request.uri:
            request.uri = uri
        body = request.body
        if body:
            scrubbed = scrubber.body(body, content_type)
            if scrubbed != body:
                request.body = scrubbed
        return request

    return scrub_request


def _response_learner(scrubber: Scrubber) -> Callable[[Any], Any]:
    """A ``before_record_response`` hook that only learns: the response's cookies and secret
    fields are known before the next request is scrubbed (the serializer redacts them)."""

    def learn_response(response: Any) -> Any:
        if isinstance(response, Mapping) and scrubber.enabled:
            scrubber.learn_interaction({}, response)
        return response

    return learn_response


_compat.replay_non_ascii_headers()


def _compose(first: Callable[[Any], Any], then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def hook(value: Any) -> Any:
        value = first(value)
        return None if value is None else then(value)

    return hook


class LLMVCR(_compat.VCR):
    """A :class:`vcr.VCR` whose cassettes are typed, scrubbed and written atomically.

    pytest-recording builds a plain ``VCR`` for every test; this library's
    ``pytest_recording_configure`` hook turns it into an ``LLMVCR`` with
    :meth:`adopt`, keeping every setting pytest-recording made.
    """

    cassette_class = LLMCassette
    test_id: str | None = None
    #: Match every interaction on its body, even those recorded by plain vcrpy.
    strict: bool = False
    #: Report interactions the test never played (off for a shared ``default_cassette``).
    report_unused: bool = True
    #: The user chose ``match_on``: it is honoured for every interaction.
    _chosen_match_on: bool = False

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("decode_compressed_response", True)
        self._chosen_match_on = "match_on" in kwargs
        kwargs.setdefault("match_on", DEFAULT_MATCH_ON)
        super().__init__(**kwargs)
        self.persister = CassettePersister()
        self.matchers[BODY_MATCHER] = body_matcher(canonical_options(LLM_OPTIONS))

    @classmethod
    def adopt(cls, vcr: VCR) -> LLMVCR:
        """Make pytest-recording's ``VCR`` an ``LLMVCR`` in place (same settings)."""
        llm_vcr = _compat.adopt(vcr, cls)
        llm_vcr.decode_compressed_response = True
        if tuple(llm_vcr.match_on) == _compat.VCRPY_DEFAULT_MATCH_ON:
            llm_vcr.match_on = DEFAULT_MATCH_ON  # vcrpy's default, so not the user's choice
        else:
            llm_vcr._chosen_match_on = True
        llm_vcr.matchers[BODY_MATCHER] = body_matcher(canonical_options(LLM_OPTIONS))
        llm_vcr.persister = CassettePersister(_compat.extra_cassette_paths(vcr))
        return llm_vcr  # type: ignore[return-value]

    def get_merged_config(self, **kwargs: Any) -> dict[str, Any]:
        options = _split_options(kwargs)
        scrubber = build_scrubber(options)
        serializer = CassetteSerializer(
            scrubber, typed=bool(options["typed_bodies"]), validate=bool(options["validate_types"])
        )
        serializer_name = kwargs.get("serializer", self.serializer)
        merged = super().get_merged_config(**kwargs)
        # This cassette's options, in place of the registered default ``llm_body``.
        default_body = self.matchers[BODY_MATCHER]
        merged["match_on"] = [
            body_matcher(canonical_options(options)) if matcher is default_body else matcher
            for matcher in merged["match_on"]
        ]
        merged["test_id"] = kwargs.get("test_id", self.test_id)
        strict = self.strict if options["strict"] is None else bool(options["strict"])
        # Each interaction matched as it was recorded, unless strict or a chosen match_on.
        merged["match_as_recorded"] = not (strict or self._chosen_match_on or "match_on" in kwargs)
        merged["allow_unused"] = bool(options["allow_unused"])
        merged["report_unused"] = self.report_unused
        if serializer_name == "yaml":
            merged["serializer"] = serializer
        else:
            merged["serializer"] = WrappedSerializer(merged["serializer"], serializer)
        merged["before_record_request"] = _compose(
            merged["before_record_request"], _request_scrubber(scrubber)
        )
        merged["before_record_response"] = _compose(
            merged["before_record_response"], _response_learner(scrubber)
        )
        return merged


def use_cassette(path: str | os.PathLike[str] | Callable[..., Any] | None = None, **kwargs: Any):
    """Record/replay with all of this library's defaults, outside pytest too.

    A context manager and a decorator, taking vcrpy's ``use_cassette``
    arguments plus this library's options (see the README). ``.yaml`` is
    added to a path without a suffix.
    """
    vcr = LLMVCR()
    if path is None or callable(path):
        return vcr.use_cassette(path, **kwargs)
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".yaml")
    return vcr.use_cassette(os.fspath(path), **kwargs)
