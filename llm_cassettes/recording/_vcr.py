"""vcrpy with this library's defaults: the serializer, persister and scrubbing hooks.

:class:`LLMVCR` is a small documented subclass of :class:`vcr.VCR`. It reads
this library's options out of the ``use_cassette`` keyword arguments (so they
work in ``vcr_config`` and in the ``vcr`` marker), builds the serializer for
that cassette, and composes the scrubbing hooks *after* the user's own, so a
user's ``before_record_request`` cannot switch scrubbing off by accident.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vcr import VCR
from vcr.filters import decode_response

from .. import _compat
from .._wire import header
from ..format import CassettePersister, CassetteSerializer, WrappedSerializer
from ..matching import BODY_MATCHER, DEFAULT_MATCH_ON, body_matcher
from ._cassette import LLMCassette
from ._hooks import compose as _compose
from ._hooks import then_learn_response, then_scrub_request
from ._options import (
    LLM_OPTIONS,
    build_scrubber,
    canonical_options,
    split_options,
    stream_options,
    with_project_options,
)

__all__ = ["LLMVCR", "use_cassette"]

_compat.replay_non_ascii_headers()


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
    #: Options set for the whole project (the plugin's ini options ``llm_cassettes_secret_*``):
    #: added before each cassette's own.
    project_options: Mapping[str, tuple[str, ...]] = {}
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
        options = with_project_options(split_options(kwargs), self.project_options)
        scrubber = build_scrubber(options)
        serializer = CassetteSerializer(
            scrubber, typed=bool(options["typed_bodies"]), validate=bool(options["validate_types"])
        )
        serializer_name = kwargs.get("serializer", self.serializer)
        decode = kwargs.get("decode_compressed_response", self.decode_compressed_response)
        # vcrpy's decoding step deep-copies every response, also one it leaves as it is (no
        # content-encoding: every response this library stores); it runs only when needed.
        merged = super().get_merged_config(**{**kwargs, "decode_compressed_response": False})
        if decode:
            merged["before_record_response"] = _compose(
                _decode_compressed, merged["before_record_response"]
            )
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
        merged["stream_options"] = stream_options(options)
        if serializer_name == "yaml":
            merged["serializer"] = serializer
        else:
            merged["serializer"] = WrappedSerializer(merged["serializer"], serializer)
        merged["before_record_request"] = then_scrub_request(
            merged["before_record_request"], scrubber
        )
        merged["before_record_response"] = then_learn_response(
            merged["before_record_response"], scrubber
        )
        return merged


def _decode_compressed(response: Any) -> Any:
    """vcrpy's ``decode_response`` for a compressed response; any other is left as it is."""
    if isinstance(response, dict) and header(response.get("headers") or {}, "content-encoding"):
        return decode_response(response)
    return response


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
