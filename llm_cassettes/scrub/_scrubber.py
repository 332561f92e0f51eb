"""Keep secrets and reviewer-useless noise out of cassettes.

:mod:`._detector` decides what a secret is; this module applies it
to an interaction: header values, query parameters, JSON values at any depth,
form and multipart fields, stream events, text and bytes. Structure is never
touched: the scheme, host and port of a URL, header names, JSON keys and SSE
field and event names stay as they are, so a replay still matches.

Scrubbing runs in two places on purpose: on every request vcrpy sees
(``before_record_request``, so a scrubbed query string still matches the
stored one), and in the serializer, the last step before bytes reach disk,
so nothing a user's own hooks let through is written. Before any body of an
interaction is written, its headers, URL and secret fields are *learned*
(a cookie's value, a bearer token), so an echo of them in the same response is
caught. Every function here is idempotent because vcrpy runs record hooks
again on load. With ``report=`` a scrubber also says what it redacted and
where: that is how ``llm-cassettes check`` finds exactly what recording would
have removed.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlsplit, urlunsplit

from .. import providers
from .._wire import SSE_MEDIA_TYPE, dumps_compact, header, loads_json, media_type, parse_sse
from ._detector import JOIN, REDACTED, SECRET_HEADERS, SecretDetector

__all__ = ["REDACTED", "SECRET_HEADERS", "Redaction", "ScrubOptions", "Scrubber"]

#: Headers that change on every call and tell a reviewer nothing; each provider adds its
#: own (``openai-processing-ms``, ``anthropic-ratelimit-*`` ...).
VOLATILE_HEADERS = frozenset(
    {
        "user-agent",
        "host",
        "date",
        "x-request-id",
        "request-id",
        "cf-ray",
        "cf-cache-status",
        "alt-svc",
        "server",
        "via",
        "x-envoy-upstream-service-time",
        "strict-transport-security",
        "x-content-type-options",
        "access-control-expose-headers",
        "connection",
        "keep-alive",
        "accept-encoding",
        "traceparent",
        "x-amzn-trace-id",
    }
)
#: Header prefixes of the same: Stainless-generated SDKs' telemetry, rate limits, Cloudflare.
VOLATILE_HEADER_PREFIXES = ("x-stainless-", "x-ratelimit-", "cf-")


#: The keys of a JSON text, looked at before parsing it to walk it (a plain scan that
#: starts with a literal ``"`` is a few microseconds; a case-insensitive search for the
#: secret words themselves was thirty times slower on a 2 KB chat request). A string that
#: is not a key is given up at its closing quote, not retried one character shorter at a
#: time (possessive on Python 3.11+: a fifth less time over a long stream's body; giving
#: characters back could never match, as none of them is a quote).
_JSON_KEY = re.compile(
    r'"([^"\\]{1,100}+)"\s*:' if sys.version_info >= (3, 11) else r'"([^"\\]{1,100})"\s*:'
)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")


@dataclass(frozen=True)
class Redaction:
    """One thing a scrubber replaced: where (``request.body.json.password``), what, the secret."""

    where: str
    kind: str
    secret: str = field(repr=False)


@dataclass
class ScrubOptions:
    """What to remove. ``enabled=False`` is the one explicit way to store secrets."""

    enabled: bool = True
    drop_volatile_headers: bool = True
    extra_secret_headers: tuple[str, ...] = ()
    extra_volatile_headers: tuple[str, ...] = ()
    keep_headers: tuple[str, ...] = ()
    extra_secret_env: tuple[str, ...] = ()
    extra_secret_values: tuple[str, ...] = field(default=(), repr=False)
    extra_secret_names: tuple[str, ...] = ()
    extra_secret_patterns: tuple[str, ...] = ()
    keep_names: tuple[str, ...] = ()


def _is_placeholder(value: str) -> bool:
    return value == REDACTED or _PLACEHOLDER.fullmatch(value) is not None


def _join(where: str | None, key: Any) -> str | None:
    if where is None:
        return None
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


class Scrubber:
    """Applies :class:`ScrubOptions` to headers, URLs, bodies and any JSON-like value.

    ``report`` receives a :class:`Redaction` for each secret replaced (only when a
    ``where`` is given to the method, which the serializer always does).
    """

    def __init__(
        self,
        options: ScrubOptions | None = None,
        *,
        report: Callable[[Redaction], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.options = options = options or ScrubOptions()
        keep = {h.lower() for h in options.keep_headers}
        self.detector = SecretDetector(
            names=(*options.extra_secret_names, *options.extra_secret_headers),
            keep_names=(*options.keep_names, *options.keep_headers),
            patterns=options.extra_secret_patterns,
            values=options.extra_secret_values,
            env_names=options.extra_secret_env,
            environ=environ,
        )
        self._volatile_headers = (
            VOLATILE_HEADERS
            | providers.volatile_headers()
            | {h.lower() for h in options.extra_volatile_headers}
        ) - keep
        self._volatile_prefixes = VOLATILE_HEADER_PREFIXES + providers.volatile_header_prefixes()
        self._keep = keep
        self._report = report
        self._is_secret_name = functools.lru_cache(maxsize=4096)(self.detector.is_secret_name)
        # Texts found to hold nothing to scrub (or learn), with the detector's version then:
        # a live request repeats the bytes of the recorded one, which was scrubbed at load.
        self._clean: dict[tuple[str, Any, str], int] = {}
        self._header_actions: dict[str, str] = {}  # a function of the options alone

    def _is_clean(self, kind: str, value: Any, context: str) -> bool:
        return self._clean.get((kind, value, context)) == self.detector.version

    def _note_clean(self, kind: str, value: Any, context: str, version: int) -> None:
        if self.detector.version != version:
            return  # something was learned meanwhile
        if len(self._clean) >= 4096:
            self._clean.clear()
        self._clean[kind, value, context] = version

    @property
    def enabled(self) -> bool:
        return self.options.enabled

    def _report_found(self, where: str | None, kind: str, secret: Any) -> None:
        if self._report is not None and where is not None:
            self._report(Redaction(where, kind, str(secret)))

    # -- learning ------------------------------------------------------------------
    def learn(self, value: Any) -> None:
        """Redact ``value`` (a string or a list of them) wherever it appears from now on."""
        if isinstance(value, (list, tuple)):
            for item in value:
                self.learn(item)
        elif isinstance(value, str) and not _is_placeholder(value):
            self.detector.learn(value)

    def learn_interaction(self, request: Mapping[str, Any], response: Any) -> None:
        """Learn every secret value an interaction carries, before any of it is written."""
        if not self.enabled:
            return
        request_headers = request.get("headers") or {}
        self.learn_headers(request_headers)
        self.learn_url(str(request.get("uri", "")))
        self.learn_body(request.get("body"), header(request_headers, "content-type"))
        if isinstance(response, Mapping):
            response_headers = response.get("headers") or {}
            if isinstance(response_headers, Mapping):
                self.learn_headers(response_headers)
            content_type = header(response_headers, "content-type")
            self.learn_body(response.get("body"), content_type)
            for key, value in response.items():
                if key not in ("status", "headers", "body"):
                    self._learn_names(value)

    def learn_headers(self, headers: Mapping[str, Any]) -> None:
        for name, value in headers.items():
            if self.header_action(name) != "redact":
                continue
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, str) and item and not _is_placeholder(item):
                    self.detector.learn_from_header(name, item)

    def learn_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            return
        if password:
            self.learn(password)
        for name, value in self._pairs(parts.query):
            if self._is_secret_name(name, "query"):
                self.learn(value)

    def learn_body(self, body: Any, content_type: str = "") -> None:
        """Learn the values of secret fields in a body (raw, or in stored form)."""
        if isinstance(body, Mapping):
            if "json" in body:
                self._learn_names(body["json"])
            elif isinstance(body.get("sse"), Mapping):
                for event in body["sse"].get("events") or []:
                    data = event.get("data") if isinstance(event, Mapping) else event
                    if isinstance(data, str):
                        self._learn_text(data, "application/json")
            elif "string" in body:
                self.learn_body(body["string"], content_type)
            return
        if isinstance(body, (bytes, str)) and body:
            if self._clean.get(("learn", body, content_type)) is not None:
                return  # learned from before: the same text teaches nothing new
            version = self.detector.version
            text = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
            self._learn_text(text, content_type)
            self._note_clean("learn", body, content_type, version)

    def _learn_text(self, text: str, content_type: str) -> None:
        media = media_type(content_type)
        if media == "application/x-www-form-urlencoded":
            for name, value in self._pairs(text):
                if self._is_secret_name(name, "query"):
                    self.learn(value)
        elif media.startswith("multipart/"):
            for name, content in _multipart_fields(text, content_type):
                if self._is_secret_name(name, "field"):
                    self.learn(content)
        elif media == SSE_MEDIA_TYPE:
            if self._has_secret_key(text):
                for event in parse_sse(text) or []:
                    if isinstance(event.get("data"), str):
                        self._learn_text(event["data"], "application/json")
        elif self._may_hold_names(text):
            parsed = _parse_json(text)
            if parsed is not None:
                self._learn_names(parsed[0])

    def _learn_names(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and self._secret_field(key, value):
                    self._learn_secret(item)
                else:
                    self._learn_names(item)
            pair = self._secret_pair(value)
            if pair is not None:
                self._learn_secret(value[pair])
        elif isinstance(value, list):
            for item in value:
                self._learn_names(item)

    def _learn_secret(self, value: Any) -> None:
        if isinstance(value, str):
            self.learn(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            self.learn(str(value))
        elif isinstance(value, list):
            for item in value:
                self._learn_secret(item)
        else:
            self._learn_names(value)

    # -- names ---------------------------------------------------------------------
    def _secret_field(self, key: str, parent: Mapping[str, Any]) -> bool:
        # A secret word may name model output or state the API needs back verbatim in its
        # place (a logprobs entry's ``token``, a thinking block's ``signature``): the
        # providers declare those places.
        return self._is_secret_name(key, "field") and not providers.is_model_state(key, parent)

    def _secret_pair(self, value: Mapping[str, Any]) -> str | None:
        """``{"name": "Authorization", "value": ...}`` (HAR, Postman): the ``value`` key."""
        if (
            "value" not in value
            or isinstance(value["value"], (dict, bool))
            or value["value"] is None
        ):
            return None
        label = value.get("name", value.get("key"))
        if isinstance(label, str) and self._is_secret_name(label, "header"):
            return "value"
        return None

    def _pairs(self, query: str) -> list[tuple[str, str]]:
        pairs = []
        for segment in query.split("&"):
            name, equals, value = segment.partition("=")
            if equals and value:
                pairs.append((unquote_plus(name), unquote_plus(value)))
        return pairs

    # -- headers -------------------------------------------------------------------
    def header_action(self, name: str) -> str:
        """``redact``, ``drop`` or ``keep``: what happens to a header of this name."""
        action = self._header_actions.get(name)
        if action is None:
            if len(self._header_actions) >= 4096:
                self._header_actions.clear()
            action = self._header_actions[name] = self._header_action(name)
        return action

    def _header_action(self, name: str) -> str:
        lower = name.lower()
        if not self.enabled or lower in self._keep:
            return "keep"
        if self._is_secret_name(lower, "header"):
            return "redact"
        if self.options.drop_volatile_headers and (
            lower in self._volatile_headers or lower.startswith(self._volatile_prefixes)
        ):
            return "drop"
        return "keep"

    def headers(self, headers: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
        """Headers with secrets redacted and volatile ones dropped, sorted by name."""
        out: dict[str, Any] = {}
        for name in sorted(headers, key=str.lower):
            action = self.header_action(name)
            if action == "drop":
                continue
            value = headers[name]
            place = _join(where, name)
            if action == "redact":
                items = value if isinstance(value, (list, tuple)) else [value]
                for item in items:
                    if isinstance(item, str) and item and not _is_placeholder(item):
                        self.detector.learn_from_header(name, item)
                        self._report_found(place, "secret header", item)
                value = [REDACTED] * len(items) if isinstance(value, (list, tuple)) else REDACTED
            elif isinstance(value, (list, tuple)):
                value = [self.text(v, place) if isinstance(v, str) else v for v in value]
            elif isinstance(value, str):
                value = self.text(value, place)
            out[name] = value
        return out

    # -- URLs ----------------------------------------------------------------------
    def url(self, url: str, where: str | None = None) -> str:
        """A URL with its credentials redacted; scheme, host and port stay as they are."""
        if not self.enabled or not url:
            return url
        if where is None:  # nothing reported: a URL seen clean is clean until a secret is learned
            if self._is_clean("url", url, ""):
                return url
            version = self.detector.version
            scrubbed = self._url(url, None)
            if scrubbed == url:
                self._note_clean("url", url, "", version)
            return scrubbed
        return self._url(url, where)

    def _url(self, url: str, where: str | None) -> str:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            return self.text(url, where)
        netloc = parts.netloc
        if password and password != REDACTED:
            self._report_found(where, "password in a URL", password)
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}:{REDACTED}@{hostport}"
        query = parts.query
        if query:
            query = self._scrub_pairs(query, where, "secret query parameter", in_url=True)
        path = self.text(parts.path, where)
        fragment = self.text(parts.fragment, where)
        new = parts._replace(netloc=netloc, path=path, query=query, fragment=fragment)
        return url if new == parts else urlunsplit(new)

    # -- text and bytes ------------------------------------------------------------
    def text(self, text: str, where: str | None = None) -> str:
        """A string with known secret values and credential-shaped tokens redacted."""
        if not self.enabled or not text:
            return text
        redacted, secrets = self.detector.redact(text)
        for finding, secret in secrets:
            self._report_found(where, finding.kind, secret)
            if finding.value is None:  # found by shape: find its echoes in any encoding too
                self.detector.learn(secret, finding.kind)
        return redacted

    def raw(self, data: bytes, where: str | None = None, content_type: str = "") -> bytes:
        """Bytes (a body that is not UTF-8) with secrets redacted, byte-exact otherwise."""
        if not self.enabled or not data:
            return data
        text = data.decode("utf-8", "surrogateescape")
        scrubbed = self.body_text(text, content_type, where)
        return data if scrubbed == text else scrubbed.encode("utf-8", "surrogateescape")

    def body(self, body: Any, content_type: str = "", where: str | None = None) -> Any:
        """A raw body (``str`` or ``bytes``) with secrets redacted, of the same type."""
        if where is None and self.enabled and isinstance(body, (bytes, str)) and body:
            # Nothing reported: a body seen clean is clean until a secret is learned.
            if self._is_clean("body", body, content_type):
                return body
            version = self.detector.version
            scrubbed = self._body(body, content_type)
            if scrubbed == body:
                self._note_clean("body", body, content_type, version)
            return scrubbed
        return self._body(body, content_type, where)

    def _body(self, body: Any, content_type: str = "", where: str | None = None) -> Any:
        if isinstance(body, bytes):
            return self.raw(body, where, content_type)
        if isinstance(body, str):
            return self.body_text(body, content_type, where)
        return self.value(body, where)

    def body_text(self, text: str, content_type: str = "", where: str | None = None) -> str:
        """A text body: form and multipart fields and JSON keys by name, then values.

        A JSON text with a secret field is written back compactly (its bytes change,
        its meaning does not); everything else changes only where a secret was.
        """
        if not self.enabled or not text:
            return text
        media = media_type(content_type)
        if media == "application/x-www-form-urlencoded":
            return self._scrub_pairs(text, where, "secret form field", in_url=False)
        if media.startswith("multipart/") or (not media and text.startswith("--")):
            text = self._multipart(text, content_type, where)
        elif self._may_hold_names(text):
            parsed = _parse_json(text)
            if parsed is not None:
                scrubbed = self.value(parsed[0], where)
                if scrubbed != parsed[0]:
                    return dumps_compact(scrubbed)
        return self.text(text, where)

    def event_data(self, data: str, where: str | None = None) -> str:
        """One server-sent event's data (usually a line of JSON)."""
        return self.body_text(data, "application/json", where)

    def events_unchanged(self, data: Sequence[str], ids: Sequence[str] = ()) -> bool:
        """Whether :meth:`event_data` leaves each of ``data`` and :meth:`text` each of
        ``ids`` as they are, reporting nothing: asked of a whole stream in one scan.

        A long stream has hundreds of events, nearly always all clean; scanning each
        one separately costs a regex call per shape per event. True only when no event
        has a secret field name (:data:`JOIN` stops a JSON key match at each text's end,
        so the joined texts have exactly the texts' keys) and nothing could be found by
        value or shape (:meth:`SecretDetector.may_find`); else scrub event by event.
        """
        if not self.enabled:
            return True
        if data and self._has_secret_key(JOIN.join(data)):
            return False
        return not self.detector.may_find([*data, *ids])

    def _may_hold_names(self, text: str) -> bool:
        stripped = text.lstrip()
        if not stripped or stripped[0] not in "{[":
            return False
        return self._has_secret_key(text)

    def _has_secret_key(self, text: str) -> bool:
        """Whether a JSON text has a key that is a secret name (or a name/value pair)."""
        # Each distinct key once: a 500-event stream repeats the same dozen keys.
        return any(
            key == "value" or self._is_secret_name(key, "field")
            for key in set(_JSON_KEY.findall(text))
        )

    def _scrub_pairs(self, text: str, where: str | None, kind: str, *, in_url: bool) -> str:
        """``name=value&...`` (a query string, a form body) with secret-named values redacted.

        In a URL a finding is reported at the URL, and a credential shape hidden by URL
        encoding (``%3A``) is found too; in a form body, at the field.
        """
        segments = []
        for segment in text.split("&"):
            name, equals, value = segment.partition("=")
            decoded = unquote_plus(value)
            if (
                equals
                and value
                and not _is_placeholder(decoded)
                and self._is_secret_name(unquote_plus(name), "query")
            ):
                self.learn(decoded)
                place = where if in_url else _join(where, unquote_plus(name))
                self._report_found(place, kind, decoded)
                segment = f"{name}={REDACTED}"
            elif in_url and equals and decoded != value:  # a shape hidden by URL encoding
                scrubbed = self.text(decoded, where)
                if scrubbed != decoded:
                    segment = f"{name}={quote_plus(scrubbed, safe='<>')}"
            segments.append(segment)
        return self.text("&".join(segments), where)

    def _multipart(self, text: str, content_type: str, where: str | None) -> str:
        boundary = _multipart_boundary(text, content_type)
        if boundary is None:
            return text
        delimiter = "--" + boundary
        chunks = text.split(delimiter)
        for index in range(1, len(chunks) - 1):
            chunk = chunks[index]
            match = _PART.match(chunk)
            if match is None:
                continue
            name = _part_name(match["head"])
            content = match["content"]
            if (
                name is not None
                and content
                and not _is_placeholder(content)
                and self._is_secret_name(name, "field")
            ):
                self.learn(content)
                self._report_found(_join(where, name), "secret multipart field", content)
                chunks[index] = chunk[: match.start("content")] + REDACTED + (match["tail"] or "")
        return delimiter.join(chunks)

    # -- JSON-like values ----------------------------------------------------------
    def value(self, value: Any, where: str | None = None) -> Any:
        """Scrub a JSON-like value: secret fields by name, every string by shape and value."""
        if not self.enabled or value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, bytes):
            return self.raw(value, where)
        # One scan of the whole value decides whether its strings need scanning one by one.
        try:
            dumped = json.dumps(value, ensure_ascii=False, default=repr)
        except (TypeError, ValueError):
            dumped = None
        scan = dumped is None or bool(self.detector.find(dumped))
        return self._walk(value, where, scan)

    def _walk(self, value: Any, where: str | None, scan: bool) -> Any:
        if isinstance(value, str):
            return self.text(value, where) if scan else value
        if isinstance(value, dict):
            pair = self._secret_pair(value)
            out = {}
            for key, item in value.items():
                place = _join(where, key)
                if isinstance(key, str) and (key == pair or self._secret_field(key, value)):
                    out[key] = self._redact_field(item, place, key, scan)
                else:
                    out[key] = self._walk(item, place, scan)
            return out
        if isinstance(value, list):
            return [self._walk(item, _join(where, i), scan) for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return tuple(self._walk(item, _join(where, i), scan) for i, item in enumerate(value))
        if isinstance(value, bytes):
            return self.raw(value, where) if scan else value
        return value

    def _redact_field(self, value: Any, where: str | None, name: str, scan: bool) -> Any:
        """A secret field's value: scalars are replaced; a mapping is walked (a JSON Schema
        ``{"api_key": {"type": "string"}}`` or ``{"credentials": {"username": …}}``)."""
        if isinstance(value, str):
            if not value or _is_placeholder(value):
                return value
            self.learn(value)
            self._report_found(where, "secret field", value)
            return REDACTED
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.learn(str(value))
            self._report_found(where, "secret field", value)
            return REDACTED
        if isinstance(value, list):
            return [
                self._redact_field(item, _join(where, i), name, scan)
                for i, item in enumerate(value)
            ]
        return self._walk(value, where, scan)


# --------------------------------------------------------------------- body formats --

_PART = re.compile(r"(?P<head>.*?)(?:\r\n\r\n|\n\n)(?P<content>.*?)(?P<tail>\r?\n)?\Z", re.DOTALL)
_PART_NAME = re.compile(r"""(?i)content-disposition:[^\r\n]*?[;\s]name="?([^";\r\n]*)"?""")
_BOUNDARY = re.compile(r"""(?i)boundary="?([^";,\s]+)"?""")


def _multipart_boundary(text: str, content_type: str) -> str | None:
    match = _BOUNDARY.search(content_type)
    if match:
        return match[1]
    first = text.split("\n", 1)[0].rstrip("\r")
    return first[2:] if first.startswith("--") and len(first) > 2 else None


def _part_name(head: str) -> str | None:
    if re.search(r"(?i)filename\*?=", head):
        return None  # a file: its content is scanned by shape and value, not by name
    match = _PART_NAME.search(head)
    return match[1] if match else None


def _multipart_fields(text: str, content_type: str) -> Iterable[tuple[str, str]]:
    boundary = _multipart_boundary(text, content_type)
    if boundary is None:
        return
    for chunk in text.split("--" + boundary)[1:-1]:
        match = _PART.match(chunk)
        if match is not None:
            name = _part_name(match["head"])
            if name is not None and match["content"]:
                yield name, match["content"]


def _parse_json(text: str) -> tuple[Any] | None:
    try:
        return (loads_json(text),)  # bounded: a body nested 500 deep is scrubbed as text
    except ValueError:
        return None
