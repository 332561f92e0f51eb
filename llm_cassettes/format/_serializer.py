"""The cassette format: vcrpy's serializer interface, storing LLM traffic typed.

vcrpy hands a serializer its cassette dict with raw bodies; this module turns
each body into what a reviewer wants to read and back into the bytes a client
expects:

* a server-sent-event stream becomes ``body: {sse: [...]}``, one entry per event;
* a JSON body becomes ``body: {json: ...}``;
* a JSON payload the SDK parses into a model is wrapped as
  ``{__type__: openai.types..., __data__: {...}}`` (the payload itself, unchanged);
* anything else stays vcrpy's ``body: {string: ...}`` (bytes as ``!!binary``).

A response the client stopped reading, or the server broke off, says so beside
its body (``complete: false``, and ``error:`` with the exception the client got);
a stream recorded with ``stream_timing="record"`` keeps each event's arrival time
(``sse.offsets_ms``; for a newline-delimited JSON stream, each line's, beside its
``string``). These are :data:`STREAM_FIELDS`, read back into the body.

Plain vcrpy cassettes are valid input: a body without those keys passes through.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._errors import CassetteDriftWarning, CassetteFormatError
from .._wire import (
    SSE_MEDIA_TYPE,
    JSONTooDeep,
    decompress,
    dumps_compact,
    encode_sse,
    event_ends,
    frame_ends,
    header,
    is_json_media,
    loads_json,
    media_type,
    parse_sse,
    too_deep,
    utf8_text,
)
from ..providers import (
    UNVALIDATED_TYPES,
    Endpoint,
    NotInstalledError,
    TypeNotAllowedError,
    concrete_type,
    find_endpoint,
    resolve_type,
)
from ..scrub import Scrubber
from . import _yaml
from ._payload import DATA_KEY, TYPE_KEY, typed
from ._tool_record import METHOD as TOOL_METHOD
from ._tool_record import check_outcome

__all__ = [
    "COMPLETE_KEY",
    "ERROR_KEY",
    "FORMAT_VERSION",
    "OFFSETS_KEY",
    "STREAM_FIELDS",
    "UNTYPED_KEY",
    "CassetteSerializer",
    "WrappedSerializer",
]

FORMAT_VERSION = 1
#: Beside ``string``: why a body that looks like JSON is stored as text.
UNTYPED_KEY = "untyped"
#: Beside a stream's ``events``: how its lines ended when not with ``\n`` (``crlf``).
NEWLINE_KEY = "newline"
CRLF = "crlf"
#: Beside the body: ``false`` when the body stops where the client or the server did.
COMPLETE_KEY = "complete"
#: Beside the body: ``{type, message}`` of the exception the server's break-off raised.
ERROR_KEY = "error"
#: In ``sse`` (beside ``string`` for a raw stream): each event's arrival, in milliseconds
#: after the request was sent.
OFFSETS_KEY = "offsets_ms"
#: What a recorded body may carry besides its content (in vcrpy's body dict too).
STREAM_FIELDS = (COMPLETE_KEY, ERROR_KEY, OFFSETS_KEY)


def _subplace(where: str | None, suffix: str) -> str | None:
    """A reported place, or None when nobody listens (so recording builds no strings)."""
    return None if where is None else where + suffix


def _drop_header(headers: dict[str, Any], *names: str) -> None:
    for key in [k for k in headers if k.lower() in names]:
        del headers[key]


class _UntypedReason(str):
    """Why a JSON-looking body stays a string: stored beside it as ``untyped``."""


def _maybe_json(text: str) -> tuple[bool, Any]:
    """Parse text that looks like a JSON document (object or array).

    ``(True, value)``; ``(False, None)`` for text that is not JSON; ``(False,
    _UntypedReason(reason))`` for JSON the typed form cannot hold, kept as a string.
    """
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return False, None
    try:
        value = loads_json(text)
    except JSONTooDeep as exc:
        return False, _UntypedReason(str(exc))
    except ValueError:
        return False, None
    if "\\u" in text and _has_lone_surrogate(value):
        # "\ud800" parses, but cannot be written as UTF-8 YAML: keep raw
        return False, _UntypedReason(
            "JSON with a lone surrogate escape, which UTF-8 text cannot hold"
        )
    return True, value


def _has_lone_surrogate(value: Any) -> bool:
    try:
        dumps_compact(value).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decompress(headers: dict[str, Any], body: Any) -> Any:
    """Store compressed bodies decoded: a reviewer cannot read gzip."""
    if not isinstance(body, bytes):
        return body
    decoded = decompress(body, header(headers, "content-encoding"))
    if decoded is None:
        return body  # not compressed, or not what the header claims: kept byte-exact
    _drop_header(headers, "content-encoding", "content-length")
    return decoded


class CassetteSerializer:
    """A vcrpy serializer (``serialize(dict) -> str``, ``deserialize(str) -> dict``).

    ``typed=False`` keeps vcrpy's raw body strings (still scrubbed). ``source``
    names the file being read in errors and warnings; the persister sets it.
    """

    def __init__(
        self,
        scrubber: Scrubber | None = None,
        *,
        typed: bool = True,
        validate: bool = True,
    ) -> None:
        self.scrubber = scrubber or Scrubber()
        self.typed = typed
        self.validate = validate

    # ------------------------------------------------------------------ saving --
    def serialize(self, cassette_dict: Mapping[str, Any]) -> str:
        return _yaml.dump(self.stored(cassette_dict))

    def stored(self, cassette_dict: Mapping[str, Any]) -> dict[str, Any]:
        """The cassette as it is written (scrubbed, typed), before any file format."""
        data: dict[str, Any] = {"version": FORMAT_VERSION}
        items = cassette_dict.get("interactions", [])
        # Learn every secret of the cassette first, so an echo is redacted wherever it is,
        # even in an interaction written before the one that revealed it.
        for item in items:
            self.scrubber.learn_interaction(item["request"], item["response"])
        data["interactions"] = [self._encode(item["request"], item["response"]) for item in items]
        if cassette_dict.get("metadata"):
            # Last, so that appending interactions stays a pure addition in a diff.
            data["metadata"] = self.scrubber.value(cassette_dict["metadata"])
        return data

    def encode_interaction(
        self, request: Mapping[str, Any], response: Mapping[str, Any], *, where: str | None = None
    ) -> dict[str, Any]:
        """One interaction in stored form (scrubbed, typed); accepts stored form too.

        ``where`` (e.g. ``"interactions[3]."``) prefixes the places the scrubber reports.
        """
        self.scrubber.learn_interaction(request, response)
        return self._encode(request, response, where)

    def _encode(
        self, request: Mapping[str, Any], response: Mapping[str, Any], where: str | None = None
    ) -> dict[str, Any]:
        scrub = self.scrubber
        method = str(request.get("method", "GET"))
        uri = scrub.url(str(request.get("uri", "")), _subplace(where, "request.uri"))
        request_headers = dict(request.get("headers") or {})
        request_body = self._encode_request_body(
            request.get("body"), request_headers, _subplace(where, "request.body")
        )
        stored_request = {
            "method": method,
            "uri": uri,
            "headers": scrub.headers(request_headers, _subplace(where, "request.headers")),
            "body": request_body,
        }
        if not isinstance(response, Mapping) or "status" not in response:
            # Not an HTTP response (a tool result, a plugin's own record): scrub only, and
            # leave out the empty headers vcrpy's hooks need (decoding puts them back).
            if isinstance(response, Mapping) and response.get("headers") == {}:
                response = {k: v for k, v in response.items() if k != "headers"}
            return {
                "request": stored_request,
                "response": scrub.value(response, _subplace(where, "response")),
            }
        response_headers = dict(response.get("headers") or {})
        endpoint = find_endpoint(method, urlsplit(uri).path)
        status = response.get("status") or {}
        ok = isinstance(status, Mapping) and 200 <= int(status.get("code", 200)) < 300
        body = response.get("body")
        stored_body = self._encode_response_body(
            body, response_headers, endpoint if ok else None, _subplace(where, "response.body")
        )
        stored_response = {
            "status": dict(status) if isinstance(status, Mapping) else status,
            "headers": scrub.headers(response_headers, _subplace(where, "response.headers")),
            "body": stored_body,
        }
        for key, value in response.items():  # keep what other tools add, in order
            if key not in stored_response:
                stored_response[key] = scrub.value(value, _subplace(where, f"response.{key}"))
        return {"request": stored_request, "response": stored_response}

    def _encode_request_body(self, body: Any, headers: dict[str, Any], where: str | None) -> Any:
        if isinstance(body, Mapping):  # already stored form (re-saving a loaded cassette)
            if "json" in body:
                return {
                    **body,
                    "json": self.scrubber.value(body["json"], _subplace(where, ".json")),
                }
            return self.scrubber.value(dict(body), where)
        if body is None or body == "" or body == b"":
            return body
        content_type = header(headers, "content-type")
        text = utf8_text(body)
        if text is None:
            return self.scrubber.raw(body, where, content_type)
        if self.typed and (is_json_media(content_type) or not content_type):
            is_json, value = _maybe_json(text)
            if is_json:
                _drop_header(headers, "content-length")
                return {"json": self.scrubber.value(value, _subplace(where, ".json"))}
        return self.scrubber.body_text(text, content_type, where)

    def _encode_response_body(
        self, body: Any, headers: dict[str, Any], endpoint: Endpoint | None, where: str | None
    ) -> Any:
        if not isinstance(body, Mapping):
            return self.scrubber.value(body, where)
        if "string" not in body:  # already stored form (sse / json)
            if isinstance(body.get("sse"), Mapping):
                return {
                    **body,
                    "sse": self._scrub_stored_events(body["sse"], _subplace(where, ".sse")),
                }
            if "json" in body:
                return {
                    **body,
                    "json": self.scrubber.value(body["json"], _subplace(where, ".json")),
                }
            return self.scrubber.value(dict(body), where)
        stored = self._encode_raw_body(body["string"], headers, endpoint, where)
        offsets = body.get(OFFSETS_KEY)
        if offsets is not None:
            if "sse" in stored:
                stored["sse"] = _with_offsets(stored["sse"], offsets)
            else:
                stored[OFFSETS_KEY] = _FlowList(offsets)
        if body.get(COMPLETE_KEY) is False:
            stored[COMPLETE_KEY] = False
        if isinstance(body.get(ERROR_KEY), Mapping):
            error = dict(body[ERROR_KEY])
            stored[ERROR_KEY] = self.scrubber.value(error, _subplace(where, f".{ERROR_KEY}"))
        return stored

    def _encode_raw_body(
        self, body: Any, headers: dict[str, Any], endpoint: Endpoint | None, where: str | None
    ) -> dict[str, Any]:
        raw = _decompress(headers, body)
        content_type = header(headers, "content-type")
        text = utf8_text(raw)
        if text is None:
            return {"string": self.scrubber.raw(raw, _subplace(where, ".string"), content_type)}
        if self.typed and text:
            lowered = content_type.lower()
            if lowered.startswith(SSE_MEDIA_TYPE):
                events = self._encode_events(text, endpoint, _subplace(where, ".sse"))
                if events is not None:
                    _drop_header(headers, "content-length", "transfer-encoding")
                    return {"sse": events}
            elif is_json_media(lowered) or not lowered:
                is_json, value = _maybe_json(text)
                if is_json:
                    _drop_header(headers, "content-length", "transfer-encoding")
                    return {"json": self._typed_body(value, endpoint, _subplace(where, ".json"))}
                if value:  # JSON the typed form cannot hold: say why it is a string
                    stored = self.scrubber.body_text(
                        text, content_type, _subplace(where, ".string")
                    )
                    return {"string": stored, UNTYPED_KEY: str(value)}
        return {"string": self.scrubber.body_text(text, content_type, _subplace(where, ".string"))}

    def _scrub_stored_events(self, stream: Mapping[str, Any], where: str | None) -> Any:
        events = stream.get("events")
        if not isinstance(events, list):
            return self.scrubber.value(dict(stream), where)
        if self._events_unchanged(events):
            return {**stream, "events": list(events)}
        scrubbed: list[Any] = []
        for index, event in enumerate(events):
            place = _subplace(where, f".events[{index}]")
            if isinstance(event, str):
                scrubbed.append(type(event)(self.scrubber.event_data(event, place)))
            elif isinstance(event, Mapping):
                event = dict(event)
                if isinstance(event.get("data"), str):
                    event["data"] = self.scrubber.event_data(event["data"], place)
                if isinstance(event.get("id"), str):
                    event["id"] = self.scrubber.text(event["id"], place)
                scrubbed.append(event)
            else:
                scrubbed.append(event)
        return {**stream, "events": scrubbed}

    def _events_unchanged(self, events: list[Any]) -> bool:
        """Whether scrubbing would leave every event's data and id as they are (one scan).

        An event is a mapping of its fields, or (stored) the string of its data.
        """
        data, ids = [], []
        for event in events:
            if isinstance(event, str):
                data.append(event)
                continue
            if not isinstance(event, Mapping):
                return False
            if isinstance(event.get("data"), str):
                data.append(event["data"])
            elif "data" in event:
                return False  # not a string: scrubbed as any other value
            if isinstance(event.get("id"), str):
                ids.append(event["id"])
        return self.scrubber.events_unchanged(data, ids)

    def _encode_events(
        self, text: str, endpoint: Endpoint | None, where: str | None = None
    ) -> dict[str, Any] | None:
        """Stored form of an SSE body: ``{__type__?, events: [...]}``.

        Each event's data is kept as the exact text the server sent, one line of
        JSON per event, so replay hands the client identical bytes and loading
        costs one YAML scalar per event (a mapping per chunk would make a long
        stream several times slower to load than the plain vcrpy cassette).
        The SDK class is stored once for the stream when every JSON event has
        the same one, else on each event.
        """
        events = parse_sse(text)
        crlf = "\r\n" in text and text.count("\n") == text.count("\r\n")
        newline = "\r\n" if crlf else "\n"
        if events is None:
            return None
        encoded = encode_sse(events, newline)
        # Real streams come back byte for byte (checked: OpenAI, Anthropic, Gemini's CRLF);
        # else the events must at least read back the same.
        if encoded != text and parse_sse(encoded) != events:
            return None  # a shape we would not replay faithfully stays a raw string
        event_type = endpoint.event if endpoint else None
        scrub = not self._events_unchanged(events)
        names: list[str | None] = []
        for index, event in enumerate(events):
            name = None
            place = _subplace(where, f".events[{index}]")
            if scrub and "id" in event and isinstance(event["id"], str):
                event["id"] = self.scrubber.text(event["id"], place)
            if "data" in event:
                if scrub:
                    event["data"] = self.scrubber.event_data(event["data"], place)
                if event_type:
                    is_json, value = _maybe_json(event["data"])
                    name = concrete_type(event_type, value) if is_json else None
            names.append(name)
        distinct = {name for name in names if name}
        shared = distinct.pop() if len(distinct) == 1 else None
        stored: list[Any] = []
        for event, name in zip(events, names, strict=True):
            if name and not shared:
                event = {**event, TYPE_KEY: name}
            if set(event) == {"data"}:
                stored.append(_SingleQuoted(event["data"]))
            else:
                stored.append(
                    {k: _SingleQuoted(v) if k == "data" else v for k, v in _event_order(event)}
                )
        stream: dict[str, Any] = {TYPE_KEY: shared} if shared else {}
        if crlf:  # lines ended by CRLF, as the server sent them (Gemini)
            stream[NEWLINE_KEY] = CRLF
        stream["events"] = stored
        return stream

    def _typed_body(self, value: Any, endpoint: Endpoint | None, where: str | None = None) -> Any:
        if where is not None and endpoint is not None and concrete_type(endpoint.body, value):
            where += f".{DATA_KEY}"  # reported at the place it is stored
        value = self.scrubber.value(value, where)
        if endpoint is None or not isinstance(value, dict):
            return value
        name = concrete_type(endpoint.body, value)
        if name:
            return typed(name, value)
        items = value.get("data")
        if endpoint.items and isinstance(items, list):
            typed_items = []
            for item in items:
                item_name = concrete_type(endpoint.items, item)
                typed_items.append(typed(item_name, item) if item_name else item)
            return {**value, "data": typed_items}
        return value

    # ----------------------------------------------------------------- loading --
    def deserialize(self, text: str, source: str = "<cassette>") -> dict[str, Any]:
        """The vcrpy cassette dict for a stored cassette (raw bodies again)."""
        return self.decode(_yaml.load(text, source), source, consume=True)

    def decode(
        self, data: Any, source: str = "<cassette>", *, consume: bool = False
    ) -> dict[str, Any]:
        """The vcrpy cassette dict for stored data, however it was parsed (YAML, JSON).

        ``consume=True`` lets go of each parsed interaction once it is decoded (``data``
        is left without them): a large cassette is never in memory twice.
        """
        if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
            raise CassetteFormatError(
                f"{source}: not a cassette (expected a mapping with an 'interactions' list)"
            )
        interactions = []
        stored = data["interactions"]
        for index, item in enumerate(stored):
            if consume:
                stored[index] = None
            where = f"{source}: interactions[{index}]"
            if not isinstance(item, dict) or "request" not in item or "response" not in item:
                raise CassetteFormatError(f"{where}: expected 'request' and 'response' keys")
            try:
                interactions.append(self.decode_interaction(item, where))
            except CassetteFormatError:
                raise
            except (TypeError, ValueError, LookupError, AttributeError) as exc:  # hand-edited
                raise CassetteFormatError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if consume:
            stored.clear()
        result: dict[str, Any] = {"version": data.get("version", 1), "interactions": interactions}
        if data.get("metadata"):
            result["metadata"] = data["metadata"]
        return result

    def decode_interaction(self, item: Mapping[str, Any], where: str) -> dict[str, Any]:
        if not isinstance(item["request"], Mapping):
            raise CassetteFormatError(f"{where}.request: expected a mapping")
        request = dict(item["request"])
        if not isinstance(request.get("uri"), str) or not isinstance(request.get("method"), str):
            raise CassetteFormatError(f"{where}.request: needs 'method' and 'uri' strings")
        request.setdefault("headers", {})
        body = request.get("body")
        if isinstance(body, Mapping):
            if "json" not in body:
                raise CassetteFormatError(f"{where}.request.body: unknown form {sorted(body)}")
            request["body"] = dumps_compact(body["json"])
        response = item["response"]
        if request["method"] == TOOL_METHOD:
            check_outcome(response, f"{where}.response")
        if isinstance(response, Mapping) and "status" not in response and "headers" not in response:
            response = {**response, "headers": {}}
        if isinstance(response, Mapping) and isinstance(response.get("body"), Mapping):
            response = dict(response)
            stored = response["body"]
            body = {"string": self._decode_body(stored, f"{where}.response")}
            if any(key in stored for key in STREAM_FIELDS) or (
                isinstance(stored.get("sse"), Mapping) and OFFSETS_KEY in stored["sse"]
            ):
                content_type = header(response.get("headers") or {}, "content-type")
                body.update(_stream_fields(stored, f"{where}.response.body", content_type))
            response["body"] = body
        return {"request": request, "response": response}

    def _decode_body(self, body: Mapping[str, Any], where: str) -> Any:
        if "string" in body:
            return body["string"]
        if "json" in body:
            return self._payload(body["json"], f"{where}.body.json")
        if "sse" in body:
            return self._decode_events(body["sse"], f"{where}.body.sse")
        raise CassetteFormatError(f"{where}.body: expected one of string, json, sse")

    def _decode_events(self, stream: Any, where: str) -> str:
        if not isinstance(stream, Mapping) or not isinstance(stream.get("events"), list):
            raise CassetteFormatError(f"{where}: expected a mapping with an 'events' list")
        shared = (
            self._resolve(stream[TYPE_KEY], f"{where}.{TYPE_KEY}") if TYPE_KEY in stream else None
        )
        wire: list[dict[str, Any]] = []
        for index, event in enumerate(stream["events"]):
            if isinstance(event, str):
                event = {"data": event}
            elif not isinstance(event, Mapping):
                raise CassetteFormatError(
                    f"{where}.events[{index}]: expected a string or a mapping, "
                    f"not {type(event).__name__}"
                )
            cls = shared
            if TYPE_KEY in event:
                event = dict(event)
                cls = self._resolve(event.pop(TYPE_KEY), f"{where}.events[{index}]")
            data = event.get("data")
            if data is not None and not isinstance(data, str):
                raise CassetteFormatError(
                    f"{where}.events[{index}].data: expected a string, not {type(data).__name__}"
                )
            if cls is not None and data and self.validate and data[0] == "{":
                _validate_event(cls, data, f"{where}.events[{index}]")
            wire.append(event)  # type: ignore[arg-type]
        return encode_sse(wire, "\r\n" if stream.get(NEWLINE_KEY) == CRLF else "\n")

    def _resolve(self, name: Any, where: str) -> type | None:
        """The class a ``__type__`` names; an error outside the allowlist, a warning if gone."""
        try:
            return resolve_type(name)
        except TypeNotAllowedError as exc:
            raise CassetteFormatError(f"{where}: {exc}") from exc
        except NotInstalledError as exc:
            warnings.warn(
                CassetteDriftWarning(f"{where}: {TYPE_KEY} {name!r} not resolved: {exc}"),
                stacklevel=3,
            )
            return None
        except (ImportError, AttributeError):
            warnings.warn(
                CassetteDriftWarning(
                    f"{where}: {TYPE_KEY} {name!r} not found in the installed SDK"
                ),
                stacklevel=3,
            )
            return None

    def _payload(self, value: Any, where: str) -> str:
        """The wire JSON of a stored value, checking each ``__type__`` found on the way.

        Typed wrappers sit at the root of a body or event, or in a list page's
        ``data``: only those places are looked at, so loading stays linear in
        the number of payloads rather than in their size.
        """
        if isinstance(value, dict):
            if TYPE_KEY in value:
                return self._typed_payload(value, where)[1]
            items = value.get("data")
            if isinstance(items, list) and any(
                isinstance(item, dict) and TYPE_KEY in item for item in items
            ):
                value = {
                    **value,
                    "data": [
                        self._typed_payload(item, f"{where}.data[{i}]")[0]
                        if isinstance(item, dict) and TYPE_KEY in item
                        else item
                        for i, item in enumerate(items)
                    ],
                }
        return dumps_compact(value)

    def _typed_payload(self, value: dict[str, Any], where: str) -> tuple[Any, str]:
        name = value.get(TYPE_KEY)
        if DATA_KEY not in value:
            raise CassetteFormatError(f"{where}: {TYPE_KEY} without {DATA_KEY}")
        data = value[DATA_KEY]
        text = dumps_compact(data)
        cls = self._resolve(name, f"{where}.{TYPE_KEY}")
        if cls is not None and self.validate and name not in UNVALIDATED_TYPES:
            _validate_payload(cls, data, text, where)
        return data, text


class WrappedSerializer:
    """Another vcrpy serializer's file format (``serializer="json"``) holding this one's
    typed, scrubbed interactions: written and read back through the same encoding."""

    def __init__(self, inner: Any, serializer: CassetteSerializer) -> None:
        self.inner = inner
        self.serializer = serializer

    def serialize(self, cassette_dict: Mapping[str, Any]) -> str:
        return str(self.inner.serialize(self.serializer.stored(cassette_dict)))

    def deserialize(self, text: str, source: str = "<cassette>") -> dict[str, Any]:
        deep = f"{source}: nested more than {_yaml.MAX_DEPTH} levels deep; cassettes never are"
        try:
            data = self.inner.deserialize(text)
        except RecursionError:
            raise CassetteFormatError(deep) from None
        except Exception as exc:  # noqa: BLE001 - each format has its own parse errors
            raise CassetteFormatError(f"{source}: cannot be read ({type(exc).__name__}: {exc})")
        if too_deep(data, _yaml.MAX_DEPTH):
            raise CassetteFormatError(deep)
        return self.serializer.decode(data, source, consume=True)


_VALIDATED: set[tuple[type, int]] = set()
_VALIDATED_MAX = 200_000


def _validate_payload(cls: type, data: Any, text: str, where: str) -> None:
    """Warn, naming the field, when a payload no longer fits the installed SDK's model.

    Each distinct payload is validated once per process: replaying a cassette
    again costs a set lookup, not a pydantic validation per stream chunk.
    """
    key = (cls, hash(text))
    if key not in _VALIDATED:
        validate = cls.model_validate  # type: ignore[attr-defined]
        _warn_if_drifted(cls, lambda: validate(data), key, where)


def _validate_event(cls: type, text: str, where: str) -> None:
    key = (cls, hash(text))
    if key not in _VALIDATED:
        _warn_if_drifted(cls, lambda: _type_adapter(cls).validate_json(text), key, where)


@functools.lru_cache(maxsize=256)
def _type_adapter(cls: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def _warn_if_drifted(cls: type, run: Any, key: tuple[type, int], where: str) -> None:
    from pydantic import ValidationError

    try:
        run()
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        warnings.warn(
            CassetteDriftWarning(
                f"{where}: __data__ no longer validates as {cls.__name__} ({fields})"
            ),
            stacklevel=4,
        )
        return
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()  # a bound on memory in long sessions; it is only a cache
    _VALIDATED.add(key)


class _SingleQuoted(str):
    """Text written on one line in single quotes (a stream event's JSON)."""


def _represent_single_quoted(dumper: Any, value: _SingleQuoted) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="'")


_yaml.Dumper.add_representer(_SingleQuoted, _represent_single_quoted)

_EVENT_KEYS = ("event", "id", "retry", TYPE_KEY, "data", "unterminated")


def _event_order(event: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, event[key]) for key in _EVENT_KEYS if key in event]


class _FlowList(list):  # type: ignore[type-arg]
    """A list written on one line (``[0, 51, 102]``): each event's offset."""


def _represent_flow_list(dumper: Any, value: _FlowList) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


_yaml.Dumper.add_representer(_FlowList, _represent_flow_list)


def _with_offsets(stream: dict[str, Any], offsets: Any) -> dict[str, Any]:
    """The stored stream with its events' offsets, before the events (if one per event)."""
    events = stream["events"]
    if not isinstance(offsets, list) or len(offsets) != len(events):
        return stream  # a hook changed the events: offsets of other events would mislead
    with_offsets = {k: v for k, v in stream.items() if k != "events"}
    with_offsets[OFFSETS_KEY] = _FlowList(offsets)
    with_offsets["events"] = events
    return with_offsets


def _stream_fields(stored: Mapping[str, Any], where: str, content_type: str) -> dict[str, Any]:
    """The stream fields of a stored body, checked, as the recorder set them."""
    fields: dict[str, Any] = {}
    if COMPLETE_KEY in stored:
        if not isinstance(stored[COMPLETE_KEY], bool):
            raise CassetteFormatError(f"{where}.{COMPLETE_KEY}: expected true or false")
        if stored[COMPLETE_KEY] is False:
            fields[COMPLETE_KEY] = False
    if ERROR_KEY in stored:
        error = stored[ERROR_KEY]
        if not (
            isinstance(error, Mapping)
            and isinstance(error.get("type"), str)
            and isinstance(error.get("message", ""), str)
        ):
            raise CassetteFormatError(
                f"{where}.{ERROR_KEY}: expected a mapping with 'type' and 'message' strings"
            )
        fields[ERROR_KEY] = {"type": error["type"], "message": error.get("message", "")}
    stream = stored.get("sse")
    if isinstance(stream, Mapping) and OFFSETS_KEY in stream:
        fields[OFFSETS_KEY] = _offsets(stream[OFFSETS_KEY], len(stream["events"]), f"{where}.sse")
    elif OFFSETS_KEY in stored:
        raw = stored.get("string")
        content = raw.encode() if isinstance(raw, str) else raw or b""
        ends = frame_ends(media_type(content_type), content)  # NDJSON lines, SSE events
        count = len(ends if ends is not None else event_ends(content))
        fields[OFFSETS_KEY] = _offsets(stored[OFFSETS_KEY], count, where)
    return fields


def _offsets(value: Any, events: int, where: str) -> list[float]:
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise CassetteFormatError(
            f"{where}.{OFFSETS_KEY}: expected a list of milliseconds (numbers >= 0)"
        )
    if len(value) != events:
        raise CassetteFormatError(
            f"{where}.{OFFSETS_KEY}: {len(value)} offsets for {events} events"
        )
    return value
