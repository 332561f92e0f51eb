"""This library's options: what users add to vcrpy's ``use_cassette`` keyword arguments.

They work wherever vcrpy's do (``vcr_config``, the ``vcr`` marker,
``use_cassette``). Each is declared once, with its default, the conversion of
what a user writes (a string or a list, a regex or a compiled pattern) and
where it goes: a :class:`~llm_cassettes.scrub.ScrubOptions` field, a
:class:`~llm_cassettes.matching.CanonicalOptions` field, a :class:`StreamOptions`
field, or the cassette itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..matching import CanonicalOptions
from ..scrub import Scrubber, ScrubOptions

__all__ = [
    "LLM_OPTIONS",
    "StreamOptions",
    "build_scrubber",
    "canonical_options",
    "split_options",
    "stream_options",
    "with_project_options",
]


def _strings(value: Any) -> tuple[str, ...]:
    """A string or any iterable of them, as a tuple."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value or ())


def _regexes_as_given(value: Any) -> tuple[Any, ...]:
    """Regexes as given: strings or compiled patterns."""
    if isinstance(value, (str, re.Pattern)):
        return (value,)
    return tuple(value or ())


def _stream_timing(value: Any) -> str | None:
    if value in (None, False, "off"):
        return None
    if value == "record":
        return "record"
    raise ValueError(f"stream_timing: expected None or 'record', not {value!r}")


def _replay_speed(value: Any) -> float:
    try:
        speed = float(value)
    except (TypeError, ValueError):
        speed = -1.0
    if isinstance(value, bool) or not speed >= 0 or speed == float("inf"):
        raise ValueError(
            f"replay_speed: expected a number >= 0 (0: at once, 1.0: as recorded), not {value!r}"
        )
    return speed


def _stream_chunking(value: Any) -> str:
    if value not in ("event", "coalesce"):
        raise ValueError(f"stream_chunking: expected 'event' or 'coalesce', not {value!r}")
    return str(value)


@dataclass(frozen=True)
class StreamOptions:
    """How streamed responses are recorded and replayed (see ``docs/streaming.md``)."""

    #: ``"record"``: store each event's arrival time (``offsets_ms``); None: do not.
    timing: str | None = None
    #: 0: replay at once; 1.0: at the recorded pace; 2.0: twice as fast ...
    replay_speed: float = 0.0
    #: ``"event"``: one read per recorded event; ``"coalesce"``: the whole body in one.
    chunking: str = "event"


@dataclass(frozen=True)
class _Option:
    default: Any
    convert: Callable[[Any], Any]
    field: str  # of ScrubOptions or CanonicalOptions


#: Scrubbing (see llm_cassettes.scrub): option → ScrubOptions field.
_SCRUBBING = {
    "scrub": _Option(True, bool, "enabled"),  # False: the one explicit way to store secrets
    "drop_volatile_headers": _Option(True, bool, "drop_volatile_headers"),
    "keep_headers": _Option((), _strings, "keep_headers"),
    "secret_headers": _Option((), _strings, "extra_secret_headers"),
    "volatile_headers": _Option((), _strings, "extra_volatile_headers"),
    "secret_env": _Option((), _strings, "extra_secret_env"),
    "secret_values": _Option((), _strings, "extra_secret_values"),
    "secret_names": _Option((), _strings, "extra_secret_names"),
    "secret_patterns": _Option((), _regexes_as_given, "extra_secret_patterns"),
    "keep_names": _Option((), _strings, "keep_names"),
}

#: Request matching (see llm_cassettes.matching): option → CanonicalOptions field.
_MATCHING = {
    "float_places": _Option(5, int, "float_places"),
    "ignore_json_paths": _Option((), _strings, "ignore_paths"),
    "id_patterns": _Option((), _strings, "id_patterns"),
    "id_json_paths": _Option((), _strings, "id_paths"),
    "ignore_defaults": _Option(True, bool, "ignore_defaults"),
    "normalize_ids": _Option(True, bool, "normalize_ids"),
}

#: Streams (see llm_cassettes.recording._transport): option → StreamOptions field.
_STREAMING = {
    "stream_timing": _Option(None, _stream_timing, "timing"),
    "replay_speed": _Option(0, _replay_speed, "replay_speed"),
    "stream_chunking": _Option("event", _stream_chunking, "chunking"),
}

#: Options this library adds to vcrpy's ``use_cassette`` keyword arguments, with defaults.
LLM_OPTIONS: dict[str, Any] = {
    **{name: option.default for name, option in _SCRUBBING.items()},
    # the cassette format
    "typed_bodies": True,
    "validate_types": True,
    **{name: option.default for name, option in _MATCHING.items()},
    **{name: option.default for name, option in _STREAMING.items()},
    # adoption (see the cassette's provenance and findings)
    "strict": None,  # None: the VCR's setting (the plugin's llm_cassettes_strict)
    "allow_unused": True,
}


def split_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """This library's options out of ``use_cassette`` keyword arguments (removed from them),
    defaults filled in."""
    options = dict(LLM_OPTIONS)
    for key in LLM_OPTIONS:
        if key in kwargs:
            options[key] = kwargs.pop(key)
    return options


def with_project_options(
    options: dict[str, Any], project: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    """``options`` with the project-wide values of scrubbing list options put first."""
    for name, values in project.items():
        options[name] = (*values, *_SCRUBBING[name].convert(options[name]))
    return options


def canonical_options(options: Mapping[str, Any]) -> CanonicalOptions:
    """Canonicalization options (request matching) from this library's options."""
    return CanonicalOptions(
        **{option.field: option.convert(options[name]) for name, option in _MATCHING.items()}
    )


def build_scrubber(options: Mapping[str, Any]) -> Scrubber:
    """The scrubber this library's options ask for."""
    return Scrubber(
        ScrubOptions(
            **{option.field: option.convert(options[name]) for name, option in _SCRUBBING.items()}
        )
    )


def stream_options(options: Mapping[str, Any]) -> StreamOptions:
    """How streams are recorded and replayed, from this library's options (checked)."""
    return StreamOptions(
        **{option.field: option.convert(options[name]) for name, option in _STREAMING.items()}
    )
