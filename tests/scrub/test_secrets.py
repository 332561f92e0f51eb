"""What is a secret, and what is not: the detector on names, shapes, environments and
real traffic, and the plugin end to end (a conversation replayed under another
environment; a secret in a test ID).

The leak matrix (every position × every carrier, and ``check`` on the same traffic
recorded with ``scrub=False``) is ``tests/reliability/test_no_leaks.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import pytest
import yaml

from llm_cassettes import CassetteSerializer
from llm_cassettes.format import LOCK_DIR
from llm_cassettes.scrub import REDACTED, Redaction, Scrubber, ScrubOptions
from llm_cassettes.scrub._detector import (
    SecretDetector,
    cookie_values,
    env_secrets,
    hide_secrets_in_name,
    split_words,
)
from tests._support import DATA, TREE_INI
from tests._support.fake_openai import FakeOpenAI

# ---------------------------------------------------------------------------- names --

SECRET_NAMES = [
    "api_key",
    "apiKey",
    "APIKey",
    "apikey",
    "x-api-key",
    "api-key",
    "X-Goog-Api-Key",
    "Ocp-Apim-Subscription-Key",
    "secret_key",
    "aws_secret_access_key",
    "private_key",
    "clientSecret",
    "client_secret",
    "x-auth-token",
    "X-Amz-Security-Token",
    "access_token",
    "refreshToken",
    "token",
    "id_token",
    "password",
    "db_password",
    "passwd",
    "credentials",
    "authorization",
    "Proxy-Authorization",
    "auth",
    "cookie",
    "set-cookie",
    "session",
    "session_token",
    "signature",
    "X-Amz-Signature",
    "SecretString",
    "password_hash",
    "api_key_2",
]
NOT_SECRET_NAMES = [
    "max_tokens",
    "max_output_tokens",
    "prompt_tokens",
    "completion_tokens_details",
    "cached_tokens",
    "budget_tokens",
    "tokenCount",
    "promptTokenCount",
    "x-ratelimit-remaining-tokens",
    "anthropic-ratelimit-input-tokens-limit",
    "prompt_cache_key",
    "idempotency_key",
    "key",
    "keys",
    "public_key",
    "cache_key",
    "sec-websocket-key",
    "token_type",
    "next_token",
    "eos_token",
    "thoughtSignature",
    "function_signature",
    "session_id",
    "author",
    "keyboard",
    "access-control-allow-credentials",
    "www-authenticate",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_by_words(name: str) -> None:
    kind = "header" if "-" in name else "field"
    assert SecretDetector(environ={}).is_secret_name(name, kind), split_words(name)


@pytest.mark.parametrize("name", NOT_SECRET_NAMES)
def test_false_friends_are_not_secret_names(name: str) -> None:
    kind = "header" if "-" in name else "field"
    assert not SecretDetector(environ={}).is_secret_name(name, kind), split_words(name)


def test_words_split_camel_snake_and_kebab() -> None:
    assert split_words("clientSecret") == ["client", "secret"]
    assert split_words("Ocp-Apim-Subscription-Key") == ["ocp", "apim", "subscription", "key"]
    assert split_words("APIKey") == ["api", "key"]
    assert split_words("OAuth2Token") == ["o", "auth", "2", "token"]


def test_a_bare_key_is_secret_as_a_query_parameter_only() -> None:
    detector = SecretDetector(environ={})
    assert detector.is_secret_name("key", "query")  # ?key=AIza… (Google)
    assert not detector.is_secret_name("key", "field")  # {"key": "color"}


def test_extra_names_and_kept_names() -> None:
    detector = SecretDetector(environ={}, names=["x-tenant"], keep_names=["session"])
    assert detector.is_secret_name("X-Tenant", "header")
    assert not detector.is_secret_name("session", "field")


# --------------------------------------------------------------------------- shapes --

SHAPED = {
    "OpenAI API key": "sk-proj-" + "Ab1_" * 16,
    "Anthropic API key": "sk-ant-api03-" + "x9Y-" * 20,
    "Google API key": "AIza" + "Sy0_a" * 7,
    "AWS access key id": "AKIA" + "Q3RZ" * 4,
    "GitHub token": "ghp_" + "aB3d" * 9,
    "Slack token": "xoxb-1234567890-0987654321-" + "aB3d" * 6,
    "Hugging Face token": "hf_" + "AbCd" * 9,
    "Stripe key": "sk_live_" + "aB3d" * 6,
    "Telegram bot token": "123456789:AA" + "hZ-_" * 8 + "x",
    "JSON Web Token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU",
}


@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_credential_shapes_are_found_inside_text(kind: str) -> None:
    secret = SHAPED[kind]
    detector = SecretDetector(environ={})
    for text in (f"use {secret} now", f'{{"k":"\\n{secret}"}}', f"a%20{secret}&b=1"):
        redacted, found = detector.redact(text)
        assert secret not in redacted and [f.kind for f, _ in found] == [kind], text


def test_shapes_do_not_match_inside_words_or_prose() -> None:
    detector = SecretDetector(environ={})
    for text in (
        "task-abcdefghijklmnopqrstuvwx1234 is an id",
        "the Bearer Authentication scheme",
        "Basic information about the model",
        "org-chart and proj_plan",
        "http://localhost:8080/v1",
    ):
        assert detector.find(text) == [], text


def test_bearer_basic_url_password_and_telegram_path() -> None:
    detector = SecretDetector(environ={})
    basic = base64.b64encode(b"jane:hunter22").decode()
    text = (
        f"Authorization: Bearer tok.3nL-xyz_0123456789 and Basic {basic} "
        "postgres://jane:pa55word@db/x /bot123456789:AAH" + "x" * 33 + "/sendMessage"
    )
    redacted = detector.redact(text)[0]
    assert redacted == (
        "Authorization: Bearer <REDACTED> and Basic <REDACTED> "
        "postgres://jane:<REDACTED>@db/x /bot<REDACTED>/sendMessage"
    )


def test_bytes_stay_byte_exact_apart_from_the_secret() -> None:
    data = b"\x89PNG\r\n\x1a\n\xff\x00 key=" + SHAPED["OpenAI API key"].encode() + b" \xfe\x80tail"
    redacted, found = SecretDetector(environ={}).redact_bytes(data)
    assert redacted == b"\x89PNG\r\n\x1a\n\xff\x00 key=<REDACTED> \xfe\x80tail"
    assert [f.kind for f, _ in found] == ["OpenAI API key"]


# ---------------------------------------------------------------------- environment --


def test_environment_values_secret_by_whole_word_and_credential_look() -> None:
    environ = {
        "MY_SERVICE_KEY": "svc-8f3a9c2e7b1d",
        "OPENAI_API_KEY": "sk-proj-abc123def456",
        "GH_TOKEN": "ghp_0123456789abcdef",
        "GIT_AUTHOR_NAME": "Jane Doe",
        "KEYBOARD_LAYOUT": "us-intl-9f8e7d6c",
        "TOKENIZERS_PARALLELISM": "false",
        "XDG_SESSION_TYPE": "wayland",
        "SSH_AUTH_SOCK": "/tmp/ssh-XXXXabc123/agent.4242",
        "MAX_TOKENS": "4096",
        "AUTH_DOMAIN": "auth.example.com",
        "SESSION_DATE": "2026-05-06",
    }
    assert [name for name, _ in env_secrets(environ)] == [
        "GH_TOKEN",
        "MY_SERVICE_KEY",
        "OPENAI_API_KEY",
    ]


def test_environment_values_replaced_as_whole_tokens_with_their_name() -> None:
    detector = SecretDetector(environ={"MY_SERVICE_KEY": "svc-8f3a9c2e7b1d"})
    text = "key svc-8f3a9c2e7b1d, not xsvc-8f3a9c2e7b1dx, escaped svc-8f3a9c2e7b1d\\n"
    assert detector.redact(text)[0] == (
        "key <MY_SERVICE_KEY>, not xsvc-8f3a9c2e7b1dx, escaped <MY_SERVICE_KEY>\\n"
    )


# ------------------------------------------------------------------------- learning --


def test_cookies_teach_their_values_never_their_attributes() -> None:
    header = (
        "__cf_bm=AbC123.dEf456-1778037179-1.0.1.1-XyZ; HttpOnly; Secure; Path=/; "
        "Domain=api.openai.com; Expires=Wed, 06 May 2026 03:43:00 GMT"
    )
    assert list(cookie_values(header)) == ["AbC123.dEf456-1778037179-1.0.1.1-XyZ"]
    joined = header + ", _cfuvid=uvid-123456789-0.0.1.1; Path=/; Domain=api.openai.com"
    assert list(cookie_values(joined))[1] == "uvid-123456789-0.0.1.1"


def test_the_host_is_never_redacted_even_if_learned() -> None:
    scrubber = Scrubber(environ={})
    scrubber.learn(["api.openai.com", "leakprobe0123456789"])
    url = "https://api.openai.com/v1/echo/leakprobe0123456789?q=api.openai.com"
    assert scrubber.url(url) == f"https://api.openai.com/v1/echo/{REDACTED}?q={REDACTED}"


def test_basic_credentials_are_learned_encoded_decoded_and_as_the_password() -> None:
    scrubber = Scrubber(environ={})
    value = "Basic " + base64.b64encode(b"jane:hunter22-x").decode()
    headers = scrubber.headers({"Authorization": value})
    assert headers == {"Authorization": REDACTED}
    echo = 'you are jane:hunter22-x, password "hunter22-x"'
    assert scrubber.text(echo) == f"you are {REDACTED}, password " + f'"{REDACTED}"'


def test_an_echo_in_the_same_response_is_caught_before_the_body_is_written() -> None:
    cookie = "sid=s3ss10n-0123456789abcdef; Path=/; Domain=api.example.com"
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["application/json"], "set-cookie": [cookie]},
        "body": {"string": b'{"debug": "cookie s3ss10n-0123456789abcdef\\/set"}'},
    }
    request = {"method": "GET", "uri": "https://api.example.com/v1/x", "headers": {}, "body": None}
    stored = CassetteSerializer(Scrubber(environ={})).encode_interaction(request, response)
    assert stored["response"]["body"] == {"json": {"debug": f"cookie {REDACTED}/set"}}
    assert stored["request"]["uri"] == "https://api.example.com/v1/x"


def test_json_fields_at_any_depth_any_type_and_the_schema_of_a_tool_is_kept() -> None:
    body = {
        "config": {"auth": {"clientSecret": "cs-123", "method": "client_secret_post"}},
        "users": [{"credentials": {"password": 1234}}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "login",
                    "parameters": {
                        "type": "object",
                        "properties": {"api_key": {"type": "string"}, "key": {"type": "string"}},
                        "required": ["api_key"],
                    },
                },
            }
        ],
        "logprobs": {"content": [{"token": "Hello", "logprob": -0.1}]},
        "content": [{"type": "thinking", "thinking": "hm", "signature": "EqQBCkgIARAB"}],
        "max_tokens": 100,
        "token_type": "Bearer",
    }
    found: list[Redaction] = []
    scrubbed = Scrubber(report=found.append, environ={}).value(body, "body")
    expected = json.loads(json.dumps(body))
    expected["config"]["auth"]["clientSecret"] = REDACTED
    expected["users"][0]["credentials"]["password"] = REDACTED
    assert scrubbed == expected
    assert [(r.where, r.secret) for r in found] == [
        ("body.config.auth.clientSecret", "cs-123"),
        ("body.users[0].credentials.password", "1234"),
    ]


def test_placeholders_are_stable_and_saving_twice_is_byte_identical(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_SERVICE_KEY", "svc-8f3a9c2e7b1d")
    request = {
        "method": "POST",
        "uri": "https://h/v1/x?api_key=abc12345678",
        "headers": {
            "Authorization": ["Bearer tok-0123456789abcdef"],
            "content-type": ["application/json"],
        },
        "body": '{"password": "p4ssw0rd!", "note": "svc-8f3a9c2e7b1d", "k": "tok-0123456789abcdef"}',
    }
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "ok"}}
    cassette = {"interactions": [{"request": request, "response": response}]}
    first = CassetteSerializer().serialize(cassette)
    second = CassetteSerializer().serialize(cassette)
    assert first == second
    stored = yaml.safe_load(first)["interactions"][0]["request"]
    assert stored["uri"] == f"https://h/v1/x?api_key={REDACTED}"
    assert stored["body"]["json"] == {
        "password": REDACTED,
        "note": "<MY_SERVICE_KEY>",
        "k": REDACTED,
    }
    # Loading and saving again changes nothing (the hooks run again on load).
    loaded = CassetteSerializer().deserialize(first)
    assert CassetteSerializer().serialize(loaded) == first


def test_form_and_multipart_fields_by_name_byte_exact_otherwise() -> None:
    scrubber = Scrubber(environ={})
    form = "grant_type=client_credentials&client_id=app&client_secret=cs%2Fsecret%3D1"
    assert scrubber.body(form.encode(), "application/x-www-form-urlencoded") == (
        b"grant_type=client_credentials&client_id=app&client_secret=<REDACTED>"
    )
    multipart = (
        b'--b0undary\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nk3y-v4lue-0123'
        b'\r\n--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\xff\xfe\x00api_key\r\n--b0undary--\r\n"
    )
    assert scrubber.body(multipart, "multipart/form-data; boundary=b0undary") == multipart.replace(
        b"k3y-v4lue-0123", REDACTED.encode()
    )


# ------------------------------------------------------------------- false positives --


def _llama_stack_bodies() -> list[Any]:
    bodies = []
    for path in sorted((DATA / "llama_stack").rglob("*.json")):
        recording = json.loads(path.read_text())
        if isinstance(recording, dict) and "request" in recording:
            bodies += [recording["request"].get("body"), recording["response"].get("body")]
    return bodies


#: Variables with a secret-looking name or value that are not secrets, set to values
#: that occur in the recorded prompts.
FALSE_FRIENDS_ENV = {
    "GIT_AUTHOR_NAME": "Maverick",
    "GIT_COMMITTER_EMAIL": "knowledge_search",
    "KEYBOARD_LAYOUT": "text-embedding-3-small",
    "TOKENIZERS_PARALLELISM": "false",
    "AUTH_PROVIDER": "openai",
    "XDG_SESSION_TYPE": "assistant",
    "MAX_TOKENS": "4096",
}


def test_real_prompts_tool_schemas_and_usage_pass_through_unchanged() -> None:
    bodies = _llama_stack_bodies()
    assert len(bodies) > 40
    text = json.dumps(bodies)
    for needle in ("max_tokens", "prompt_tokens", "knowledge_search", "Maverick", "properties"):
        assert needle in text  # the data really has the false friends
    found: list[Redaction] = []
    scrubber = Scrubber(report=found.append, environ=FALSE_FRIENDS_ENV)
    assert scrubber.value(bodies, "bodies") == bodies
    assert found == []


def test_real_anthropic_gemini_and_openai_traffic_passes_through_unchanged() -> None:
    found: list[Redaction] = []
    serializer = CassetteSerializer(
        Scrubber(
            ScrubOptions(drop_volatile_headers=False),
            report=found.append,
            environ=FALSE_FRIENDS_ENV,
        )
    )
    plain = CassetteSerializer(Scrubber(ScrubOptions(enabled=False)))
    paths = sorted((DATA / "real_traffic").rglob("*.yaml"))
    assert len(paths) >= 7
    for path in paths:
        for index, item in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            request = dict(item["request"])
            if "parsed_body" in request:  # pydantic-ai's own serializer stored it parsed
                request["body"] = {"json": request.pop("parsed_body")}
            where = f"{path.name}:{index}."
            stored = serializer.encode_interaction(request, item["response"], where=where)
            assert (
                stored["request"]["body"]
                == plain.encode_interaction(request, item["response"])["request"]["body"]
            )
            assert (
                stored["response"]["body"]
                == plain.encode_interaction(request, item["response"])["response"]["body"]
            )
    # Only the account headers are secrets in that traffic (thinking signatures are not).
    assert {r.where.split(":", 1)[1].split(".", 1)[1] for r in found} <= {
        "response.headers.openai-organization",
        "response.headers.openai-project",
    }


# ------------------------------------------------------------------------ file names --


def test_a_credential_in_a_test_id_is_hashed_in_the_name() -> None:
    key = SHAPED["OpenAI API key"]
    name = hide_secrets_in_name(f"test_call[gpt-4o-{key}]")
    assert key not in name and re.fullmatch(r"test_call\[gpt-4o-secret-[0-9a-f]{10}\]", name)
    assert hide_secrets_in_name(f"test_call[gpt-4o-{key}]") == name  # stable
    assert hide_secrets_in_name("test_call[gpt-4o]") == "test_call[gpt-4o]"


def test_secret_in_a_test_id_never_names_a_file(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-proj-" + base64.b32encode(os.urandom(30)).decode().rstrip("=")
    env_value = "svc-" + os.urandom(8).hex()
    monkeypatch.setenv("MY_SERVICE_KEY", env_value)
    monkeypatch.setenv("FAKE_BASE_URL", fake_openai.base_url)
    pytester.makeini(TREE_INI)
    pytester.makepyfile(
        test_ids=f"""
        import os, openai, pytest

        @pytest.mark.vcr
        @pytest.mark.parametrize("key", [{key!r}, os.environ["MY_SERVICE_KEY"], "plain"])
        def test_call(key):
            client = openai.OpenAI(base_url=os.environ["FAKE_BASE_URL"], api_key=key, max_retries=0)
            assert client.models.list().data
        """
    )
    pytester.runpytest("-p", "no:randomly", "--record-mode=once").assert_outcomes(passed=3)
    everything = [p for p in (pytester.path / "cassettes").rglob("*") if p.is_file()]
    files = [p for p in everything if LOCK_DIR not in p.parts]  # locks are named after them
    assert len(files) == 3
    for secret in (key, env_value):
        for path in everything:
            assert secret not in str(path) and secret.encode() not in path.read_bytes()
    assert any(p.name == "test_call[plain].yaml" for p in files)
    fake_openai.stop()  # replay offline: the same names are found again
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


# ------------------------------------------------------- a conversation, replayed elsewhere --

CONVERSATION = """
import http.cookiejar, os
import httpx2, openai, pytest


def client():
    # The real service is HTTPS: a client sends its Secure cookies back on every call.
    policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    cookies = httpx2.Cookies(http.cookiejar.CookieJar(policy))
    hooks = {"request": [cookies.set_cookie_header], "response": [cookies.extract_cookies]}
    return openai.OpenAI(
        base_url=os.environ["FAKE_BASE_URL"],
        api_key=os.environ.get("OPENAI_API_KEY", "sk-dummy-key-for-replay-0000000000"),
        max_retries=0,
        http_client=httpx2.Client(event_hooks=hooks),
    )


@pytest.mark.vcr
def test_conversation():
    c = client()
    messages = [{"role": "user", "content": "Hello, I am Jane Doe from the keyboard team"}]
    first = c.chat.completions.create(model="gpt-4o", messages=messages)
    assert first.choices[0].message.content == "Echo: Hello, I am Jane Doe from the keyboard team"
    messages += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "Say it again, Jane Doe"},
    ]
    stream = c.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Echo: Say it again, Jane Doe"
    answer = c.responses.create(model="gpt-4o", input="One more, from Jane Doe")
    assert answer.output_text == "Echo: One more, from Jane Doe"
    assert len(c.embeddings.create(model="text-embedding-3-small", input="Jane Doe").data) == 1
    assert c.models.list().data
"""


@pytest.mark.slow
def test_conversation_with_real_cookies_replays_under_another_environment(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(TREE_INI)
    pytester.makepyfile(test_conversation=CONVERSATION)
    monkeypatch.setenv("FAKE_BASE_URL", fake_openai.base_url)
    # Recorded on a developer's machine: a real-looking key, secrets, and a name with AUTH.
    recording_env = {
        "OPENAI_API_KEY": "sk-proj-" + os.urandom(24).hex(),
        "MY_SERVICE_KEY": "svc-" + os.urandom(8).hex(),
        "GIT_AUTHOR_NAME": "Jane Doe",
        "KEYBOARD_LAYOUT": "us-intl-jane1",
    }
    for name, value in recording_env.items():
        monkeypatch.setenv(name, value)
    pytester.runpytest_subprocess("--record-mode=once").assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("*.yaml")
    stored = yaml.safe_load(path.read_text())["interactions"]
    assert len(stored) == 5
    host = fake_openai.base_url.split("/")[2]
    assert all(item["request"]["uri"].split("/")[2] == host for item in stored)
    assert [item["request"]["headers"].get("cookie") for item in stored] == [None] + [
        [REDACTED]
    ] * 4
    text = path.read_text()
    assert (
        "Jane Doe" in text and "<GIT_AUTHOR_NAME>" not in text and "<KEYBOARD_LAYOUT>" not in text
    )
    assert recording_env["OPENAI_API_KEY"] not in text and "Expires" not in text

    # Replayed in CI: offline, none of those variables set, every request must match.
    fake_openai.stop()
    for name in recording_env:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "CI Bot")
    before = path.read_bytes()
    pytester.runpytest_subprocess("--record-mode=none").assert_outcomes(passed=1)
    assert path.read_bytes() == before
