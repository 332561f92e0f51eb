"""Keep secrets and reviewer-useless noise out of cassettes.

Scrubbing runs in two places on purpose: on every request vcrpy sees
(``before_record_request``, so a scrubbed query string still matches the
stored one), and in the serializer, the last step before bytes reach disk,
so nothing a user's own hooks let through is written. Every function here is
idempotent because vcrpy runs record hooks again on load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "ScrubOptions", "Scrubber"]

REDACTED = "<REDACTED>"

#: Headers whose values are credentials or identify an account (request and response).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
        "cookie",
        "set-cookie",
    }
)

#: Headers that change on every call and tell a reviewer nothing.
VOLATILE_HEADERS = frozenset(
    {
        "user-agent",
        "host",
        "date",
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-version",
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
VOLATILE_HEADER_PREFIXES = ("x-stainless-", "x-ratelimit-", "anthropic-ratelimit-", "cf-")

#: Query parameters that carry credentials.
SECRET_QUERY_PARAMS = frozenset(
    {"api_key", "api-key", "apikey", "key", "access_token", "token", "client_secret"}
)

#: JSON body fields that carry credentials.
SECRET_JSON_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "authorization",
        "password",
        "client_secret",
        "secret",
        "access_token",
        "refresh_token",
        "private_key",
    }
)

#: Environment variables whose values must never appear in a cassette.
SECRET_ENV_NAME = re.compile(
    r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|ACCESS_KEY|PRIVATE_KEY|AUTH)",
    re.IGNORECASE,
)
_MIN_ENV_SECRET = 8  # shorter values ("1", "true") would redact half the cassette

#: Credential shapes recognised anywhere in a string, whatever field they are in.
CREDENTIAL_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|(?<=Bearer )[A-Za-z0-9._~+/\-]{12,}=*"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,})"
)


def _env_secrets(names: Iterable[str]) -> list[tuple[str, str]]:
    found = []
    for name, value in os.environ.items():
        if (SECRET_ENV_NAME.search(name) or name in names) and len(value) >= _MIN_ENV_SECRET:
            found.append((value, f"<{name}>"))
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(found, key=lambda pair: -len(pair[0]))


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


class Scrubber:
    """Applies :class:`ScrubOptions` to headers, URLs and any JSON-like value."""

    def __init__(self, options: ScrubOptions | None = None) -> None:
        self.options = options or ScrubOptions()
        keep = {h.lower() for h in self.options.keep_headers}
        self._secret_headers = (
            SECRET_HEADERS | {h.lower() for h in self.options.extra_secret_headers}
        ) - keep
        self._volatile_headers = (
            VOLATILE_HEADERS | {h.lower() for h in self.options.extra_volatile_headers}
        ) - keep
        self._keep = keep
        self._values = _env_secrets(self.options.extra_secret_env) + [
            (value, REDACTED) for value in self.options.extra_secret_values if value
        ]
        self._learned: set[str] = set()

    def learn(self, value: Any) -> None:
        """Redact ``value`` everywhere from now on: it was found in a secret position.

        A server may echo a request's credentials back (an error message quoting
        the body, a debugging endpoint), where no header or field name marks them.
        Short values are ignored, as for environment variables.
        """
        if isinstance(value, list):
            for item in value:
                self.learn(item)
            return
        if not isinstance(value, str) or value == REDACTED:
            return
        parts = {value, value.rsplit(" ", 1)[-1]}  # "Bearer <token>" -> the token too
        # Cookie values, not attribute names such as HttpOnly.
        parts.update(c.split("=", 1)[1].strip() for c in value.split(";") if "=" in c)
        new = {p for p in parts if len(p) >= _MIN_ENV_SECRET and p != REDACTED} - self._learned
        if new:
            self._learned |= new
            self._values = sorted(
                self._values + [(p, REDACTED) for p in new], key=lambda pair: -len(pair[0])
            )

    # -- headers ---------------------------------------------------------------------
    def header_action(self, name: str) -> str:
        """``redact``, ``drop`` or ``keep``: what happens to a header of this name."""
        lower = name.lower()
        if not self.options.enabled:
            return "keep"
        if lower in self._secret_headers:
            return "redact"
        if (
            self.options.drop_volatile_headers
            and lower not in self._keep
            and (lower in self._volatile_headers or lower.startswith(VOLATILE_HEADER_PREFIXES))
        ):
            return "drop"
        return "keep"

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Headers with secrets redacted and volatile ones dropped, sorted by name."""
        out: dict[str, Any] = {}
        for name in sorted(headers, key=str.lower):
            action = self.header_action(name)
            if action == "drop":
                continue
            value = headers[name]
            if action == "redact":
                self.learn(value)
                value = [REDACTED] if isinstance(value, list) else REDACTED
            else:
                value = self.value(value)
            out[name] = value
        return out

    # -- URLs --------------------------------------------------------------------------
    def url(self, url: str) -> str:
        """A URL whose credential query parameters (and embedded secrets) are redacted."""
        if not self.options.enabled:
            return url
        parts = urlsplit(url)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(k.lower() in SECRET_QUERY_PARAMS for k, _ in pairs):
                self.learn([v for k, v in pairs if k.lower() in SECRET_QUERY_PARAMS])
                pairs = [(k, REDACTED if k.lower() in SECRET_QUERY_PARAMS else v) for k, v in pairs]
                url = urlunsplit(parts._replace(query=urlencode(pairs, safe="<>")))
        return self.text(url)

    # -- values ------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """A string with known secret values and credential-shaped tokens redacted."""
        if not self.options.enabled:
            return text
        for secret, placeholder in self._values:
            if secret in text:
                text = text.replace(secret, placeholder)
        return CREDENTIAL_PATTERN.sub(REDACTED, text)

    def raw(self, data: bytes) -> bytes:
        """Bytes with known secret values redacted (for bodies that are not UTF-8)."""
        if not self.options.enabled:
            return data
        for secret, placeholder in self._values:
            encoded = secret.encode()
            if encoded in data:
                data = data.replace(encoded, placeholder.encode())
        return data

    def value(self, value: Any) -> Any:
        """Scrub a JSON-like value: strings everywhere, credential fields by name."""
        if not self.options.enabled:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            self.learn(
                [
                    item
                    for key, item in value.items()
                    if isinstance(key, str) and key.lower() in SECRET_JSON_KEYS
                ]
            )
            return {
                key: (
                    REDACTED
                    if isinstance(key, str)
                    and key.lower() in SECRET_JSON_KEYS
                    and isinstance(item, str)
                    and item
                    else self.value(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, bytes):
            return self.raw(value)
        return value
