"""What is a secret: the one detector behind the recorder, ``upgrade``, the importer and ``check``.

A cassette must never hold a credential, and must never lose what is not one:
a redacted host, usage count or prompt breaks replay or review. So secrets are
recognised three ways, each narrow on purpose:

* **by name**: a header (the providers' account headers too), JSON key, form or
  multipart field or query parameter whose name, split into words (``clientSecret``,
  ``x-auth-token``, ``Ocp-Apim-Subscription-Key``), ends in a secret word (``token``,
  ``secret``, ``password``, a qualified ``key`` such as *api key* …). Words, not
  substrings: ``GIT_AUTHOR_NAME`` has no ``auth``, ``max_tokens`` no ``token``;
* **by shape**: well-known credential formats (``sk-…``, ``AKIA…``, ``ghp_…``,
  JWTs, ``Bearer …``), anywhere in any text or bytes;
* **by value**: the values of secret environment variables (a secret word in
  the name *and* a value that looks like a credential), literal values the
  user lists, and values learned from secret positions in the same cassette
  (a cookie's own value, a bearer token, the decoded password of a Basic
  header), found also in their JSON-escaped and URL-encoded forms.

:class:`SecretDetector` answers the questions; :mod:`llm_cassettes.scrub`
applies the answers to interactions, and ``llm-cassettes check`` reports them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .. import providers

__all__ = [
    "REDACTED",
    "SHAPES",
    "Finding",
    "SecretDetector",
    "hide_secrets_in_name",
    "looks_like_credential",
    "split_words",
]

#: What a redacted value becomes (an environment variable's value becomes ``<NAME>``).
REDACTED = "<REDACTED>"

NameKind = Literal["header", "field", "query", "env"]

# ----------------------------------------------------------------------------- names --

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

#: Words that make a name secret when they are its last word (``x-auth-token``).
SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "authentication",
        "cookie",
        "cookies",
        "session",
        "signature",
    }
)
#: ``key`` is a secret word only after one of these (``api key``, ``subscription key``):
#: ``prompt_cache_key``, ``idempotency_key`` or a metadata ``key`` are not secrets.
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "subscription",
        "secret",
        "private",
        "access",
        "client",
        "auth",
        "master",
        "account",
        "signing",
        "service",
        "app",
        "application",
        "license",
        "licence",
        "encryption",
        "developer",
        "dev",
        "admin",
        "session",
        "shared",
        "storage",
        "consumer",
        "webhook",
        "server",
        "deploy",
        "ssh",
        "hmac",
        "security",
        "write",
        "ingest",
        "ingestion",
        "personal",
        "root",
    }
)
#: Words after which a secret word is not a secret: tokenizer tokens, pagination
#: cursors, Gemini's ``thoughtSignature``, a ``function_signature`` …
NOT_SECRET_QUALIFIERS: dict[str, frozenset[str]] = {
    "token": frozenset(
        {
            "next",
            "page",
            "pagination",
            "continuation",
            "prev",
            "previous",
            "cursor",
            "sync",
            "eos",
            "bos",
            "pad",
            "unk",
            "sep",
            "cls",
            "mask",
            "stop",
            "start",
            "end",
            "special",
            "eot",
            "eom",
            "image",
            "audio",
            "video",
            "placeholder",
            "cancellation",
            "cancel",
            "max",
            "min",
            "num",
        }
    ),
    "signature": frozenset({"thought", "function", "method", "type", "call", "tool", "code"}),
}
#: Trailing words that describe a secret's encoding, not a different thing
#: (AWS ``SecretString``, ``password_hash``, ``auth_header``).
_MODIFIERS = frozenset(
    {
        "value",
        "values",
        "string",
        "str",
        "data",
        "b64",
        "base64",
        "hex",
        "raw",
        "plain",
        "text",
        "bytes",
        "binary",
        "encoded",
        "header",
        "hash",
    }
)
#: Heads that a single lower-case word may end with (``apikey``, ``authtoken``, ``setcookie``).
_COMPOUND_HEADS = ("key", "token", "secret", "password", "passwd", "auth", "cookie", "credentials")

#: Headers that carry credentials by HTTP convention, whatever their words say; each
#: provider adds its own account headers (``openai-organization`` ...).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
    }
)
#: Query parameters that are credentials by convention although no word says so (Google's
#: ``key``, Azure's ``sig`` ...); each provider may add its own.
SECRET_QUERY_PARAMS = frozenset({"key", "sig", "apikey", "api-key", "access_token"})


def split_words(name: str) -> list[str]:
    """``clientSecret`` / ``client_secret`` / ``Client-Secret`` → ``["client", "secret"]``."""
    return [word.lower() for word in _WORD.findall(name)]


def _split_compound(word: str) -> tuple[str, str] | None:
    """``apikey`` → (``api``, ``key``): a single word that ends in a secret head."""
    for head in _COMPOUND_HEADS:
        if word.endswith(head) and len(word) > len(head):
            prefix = word[: -len(head)]
            if head == "key" and not any(prefix.endswith(q) for q in KEY_QUALIFIERS):
                continue
            return prefix, head
    return None


def _last_words(words: list[str]) -> tuple[str, str, bool]:
    """(qualifier, head, whether one compound word) of a name: its last meaningful words."""
    while len(words) > 1 and (words[-1] in _MODIFIERS or words[-1].isdigit()):
        words = words[:-1]
    if not words:
        return "", "", False
    head = words[-1]
    qualifier = words[-2] if len(words) > 1 else ""
    if head not in SECRET_WORDS and head != "key":
        split = _split_compound(head)
        if split:
            return split[0], split[1], True
    return qualifier, head, False


def _is_secret_words(words: list[str], kind: NameKind) -> bool:
    if kind == "env":  # any whole word: MY_SERVICE_KEY, GH_TOKEN (not KEYBOARD_LAYOUT)
        return any(
            word in SECRET_WORDS or word == "key" or _split_compound(word) is not None
            for word in words
        )
    qualifier, head, compound = _last_words(words)
    if head == "key":
        return qualifier in KEY_QUALIFIERS or compound  # a compound was checked by _split_compound
    if head not in SECRET_WORDS:
        return False
    return qualifier not in NOT_SECRET_QUALIFIERS.get(head, ())


# ---------------------------------------------------------------------------- shapes --

_TOKEN_END = r"(?![A-Za-z0-9_\-])"

#: Credential formats recognised anywhere: (what it is, regex). A ``(?P<secret>...)`` group,
#: when there is one, is the secret; else the whole match. Each pattern starts with a
#: literal or a character class (so one combined regex can skip ahead fast); that a match
#: does not start inside a longer token is checked after matching. Sources: the providers'
#: documented prefixes, and the detect-secrets and gitleaks rule sets.
SHAPES: tuple[tuple[str, str], ...] = (
    ("Anthropic API key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("OpenAI API key", r"sk-[A-Za-z0-9_\-]{20,}"),
    ("Stripe key", r"sk_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("Stripe key", r"rk_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("Google API key", r"AIza[A-Za-z0-9_\-]{35}"),
    ("Google OAuth token", r"ya29\.[A-Za-z0-9_\-]{20,}"),
    ("AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ("GitHub token", r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("GitLab token", r"glpat-[A-Za-z0-9_\-]{20,}"),
    ("Slack token", r"xox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("Hugging Face token", r"hf_[A-Za-z0-9]{30,}"),
    ("Groq API key", r"gsk_[A-Za-z0-9]{40,}"),
    ("xAI API key", r"xai-[A-Za-z0-9]{40,}"),
    ("Perplexity API key", r"pplx-[A-Za-z0-9]{40,}"),
    ("Replicate API token", r"r8_[A-Za-z0-9]{30,}"),
    ("LangSmith API key", r"lsv2_(?:pt|sk)_[A-Za-z0-9_]{30,}"),
    ("npm token", rf"npm_[A-Za-z0-9]{{36}}{_TOKEN_END}"),
    ("PyPI token", r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
    ("SendGrid API key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    # <bot id>:<35 characters starting with A>; the digits are found after matching.
    ("Telegram bot token", rf":A[A-Za-z0-9_\-]{{30,40}}{_TOKEN_END}"),
    ("JSON Web Token", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
    ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ("OpenAI organization id", rf"org-(?=[A-Za-z]*[0-9])[A-Za-z0-9]{{8,}}{_TOKEN_END}"),
    ("OpenAI project id", rf"proj_(?=[A-Za-z]*[0-9])[A-Za-z0-9]{{8,}}{_TOKEN_END}"),
    ("bearer token", r"Bearer(?: |%20)(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)"),
    ("bearer token", r"bearer(?: |%20)(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)"),
    ("Basic credentials", r"Basic (?P<secret>[A-Za-z0-9+/]{8,}={0,2})"),
    ("Basic credentials", r"basic (?P<secret>[A-Za-z0-9+/]{8,}={0,2})"),
    ("password in a URL", r"://[^\s/:@<>\"'\\]+:(?P<secret>[^\s/@<>\"'\\]+)(?=@)"),
)
#: Shapes whose match may follow a letter: a Telegram token in ``/bot<id>:<token>/``, and
#: those that carry their own context (``Bearer``, ``Basic``, ``://``, ``-----BEGIN``).
_ANYWHERE = frozenset({"bearer token", "Basic credentials", "password in a URL", "private key"})

_TOKEN_CHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ESCAPED_BEFORE = re.compile(r"(?:\\[nrtbf]|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})$")


def _starts_token(text: str, start: int, kind: str = "") -> bool:
    """Whether a match at ``start`` is not the tail of a longer token.

    Right after a JSON or URL escape counts as a start (``\\nsk-…``, ``%20sk-…``).
    """
    if start == 0 or text[start - 1] not in _TOKEN_CHAR:
        return True
    if kind == "Telegram bot token" and text[max(0, start - 3) : start] == "bot":
        return True
    return _ESCAPED_BEFORE.search(text[max(0, start - 6) : start]) is not None


def _plausible_bearer(token: str) -> bool:
    """A bearer token, not an English word after "bearer" (``Bearer Authentication``)."""
    return any(c.isdigit() or c in "._~+/-" for c in token) or any(c.isupper() for c in token[1:])


def _plausible_basic(token: str) -> bool:
    """``Basic`` followed by base64 of ``user:password``, not by a word (``Basic information``)."""
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


_VALIDATORS = {"bearer token": _plausible_bearer, "Basic credentials": _plausible_basic}


#: Between texts scanned as one (:meth:`SecretDetector.may_find`): no token character (so a
#: look-ahead for a token's end holds), and a backslash, which no JSON key can span.
JOIN = "\\\n"

#: One regex per shape: each starts with a literal, which ``re`` finds with a fast scan;
#: a combined alternation loses that and is about ten times slower.
_SHAPE_REGEXES = tuple((kind, re.compile(pattern)) for kind, pattern in SHAPES)
_TELEGRAM_ID = re.compile(r"[0-9]{6,12}$")


# ------------------------------------------------------------------------ env values --

_MIN_VALUE = 8  # shorter values ("1", "true", "admin") would be found all over a cassette
_NUMBERISH = re.compile(r"[0-9.:,\-+_/]+")
_WORDISH = re.compile(r"[A-Za-z]+(?:[-_.][A-Za-z]+)*")


def looks_like_credential(value: str) -> bool:
    """No whitespace, long enough, and not a plain word, number, date, path or URL."""
    if len(value) < _MIN_VALUE or any(c.isspace() for c in value):
        return False
    if value[0] in "/~." or "://" in value or _NUMBERISH.fullmatch(value):
        return False
    if _WORDISH.fullmatch(value):  # "production", "dummy-token", "my_local_dev"
        return len(value) >= 20 and value.isalpha() and not value.islower() and not value.isupper()
    return True


# --------------------------------------------------------------------- known values --


def _char_pattern(char: str) -> str:
    """A character of a known value in any of the forms text may carry it in."""
    if char.isascii() and char.isalnum():
        return char
    forms = {re.escape(char)}
    code = ord(char)
    if code < 0x10000:
        forms.add(re.escape(f"\\u{code:04x}"))
        forms.add(re.escape(f"\\u{code:04X}"))
    encoded = char.encode("utf-8")
    forms.add("".join(f"%{byte:02X}" for byte in encoded))
    forms.add("".join(f"%{byte:02x}" for byte in encoded))
    if char in '"\\/':
        forms.add(re.escape("\\" + char))
    if char == " ":
        forms.add(r"\+")
    return "(?:" + "|".join(sorted(forms, key=lambda f: (-len(f), f))) + ")"


_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _value_pattern(value: str, whole_token: bool) -> str:
    body = "".join(_char_pattern(char) for char in value)
    if whole_token and value[-1] in _WORD_CHARS:
        body += r"(?![A-Za-z0-9_])"  # the left edge is checked after matching (fast scan)
    return body


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|((?:%[0-9A-Fa-f]{2})+)|\\(.)")


def _unescape(text: str) -> str:
    """The value a matched form stands for (JSON and URL escapes undone)."""

    def one(match: re.Match[str]) -> str:
        if match[1]:
            return chr(int(match[1], 16))
        if match[2]:
            return bytes.fromhex(match[2].replace("%", "")).decode("utf-8", "replace")
        return match[3]

    return _ESCAPE.sub(one, text)


@dataclass(frozen=True)
class Finding:
    """A secret in a text: where it is, what it is, and what replaces it."""

    start: int
    end: int
    kind: str
    placeholder: str = REDACTED
    #: the secret a known value stands for, when the text holds it escaped or encoded
    value: str | None = None


@dataclass(frozen=True)
class _KnownSecret:
    value: str
    placeholder: str
    kind: str
    whole_token: bool


class SecretDetector:
    """Decides what is a secret: names, shapes and known values.

    ``names`` / ``keep_names``: extra secret names (matched whole, case-insensitive)
    and names never secret. ``patterns``: extra regexes for values (group 1, when the
    pattern has one, is the secret). ``values``: literal secrets. ``env_names``:
    environment variables that are secret whatever their name. ``environ``: the
    environment to read (``os.environ`` by default).
    """

    def __init__(
        self,
        *,
        names: Iterable[str] = (),
        keep_names: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        values: Iterable[str] = (),
        env_names: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._names = {n.lower() for n in names}
        self._keep = {n.lower() for n in keep_names}
        self._secret_headers = SECRET_HEADERS | providers.secret_headers()
        self._secret_query_params = SECRET_QUERY_PARAMS | providers.secret_query_params()
        # Verdicts on names depend on these sets only: detectors built alike (one per
        # cassette, the same options) share them, so a suite asks once per header name.
        self._verdicts = _NAME_VERDICTS.setdefault(
            (
                frozenset(self._names),
                frozenset(self._keep),
                frozenset(self._secret_headers),
                frozenset(self._secret_query_params),
            ),
            {},
        )
        if len(_NAME_VERDICTS) > 64:  # many distinct option sets: start again
            _NAME_VERDICTS.clear()
        self._patterns = [re.compile(p) if isinstance(p, str) else p for p in patterns]
        self._known: dict[str, _KnownSecret] = {}
        #: grows with each secret value learned: what was scrubbed before may change
        self.version = 0
        for value in values:
            if value:
                self._add(_KnownSecret(value, REDACTED, "secret value (secret_values)", False))
        self.env_secrets = env_secrets(environ, env_names)
        for name, value in self.env_secrets:
            self._add(
                _KnownSecret(value, f"<{name}>", f"value of the environment variable {name}", True)
            )
        self._compiled: list[tuple[_KnownSecret, re.Pattern[str]]] | None = None

    # -- names -----------------------------------------------------------------------
    def is_secret_name(self, name: str, kind: NameKind = "field") -> bool:
        """Whether a value under this name is a secret (a header, JSON key, field, parameter)."""
        verdict = self._verdicts.get((name, kind))
        if verdict is None:
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            verdict = self._verdicts[name, kind] = self._is_secret_name(name, kind)
        return verdict

    def _is_secret_name(self, name: str, kind: NameKind) -> bool:
        lower = name.lower()
        if lower in self._keep:
            return False
        if lower in self._names:
            return True
        if kind == "header":
            if lower in self._secret_headers:
                return True
            if lower.startswith("access-control-"):  # CORS: allow-credentials is not one
                return False
        if kind == "query" and lower in self._secret_query_params:
            return True
        return _is_secret_words(split_words(name), kind)

    # -- known values ----------------------------------------------------------------
    def _add(self, known: _KnownSecret) -> None:
        if known.value not in self._known:
            self._known[known.value] = known
            self._compiled = None
            self.version += 1

    def learn(self, value: str, kind: str = "repeats a secret found in a secret position") -> bool:
        """Treat ``value`` as a secret wherever it appears: it was found in a secret place.

        Short values are not learned (they would match all over a cassette); the
        place they were found in is still redacted. A number is found only as a
        whole number, never inside a longer one. Returns whether it was learned.
        """
        if len(value) < _MIN_VALUE or value == REDACTED or value in self._known:
            return False
        if value.startswith("<") and value.endswith(">"):
            return False  # a placeholder
        self._add(_KnownSecret(value, REDACTED, kind, value.isdigit()))
        return True

    def learn_from_header(self, name: str, value: str) -> None:
        """Learn the secret parts of a secret header's value, never its attributes.

        ``set-cookie``/``cookie``: each cookie's own value (not ``Domain=``,
        ``Expires=``, ``Path=``). ``Basic``: the base64, ``user:password`` and the
        password. ``Bearer`` and other schemes: the credentials. Anything else:
        the whole value.
        """
        lower = name.lower()
        if lower in ("set-cookie", "cookie"):
            for cookie_value in cookie_values(value):
                self.learn(cookie_value)
            return
        scheme, _, credentials = value.strip().partition(" ")
        if credentials and scheme.isalpha() and " " not in credentials.strip():
            credentials = credentials.strip()
            self.learn(credentials)
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    return
                self.learn(decoded)
                self.learn(decoded.partition(":")[2])
            return
        if credentials and "=" in credentials:  # Digest / AWS4: k=v pairs
            for part in credentials.split(","):
                key, _, item = part.strip().partition("=")
                if self.is_secret_name(key) or key.lower() in ("response", "credential"):
                    self.learn(item.strip().strip('"'))
            return
        self.learn(value.strip())

    def _regexes(self) -> list[tuple[_KnownSecret, re.Pattern[str]]]:
        if self._compiled is None:
            ordered = sorted(self._known.values(), key=lambda k: (-len(k.value), k.value))
            self._compiled = [
                (k, re.compile(_value_pattern(k.value, k.whole_token))) for k in ordered
            ]
        return self._compiled

    # -- finding ---------------------------------------------------------------------
    def find(self, text: str) -> list[Finding]:
        """Every secret in ``text`` by value and by shape, left to right, not overlapping.

        Known values come first, so an environment variable's value that also has a
        credential's shape is replaced by its informative ``<NAME>``.
        """
        found: list[Finding] = []
        for known, regex in self._regexes():
            for match in regex.finditer(text):
                start = match.start()
                if (
                    known.whole_token
                    and known.value[0] in _WORD_CHARS
                    and start
                    and text[start - 1] in _WORD_CHARS
                    and not _ESCAPED_BEFORE.search(text[max(0, start - 6) : start])
                ):
                    continue  # inside another word
                found.append(
                    Finding(start, match.end(), known.kind, known.placeholder, known.value)
                )
        for kind, regex in _SHAPE_REGEXES:
            for match in regex.finditer(text):
                start, end = match.span("secret") if "secret" in regex.groupindex else match.span()
                if kind == "Telegram bot token":
                    bot_id = _TELEGRAM_ID.search(text, max(0, start - 12), start)
                    if bot_id is None:
                        continue
                    start = bot_id.start()
                    if start and text[start - 1].isdigit():
                        continue
                if kind not in _ANYWHERE and not _starts_token(text, start, kind):
                    continue
                validate = _VALIDATORS.get(kind)
                if validate and not validate(text[start:end]):
                    continue
                found.append(Finding(start, end, kind))
        for number, pattern in enumerate(self._patterns):
            for match in pattern.finditer(text):
                start, end = match.span(1) if pattern.groups else match.span()
                if end > start:
                    found.append(
                        Finding(start, end, f"secret pattern {number + 1} (secret_patterns)")
                    )
        return _without_overlaps(found) if len(found) > 1 else found

    def may_find(self, texts: Sequence[str]) -> bool:
        """Whether :meth:`find` could find anything in any of ``texts``, in one scan of them.

        False means it finds nothing in each. A stream's hundreds of events are asked at
        once: one search per regex over the texts joined by :data:`JOIN`, instead of every
        regex over every text. Sound because a built-in regex (a known value, a shape)
        has no anchor and no look-behind, and its look-aheads accept the separator where
        they accept a text's end: a match inside one text is a match in the joined texts.
        ``secret_patterns`` may use anchors, so they are searched text by text.
        """
        if not texts:
            return False
        joined = JOIN.join(texts)
        for _, regex in self._regexes():
            if regex.search(joined):
                return True
        for _, regex in _SHAPE_REGEXES:
            if regex.search(joined):
                return True
        return any(pattern.search(text) for pattern in self._patterns for text in texts)

    def redact(self, text: str) -> tuple[str, list[tuple[Finding, str]]]:
        """``text`` with every finding replaced, and (finding, secret) pairs."""
        findings = self.find(text)
        if not findings:
            return text, []
        pieces: list[str] = []
        secrets: list[tuple[Finding, str]] = []
        last = 0
        for finding in findings:
            pieces.append(text[last : finding.start])
            pieces.append(finding.placeholder)
            secrets.append((finding, finding.value or text[finding.start : finding.end]))
            last = finding.end
        pieces.append(text[last:])
        return "".join(pieces), secrets

    def redact_bytes(self, data: bytes) -> tuple[bytes, list[tuple[Finding, str]]]:
        """The same for bytes that are not UTF-8: byte-exact apart from the secrets.

        Decoding with ``surrogateescape`` maps every byte to one character and back,
        so the text regexes run unchanged and nothing else moves.
        """
        text = data.decode("utf-8", "surrogateescape")
        redacted, secrets = self.redact(text)
        if not secrets:
            return data, []
        return redacted.encode("utf-8", "surrogateescape"), secrets


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    """Sorted findings; of two that overlap, the earlier (then the longer) wins."""
    found.sort(key=lambda f: (f.start, -f.end))
    kept: list[Finding] = []
    for finding in found:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


_COOKIE_ATTRIBUTES = frozenset(
    {"expires", "max-age", "domain", "path", "samesite", "secure", "httponly", "priority"}
)


def cookie_values(header: str) -> Iterator[str]:
    """Each cookie's own value in a ``Cookie`` or ``Set-Cookie`` header, never an attribute.

    Several ``Set-Cookie`` headers joined with ``,`` are split too (a comma inside
    ``Expires=Wed, 06 May 2026 …`` leaves a piece without ``=``, which is skipped).
    A value with no name at all (``Cookie: abc``) is taken whole.
    """
    for index, piece in enumerate(re.split(r"[;,]", header)):
        name, equals, value = piece.strip().partition("=")
        if equals and name and name.lower() not in _COOKIE_ATTRIBUTES:
            yield value.strip().strip('"')
        elif not equals and index == 0 and name.lower() not in _COOKIE_ATTRIBUTES:
            yield name


def env_secrets(
    environ: Mapping[str, str] | None = None, extra_names: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(name, value) of the secret environment variables, sorted by name.

    Secret: a secret word as a whole word in the name (``OPENAI_API_KEY``,
    ``GH_TOKEN``, not ``GIT_AUTHOR_NAME``) and a value that looks like a credential;
    or a name listed in ``extra_names`` (any value of four characters or more).
    """
    environ = os.environ if environ is None else environ
    listed = set(extra_names)
    found = []
    for name, value in environ.items():
        if name in listed:
            if len(value) >= 4:
                found.append((name, value))
        elif _secret_variable(name, value):
            found.append((name, value))
    return sorted(found)


def _secret_variable(name: str, value: str) -> bool:
    """Whether a variable is a secret by its name and value (remembered: every cassette's
    scrubber reads the environment, and it changes little between tests)."""
    verdict = _ENV_VERDICTS.get((name, value))
    if verdict is None:
        if len(_ENV_VERDICTS) > 10_000:
            _ENV_VERDICTS.clear()
        verdict = looks_like_credential(value) and _is_secret_words(split_words(name), "env")
        _ENV_VERDICTS[name, value] = verdict
    return verdict


_ENV_VERDICTS: dict[tuple[str, str], bool] = {}
_NAME_VERDICTS: dict[tuple[frozenset[str], ...], dict[tuple[str, str], bool]] = {}


def hide_secrets_in_name(name: str, detector: SecretDetector | None = None) -> str:
    """A test ID with each credential in it replaced by a short hash of it.

    Used for cassette file names, which reach disk and are listed by ``git``.
    """
    detector = detector or SecretDetector()
    findings = detector.find(name)
    if not findings:
        return name
    pieces = []
    last = 0
    for finding in findings:
        secret = name[finding.start : finding.end]
        digest = hashlib.sha256(b"llm-cassettes:" + secret.encode("utf-8")).hexdigest()[:10]
        pieces += [name[last : finding.start], f"secret-{digest}"]
        last = finding.end
    pieces.append(name[last:])
    return "".join(pieces)
