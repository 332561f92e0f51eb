"""Where a cassette came from, and therefore how its requests are matched.

A cassette's ``metadata.llm_cassettes`` entry says when, with which SDKs and
for which models it was recorded. Its presence also decides matching:

* no entry: a plain vcrpy / pytest-recording cassette. Its interactions are
  matched the way vcrpy matched them when they were recorded (method and URL, in
  recorded order), so installing this library changes no test outcome;
* an entry: written (or imported from llama-stack, whose recorder matched on a
  hash of the body) by this library, so bodies are compared, canonically;
* ``matching: legacy`` in the entry: an upgraded plain cassette that keeps
  vcrpy's matching. Interactions recorded into it later by this library carry
  ``matching: body`` in their response, so each interaction is matched the way
  it was recorded.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .._wire import header, loads_json
from ..providers import model_in_path, sdk_of_agent

__all__ = [
    "BODY",
    "LEGACY",
    "LOAD_INFO",
    "MATCHING_KEY",
    "PROVENANCE_KEY",
    "LoadInfo",
    "Provenance",
    "declare_matching",
    "file_matching",
    "interaction_matching",
    "matched_on_body",
    "provenance_entry",
    "sdk_of",
    "with_provenance_entry",
    "without_matching_marker",
]

#: Key of this library's entry in a cassette's ``metadata``.
PROVENANCE_KEY = "llm_cassettes"
#: Key of the matching, in that entry (the cassette's) and in a response (one interaction's).
MATCHING_KEY = "matching"
#: Matched on method and URL only, in recorded order: how plain vcrpy recorded it.
LEGACY = "legacy"
#: Matched on method, URL and the canonical body: how this library records.
BODY = "body"
_MATCHINGS = (LEGACY, BODY)

#: In-memory key of a loaded response: how it was recorded and where it was read from
#: (set by the persister, taken off again by the cassette before anything else sees it).
LOAD_INFO = "__llm_cassettes_load__"


@dataclass(frozen=True)
class LoadInfo:
    """One loaded interaction: its matching, the file it came from, its index there."""

    matching: str
    source: str
    index: int


def provenance_entry(metadata: Any) -> Any:
    """This library's entry in a cassette's ``metadata`` (None without one)."""
    return metadata.get(PROVENANCE_KEY) if isinstance(metadata, Mapping) else None


def with_provenance_entry(metadata: Mapping[str, Any], entry: Any) -> dict[str, Any]:
    """``metadata`` with this library's entry replaced by ``entry``."""
    return {**metadata, PROVENANCE_KEY: entry}


def declare_matching(entry: Mapping[str, Any], *, legacy: bool) -> dict[str, Any]:
    """An entry saying its cassette is matched as plain vcrpy matched it, or on bodies."""
    declared = dict(entry)  # a key already there keeps its place: re-saving changes no line
    if legacy:
        declared[MATCHING_KEY] = LEGACY
    else:
        declared.pop(MATCHING_KEY, None)
    return declared


def matched_on_body(response: Mapping[str, Any]) -> dict[str, Any]:
    """A response recorded by this library into a legacy cassette, saying so."""
    return {**response, MATCHING_KEY: BODY}


def without_matching_marker(response: Any) -> Any:
    """A response without its own matching marker (it follows the cassette's again)."""
    if isinstance(response, Mapping) and MATCHING_KEY in response:
        return {k: v for k, v in response.items() if k != MATCHING_KEY}
    return response


def file_matching(metadata: Any) -> str:
    """The matching of a cassette file's interactions that do not name their own."""
    info = provenance_entry(metadata)
    if not isinstance(info, Mapping):
        return LEGACY
    value = info.get(MATCHING_KEY, BODY)
    return value if value in _MATCHINGS else BODY


def interaction_matching(marker: Any, default: str) -> str:
    """One stored interaction's matching: its response's own marker, else the file's."""
    return marker if marker in _MATCHINGS else default


# ------------------------------------------------------------------------- provenance --
#: ``OpenAI/Python 1.2.3``, ``Anthropic/Python 0.5``: the Stainless SDKs;
#: ``google-genai-sdk/3.6.1+afc gl-python/3.11``: Google's (``+afc``: a feature in use).
_AGENT = re.compile(r"^\s*([A-Za-z][\w-]*(?:/Python)?)[\s/]([0-9][\w.-]*)")


def sdk_of(headers: Any) -> tuple[str, str] | None:
    """The SDK (name, version) that sent a request, from its ``User-Agent``.

    The header names the version that really made the call, which is what a
    reader of the cassette needs (the installed one may differ by now), and a
    request the SDK did not send (raw HTTP, a tool call) names none.
    """
    agent = header(headers, "user-agent")
    found = _AGENT.match(agent) if agent else None
    sdk = sdk_of_agent(found.group(1)) if found else None  # the providers' SDKs
    return (sdk, found.group(2)) if sdk and found else None


def model_of(body: Any) -> str | None:
    """The ``model`` of a JSON request body, if it has one."""
    if isinstance(body, bytes):
        if b'"model"' not in body:
            return None
    elif not isinstance(body, str) or '"model"' not in body:
        return None
    try:
        value = loads_json(body)
    except ValueError:
        return None
    model = value.get("model") if isinstance(value, dict) else None
    return model if isinstance(model, str) else None


@dataclass
class Provenance:
    """SDKs and models seen in some requests (what a cassette's entry lists)."""

    sdk: dict[str, str]
    models: set[str]

    @classmethod
    def of(cls, requests: Iterable[tuple[Any, ...]]) -> Provenance:
        """From (headers, body) or (headers, body, uri) tuples: raw requests, or stored ones."""
        found = cls({}, set())
        for request in requests:
            found.note(*request)
        return found

    def note(self, headers: Any, body: Any, uri: str | None = None) -> None:
        sdk = sdk_of(headers)
        if sdk:
            self.sdk.setdefault(*sdk)
        model = model_of(body) or (model_in_path(urlsplit(uri).path) if uri else None)
        if model:
            self.models.add(model)

    def fresh(self, **extra: Any) -> dict[str, Any]:
        """The entry of a cassette recorded entirely today (or imported, with ``extra``)."""
        info: dict[str, Any] = dict(extra)
        if "recorded" not in extra and "imported_from" not in extra:
            info = {"recorded": today(), **info}
        if self.sdk:
            info["sdk"] = dict(sorted(self.sdk.items()))
        if self.models:
            info["models"] = sorted(self.models)
        return info

    def added_to(self, info: Mapping[str, Any]) -> dict[str, Any]:
        """An existing entry after interactions were added today: lines added, none changed.

        The first recording date stays (``check --max-age`` must see the oldest
        answer's age); the day of the latest addition is ``last_recorded``. SDKs
        and models are added, not replaced, so a diff shows only added lines.
        """
        updated = dict(info)
        day = today()
        if updated.get("recorded") != day:
            updated["last_recorded"] = day
        sdk = dict(updated.get("sdk") or {}) if isinstance(updated.get("sdk"), Mapping) else {}
        for name, version in self.sdk.items():
            sdk.setdefault(name, version)
        if sdk:
            updated["sdk"] = sdk
        models = updated.get("models")
        known = [m for m in models if isinstance(m, str)] if isinstance(models, list) else []
        if set(self.models) - set(known):
            updated["models"] = sorted(set(known) | self.models)
        return updated


def today() -> str:
    # Day precision: re-recording identical traffic the same day gives identical bytes.
    return datetime.date.today().isoformat()
