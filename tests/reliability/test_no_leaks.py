"""No secret reaches the cassette directory, wherever a client or a server puts it.

Every case records one real SDK call with a fresh random secret placed in one
position (a request or response header, a query parameter, a JSON body field,
an environment variable's value echoed by the server), then reads every byte
of every file in the cassette directory looking for it, raw and in the
encodings a cassette could carry it in (URL-quoted, JSON-escaped, base64).

The server is a small real HTTP server (not the shared fake) because it must
put arbitrary secrets in response headers and echo the request back in its
body, the way error messages and debugging endpoints do.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openai
import pytest

from llm_cassettes import use_cassette

SECRET_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
    "anthropic-organization-id",
    "proxy-authorization",
]


@dataclass
class _Echo:
    """What the server adds to its answer: response headers, and whether to echo the request."""

    headers: dict[str, str] = field(default_factory=dict)
    body_extra: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request_body = self.rfile.read(length).decode()
        echo = {
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": request_body,
        }
        content = "You sent " + json.dumps(echo) + self.server.echo.body_extra
        body = json.dumps(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1700000000,
                "model": "gpt-4o",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in self.server.echo.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.echo = _Echo()


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _forms(secret: str) -> list[bytes]:
    """The secret as it could appear in a file: raw, URL-quoted, JSON-escaped, base64."""
    raw = secret.encode()
    return [
        raw,
        quote(secret, safe="").encode(),
        json.dumps(secret)[1:-1].encode(),
        base64.b64encode(raw),
    ]


def _assert_nowhere(directory: Path, secret: str) -> None:
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert files, "nothing was recorded"
    for path in files:
        data = path.read_bytes()
        for form in _forms(secret):
            assert form not in data, f"secret leaked into {path.name}:\n{data.decode()}"


def _secret() -> str:
    # Not credential-shaped on purpose: found by its position, not by its looks.
    return "leakprobe" + secrets.token_hex(12)


@dataclass
class Case:
    id: str
    # request side: (headers, query, body fields); response side: (headers, echoed text)
    request_headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    echoed: str = ""


def _cases() -> list[Any]:
    cases: list[Any] = []
    for name in SECRET_HEADERS:
        for side in ("request", "response"):
            secret = _secret()
            value = f"Bearer {secret}" if "authorization" in name else secret
            case = Case(f"{side}-header-{name}")
            if side == "request":
                case.request_headers = {name: value}
            else:
                case.response_headers = {name: value}
            cases.append(pytest.param(case, secret, id=case.id))
    for name in ("api_key", "key"):
        secret = _secret()
        cases.append(
            pytest.param(Case(f"query-{name}", query={name: secret}), secret, id=f"query-{name}")
        )
    for name in ("api_key", "password", "client_secret", "access_token"):
        secret = _secret()
        cases.append(
            pytest.param(Case(f"json-{name}", body={name: secret}), secret, id=f"json-{name}")
        )
    for name in ("MY_SERVICE_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD"):
        secret = _secret()
        case = Case(f"env-{name}-echoed-in-response", env={name: secret}, echoed=secret)
        cases.append(pytest.param(case, secret, id=case.id))
        secret = _secret()
        case = Case(
            f"env-{name}-in-plain-request-header",
            env={name: secret},
            request_headers={"x-debug-context": secret},
        )
        cases.append(pytest.param(case, secret, id=case.id))
    return cases


@pytest.mark.parametrize(("case", "secret"), _cases())
def test_secret_never_reaches_disk(
    server: _Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: Case,
    secret: str,
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    server.echo = _Echo(headers=case.response_headers, body_extra=case.echoed)
    directory = tmp_path / "cassettes"
    headers = dict(case.request_headers)
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{server.server_port}/v1",
        api_key="not-a-secret-here",
        # The SDK sends these two headers from its own options, not from default_headers.
        organization=headers.pop("openai-organization", None),
        project=headers.pop("openai-project", None),
        max_retries=0,
        default_headers=headers,
    )
    messages: Any = [{"role": "user", "content": "hello"}]
    with use_cassette(directory / "leak", record_mode="once"):
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=messages, extra_query=case.query, extra_body=case.body
        )
    wire = json.dumps(dict(raw.headers)) + raw.text
    assert secret in wire  # the secret really was on the wire
    _assert_nowhere(directory, secret)

    # Replaying the scrubbed cassette still works (the redacted request still matches).
    with use_cassette(directory / "leak", record_mode="none"):
        client.chat.completions.create(
            model="gpt-4o", messages=messages, extra_query=case.query, extra_body=case.body
        )
    _assert_nowhere(directory, secret)
