"""No secret reaches the cassette directory, wherever a client or a server puts it.

A leak matrix: every way a secret is recognised (by the name it is under, by its
shape, as an environment variable's value, as a value learned from a cookie or an
``Authorization`` header) crossed with every carrier (request and response header,
query, URL path, JSON at depth, form, multipart, server-sent event, error body,
binary body, environment). Each case plants fresh random secrets, records one
exchange with the project's fake server through the real ``openai`` SDK or
``httpx2`` (the server's ``/v1/echo`` answers with everything it was sent, in the
chosen carrier, and sets cookies shaped like the real service's), then

* reads every byte under the cassette directory looking for each secret, raw,
  URL-encoded, JSON-escaped (also with ``\\/``) and base64-encoded;
* replays the exchange offline (the scrubbed request must still match);
* records the same exchange with ``scrub=False`` and checks that
  ``llm-cassettes check`` reports exactly the secrets that were on the wire: every
  planted one, and nothing that is not a secret.

The test-ID carrier (a secret in a ``parametrize`` value, so in the cassette's file
name) is in ``test_secret_in_a_test_id_never_names_a_file``.
"""

from __future__ import annotations

import base64
import email.utils
import json
import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx2
import openai
import pytest

from llm_cassettes import use_cassette
from llm_cassettes.cli.review import check_file
from tests._support.fake_openai import (
    FAKE_API_KEY,
    SECRET_COOKIE,
    SECRET_ORGANIZATION,
    SECRET_PROJECT,
    FakeOpenAI,
)

ALNUM = string.ascii_letters + string.digits


def _chars(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _probe() -> str:
    """A secret found by its position only: not credential-shaped on purpose."""
    return "leakprobe" + secrets.token_hex(12)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt() -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(json.dumps({"sub": secrets.token_hex(8), "iat": 1700000000}).encode())
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"


#: A fresh credential of each well-known shape.
SHAPES: dict[str, Callable[[], str]] = {
    "openai": lambda: "sk-proj-" + _chars(ALNUM + "_-", 72),
    "openai-service-account": lambda: "sk-svcacct-" + _chars(ALNUM + "_-", 64),
    "anthropic": lambda: "sk-ant-api03-" + _chars(ALNUM + "_-", 93) + "AA",
    "google": lambda: "AIza" + _chars(ALNUM + "_-", 35),
    "aws": lambda: "AKIA" + _chars(string.ascii_uppercase + string.digits, 16),
    "aws-session": lambda: "ASIA" + _chars(string.ascii_uppercase + string.digits, 16),
    "github": lambda: "ghp_" + _chars(ALNUM, 36),
    "github-fine-grained": lambda: "github_pat_" + _chars(ALNUM, 22) + "_" + _chars(ALNUM, 59),
    "slack": lambda: (
        f"xoxb-{_chars(string.digits, 12)}-{_chars(string.digits, 13)}-" + _chars(ALNUM, 24)
    ),
    "huggingface": lambda: "hf_" + _chars(string.ascii_letters, 34),
    "stripe": lambda: "sk_live_" + _chars(ALNUM, 24),
    "stripe-restricted": lambda: "rk_live_" + _chars(ALNUM, 24),
    "telegram": lambda: _chars(string.digits, 10) + ":AA" + _chars(ALNUM + "_-", 33),
    "jwt": _jwt,
}


@dataclass
class Case:
    """One exchange with planted secrets. ``send`` performs it with the SDK or httpx2."""

    id: str
    send: Callable[[Exchange], Any]
    planted: list[str]
    env: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Exchange:
    """The clients a case sends with, pointed at the fake server."""

    sdk: openai.OpenAI
    http: httpx2.Client
    base_url: str

    def echo(self, *, carrier: str = "json", path: str = "", **options: Any) -> Any:
        """``POST /v1/echo`` through the real SDK (JSON body, headers, query)."""
        params = {"as": carrier, **options.pop("params", {})}
        try:
            return self.sdk.post(
                "/echo" + path,
                cast_to=httpx2.Response,
                body=options.pop("body", {"hello": "world"}),
                options={"params": params, "headers": options.pop("headers", {})},
            )
        except openai.APIStatusError as error:  # the error carrier answers 400
            return error.response

    def raw(self, *, carrier: str = "json", **kwargs: Any) -> httpx2.Response:
        """``POST /v1/echo`` through httpx2 (form, multipart and binary bodies)."""
        return self.http.post(f"{self.base_url}/echo", params={"as": carrier}, **kwargs)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _cases() -> Iterator[Any]:
    def case(id: str, send: Callable[[Exchange], Any], *planted: str, **kw: Any) -> Any:
        return pytest.param(Case(id, send, list(planted), **kw), id=id)

    # --- by name, request headers (the echo carries them back in the response body)
    for name in (
        "x-auth-token",
        "Ocp-Apim-Subscription-Key",
        "x-api-key",
        "api-key",
        "X-Client-Secret",
        "x-goog-api-key",
        "proxy-authorization",
        "cookie",
    ):
        s = _probe()
        yield case(f"request-header-{name}", lambda x, n=name, s=s: x.echo(headers={n: s}), s)
    s = _probe()
    yield case(
        "request-header-bearer", lambda x, s=s: x.echo(headers={"x-forward-auth": f"Bearer {s}"}), s
    )
    # A Basic header: echoed back decoded ("basic": "user:password").
    password = _probe()
    basic = _basic("jane", password)
    yield case(
        "request-header-basic-echoed-decoded",
        lambda x, b=basic: x.raw(headers={"Authorization": b}, json={"hello": 1}),
        password,
        "jane:" + password,
        basic.split()[1],
    )
    # --- by name, response headers (set by the server, and echoed in the same body)
    expires = email.utils.formatdate(1_800_000_000, usegmt=True)
    for name, make in (
        ("x-auth-token", lambda s: s),
        (
            "set-cookie",
            lambda s: f"sid={s}; HttpOnly; Secure; Path=/; Domain=127.0.0.1; Expires={expires}",
        ),
        ("openai-organization", lambda s: s),
        ("x-amz-security-token", lambda s: s),
        ("www-authenticate-session", lambda s: s),
    ):
        s = _probe()
        yield case(
            f"response-header-{name}", lambda x: x.echo(), s, response_headers={name: make(s)}
        )
    # --- by name, query parameters
    for name in ("client_secret", "api_key", "key", "access_token", "X-Amz-Signature", "sig"):
        s = _probe()
        yield case(f"query-{name}", lambda x, n=name, s=s: x.echo(params={n: s}), s)
    # --- by name, JSON at depth, any value type, request and response
    s1, s2, s3, s4 = _probe(), _probe(), _probe(), _probe()
    number = secrets.randbelow(9 * 10**14) + 10**14  # a numeric password
    deep = {
        "config": {"auth": {"clientSecret": s1, "method": "client_secret_post"}},
        "users": [{"name": "jane", "credentials": {"password": number}}],
        "integrations": [{"id": 1, "settings": {"secret_key": s2, "x-auth-token": s3}}],
        "headers": [{"name": "Authorization", "value": f"Token {s4}"}],  # HAR / Postman
    }
    for carrier in ("json", "sse", "error", "binary", "text"):
        yield case(
            f"json-at-depth-as-{carrier}",
            lambda x, c=carrier, d=deep: x.echo(carrier=c, body=d),
            s1,
            s2,
            s3,
            s4,
            str(number),
        )
    s = _probe()
    yield case(
        "response-json-field",
        lambda x: x.echo(),
        s,
        response_fields={"data": {"session": {"access_token": s, "token_type": "Bearer"}}},
    )
    # --- by name, form (OAuth client credentials) and multipart
    s1, s2 = _probe(), _probe()
    for carrier in ("json", "sse", "error", "binary"):
        yield case(
            f"form-as-{carrier}",
            lambda x, c=carrier, s1=s1, s2=s2: x.raw(
                carrier=c,
                data={"grant_type": "client_credentials", "client_secret": s1, "password": s2},
            ),
            s1,
            s2,
        )
    s1, key = _probe(), SHAPES["openai"]()
    for carrier in ("json", "binary"):
        yield case(
            f"multipart-as-{carrier}",
            lambda x, c=carrier, s1=s1, key=key: x.raw(
                carrier=c,
                data={"api_key": s1, "purpose": "assistants"},
                files={"file": ("notes.txt", f"my key is {key}\n".encode())},
            ),
            s1,
            key,
        )
    # --- by shape: every format, in a header, the query, JSON at depth and the path
    for shape, make in SHAPES.items():
        h, q, j = make(), make(), make()
        yield case(
            f"shape-{shape}",
            lambda x, h=h, q=q, j=j: x.echo(
                carrier="sse",
                headers={"x-debug-context": f"using {h}"},
                params={"q": q},
                body={"messages": [{"role": "user", "content": f"my key is {j}, thanks"}]},
            ),
            h,
            q,
            j,
        )
    key = SHAPES["openai"]()
    yield case("shape-in-path", lambda x, k=key: x.echo(path=f"/keys/{k}"), key)
    bot = SHAPES["telegram"]()
    yield case("telegram-bot-path", lambda x, b=bot: x.echo(path=f"/bot{b}/sendMessage"), bot)
    key = SHAPES["anthropic"]()
    yield case(
        "shape-in-binary-request-body",
        lambda x, k=key: x.raw(content=b"\x89PNG\xff\x00 key=" + k.encode() + b" \xfe\x01"),
        key,
    )
    # --- environment values, as whole tokens wherever they are echoed
    for name in ("MY_SERVICE_KEY", "GH_TOKEN", "DB_PASSWORD"):
        s = "v4l" + _chars(ALNUM, 20) + "9"
        for carrier in ("json", "sse", "error", "binary"):
            yield case(
                f"env-{name}-as-{carrier}",
                lambda x, s=s, c=carrier: x.echo(
                    carrier=c,
                    headers={"x-debug-context": s},
                    body={"messages": [{"role": "user", "content": f"the value is {s}."}]},
                ),
                s,
                env={name: s},
            )
    # --- learned values echoed in escaped forms: JSON "\/" and "\u00XX", URL-encoded
    s = "leak/probe+" + secrets.token_hex(8) + "=="
    for escape in ("slashes", "html"):
        yield case(
            f"learned-echo-escaped-{escape}",
            lambda x, s=s, e=escape: x.echo(headers={"x-auth-token": s}, params={"escape": e}),
            s,
        )
    s = "leak/probe&" + secrets.token_hex(8)
    yield case("learned-echo-url-encoded", lambda x, s=s: x.echo(params={"api_key": s}), s)


def _forms(secret: str) -> list[bytes]:
    """The secret as it could appear in a file: raw, URL-quoted, JSON-escaped, base64."""
    raw = secret.encode()
    return [
        raw,
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret)[1:-1].replace("/", "\\/").encode(),
        base64.b64encode(raw),
    ]


def _assert_nowhere(directory: Path, secret: str) -> None:
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert files, "nothing was recorded"
    for path in files:
        data = path.read_bytes()
        for form in _forms(secret):
            assert form not in data, f"secret leaked into {path.name}:\n{data.decode('latin-1')}"


def _run(case: Case, server: FakeOpenAI, path: Path, **options: Any) -> None:
    with (
        openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0) as sdk,
        httpx2.Client(headers={"authorization": f"Bearer {FAKE_API_KEY}"}) as http,
        use_cassette(path, **options),
    ):
        case.send(Exchange(sdk, http, server.base_url))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.mark.parametrize("case", list(_cases()))
def test_secret_never_reaches_disk_and_check_finds_exactly_it(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    server.extra_headers = case.response_headers
    server.extra_fields = case.response_fields
    scrubbed = tmp_path / "scrubbed"
    _run(case, server, scrubbed / "leak.yaml", record_mode="once")
    for secret in case.planted:
        _assert_nowhere(scrubbed, secret)

    # Replaying the scrubbed cassette still works: the redacted request still matches.
    _run(case, server, scrubbed / "leak.yaml", record_mode="none")
    for secret in case.planted:
        _assert_nowhere(scrubbed, secret)

    # The same traffic with scrubbing off: `check` names every planted secret, and only
    # secrets (the planted ones, the fake's API key, organization, project and cookies).
    _run(case, server, tmp_path / "raw.yaml", record_mode="once", scrub=False)
    raw = (tmp_path / "raw.yaml").read_bytes()
    for secret in case.planted:  # it really was in the traffic
        assert any(form in raw for form in _forms(secret)), f"{secret[:12]}… never sent"
    problems = check_file(tmp_path / "raw.yaml")
    reported = [p.secret for p in problems if p.secret]
    for secret in case.planted:
        assert any(secret in found for found in reported), f"check missed {secret[:12]}…"
    known = [*case.planted, FAKE_API_KEY, SECRET_ORGANIZATION, SECRET_PROJECT, SECRET_COOKIE]
    for problem in problems:
        assert problem.secret, f"not a secret finding: {problem}"
        assert any(k in problem.secret or problem.secret in k for k in known), (
            f"reported something that is not a planted secret: {problem}"
        )
    for problem in problems:  # and the report leaks nothing
        assert all(secret not in str(problem) for secret in case.planted)
