"""Hostile and unlucky input: each is refused with the file and place named, nothing from the
checkout is imported, and no recording is lost.

Cassettes come from pull requests (reviewed with ``llm-cassettes show`` and
``check`` before anyone trusts them), and recordings come from servers that
do odd things. The files here are made the way they would be: an alias bomb
in a body, nesting far beyond anything a recorder writes, a hand edit of a
tool record, a directory in the checkout named like an SDK; the odd server is
a real socket answering JSON nested 500 deep or a latin-1 header; a full disk
is the kernel's own ``ENOSPC`` from ``/dev/full``.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_cassettes import (
    CassetteFormatError,
    CassetteLockError,
    CassetteMiss,
    CassetteSerializer,
    tool,
    use_cassette,
)
from llm_cassettes.cli import main
from llm_cassettes.format import LOCK_DIR, lock_path
from llm_cassettes.format import _persister as persister_module  # fault injection
from tests._support import REPO, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

ROOT = REPO


# -------------------------------------------------------------------- an odd server --


class OddServer:
    """A real HTTP server answering each path with exactly the bytes it is given."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, list[tuple[str, bytes]], bytes]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self._answer()

            def _answer(self) -> None:
                status, headers, body = routes[self.path.split("?")[0]]
                self.send_response(status)
                for name, value in headers:  # raw bytes: send_header would encode latin-1
                    self._headers_buffer.append(name.encode("ascii") + b": " + value + b"\r\n")  # type: ignore[attr-defined]
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def odd_server() -> Iterator[OddServer]:
    server = OddServer()
    yield server
    server.stop()


def nested(depth: int) -> bytes:
    return (b'{"a":' * depth) + b"1" + (b"}" * depth)


# ------------------------------------------------------------- hostile cassette files --

BOMB_BODY = """\
      json:
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
BOMB = f"""\
version: 1
interactions:
- request:
    method: POST
    uri: https://api.openai.com/v1/chat/completions
    headers: {{}}
    body:
      json: {{model: gpt-4o}}
  response:
    status: {{code: 200, message: OK}}
    headers: {{content-type: [application/json]}}
    body:
{BOMB_BODY}"""


def test_an_alias_bomb_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB.encode()) < 1000  # 9**9 = 387 million strings once expanded
    with (
        pytest.raises(CassetteFormatError) as error,
        use_cassette(path, record_mode="new_episodes"),
    ):
        pass
    message = str(error.value)
    assert message.startswith(f"{path} (line 14, column 12): an anchor ('a')"), message
    assert path.read_text() == BOMB  # never overwritten


def _limited_memory() -> None:
    limit = 1536 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.slow
def test_check_show_and_diff_refuse_the_bomb_without_expanding_it(tmp_path: Path) -> None:
    """In a process that cannot grow past 1.5 GB: expanding the bomb would take 3 GB."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    for args in (["check", bomb], ["show", bomb], ["diff", bomb, bomb]):
        result = subprocess.run(
            [sys.executable, "-m", "llm_cassettes", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            preexec_fn=_limited_memory,
            check=False,
        )
        assert result.returncode == (2 if args[0] == "diff" else 1), result.stderr
        assert "Traceback" not in result.stderr
        assert f"{bomb}" in result.stdout + result.stderr
        assert "an anchor ('a')" in result.stdout + result.stderr


def test_nesting_deeper_than_any_recording_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    deep = "".join(f"{'  ' * level}- \n" for level in range(300))
    path.write_text(f"version: 1\ninteractions:\n{deep}")
    with pytest.raises(CassetteFormatError, match=r"deep\.yaml \(line 202, column \d+\): nested"):
        CassetteSerializer().deserialize(path.read_text(), source=str(path))


def test_what_the_serializer_writes_never_holds_anchors(tmp_path: Path) -> None:
    """vcrpy hands over shared objects (one headers dict for two responses): written twice."""
    shared_headers = {"content-type": ["application/json"], "x-a": ["1"]}
    response = {"status": {"code": 200}, "headers": shared_headers, "body": {"string": "{}"}}
    request = {"method": "GET", "uri": "https://x.io/a", "headers": {}, "body": None}
    serializer = CassetteSerializer()
    text = serializer.serialize({"interactions": [{"request": request, "response": response}] * 2})
    assert "&" not in text and "*id" not in text
    assert len(serializer.deserialize(text)["interactions"]) == 2


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.recursive(
        st.text(alphabet="ab &*:[]{},-'\"\n", max_size=12) | st.integers(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.text(alphabet="ab&*", min_size=1, max_size=4), children, max_size=3
            )
        ),
        max_leaves=12,
    )
)
def test_anchors_are_always_found_and_text_with_ampersands_always_loads(value: Any) -> None:
    from llm_cassettes.format import _yaml

    # Text full of '&' and '*' is data: it loads as it was written.
    assert _yaml.load(_yaml.dump({"v": value})) == {"v": value}
    # PyYAML's own dumper writes anchors for shared objects, in block and flow style.
    shared = {"v": [value, value]}
    for flow in (False, True, None):
        text = yaml.dump(shared, Dumper=yaml.SafeDumper, default_flow_style=flow)
        if "&id" in text:
            with pytest.raises(CassetteFormatError, match="anchor"):
                _yaml.load(text)


# --------------------------------------------------------------- deep JSON from servers --


def test_json_nested_500_deep_from_a_server_is_stored_raw_and_nothing_is_lost(
    odd_server: OddServer, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "deep.yaml"
    deep = nested(500)
    odd_server.routes["/deep"] = (200, [("content-type", b"application/json")], deep)
    odd_server.routes["/flat"] = (200, [("content-type", b"application/json")], b'{"ok":true}')
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="once"), httpx2.Client() as http:
        first = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "before"}]
        )
        assert http.get(f"{odd_server.url}/deep").content == deep
        assert http.post(f"{odd_server.url}/deep", content=deep).content == deep  # a deep request
        assert http.get(f"{odd_server.url}/flat").json() == {"ok": True}
    stored = read_cassette(path)["interactions"]
    assert len(stored) == 4  # the whole cassette was written
    body = stored[1]["response"]["body"]
    assert body == {"string": deep.decode(), "untyped": "JSON nested more than 100 levels deep"}
    assert stored[2]["request"]["body"] == deep.decode()
    assert stored[3]["response"]["body"] == {"json": {"ok": True}}

    text = path.read_text()
    odd_server.stop()
    fake_openai.stop()
    with use_cassette(path, record_mode="none"), httpx2.Client() as http:
        replayed = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "before"}]
        )
        assert replayed.choices[0].message.content == first.choices[0].message.content
        assert http.get(f"{odd_server.url}/deep").content == deep
        assert http.post(f"{odd_server.url}/deep", content=deep).content == deep
        assert http.get(f"{odd_server.url}/flat").json() == {"ok": True}
    assert main(["upgrade", str(path)]) == 0  # read and written again: the same bytes
    assert path.read_text() == text


def test_a_json_string_body_nested_100000_deep_replays_and_reviews(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    record = {
        "request": {"method": "POST", "uri": "https://x.io/v1/deep", "headers": {}, "body": deep},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"content-type": ["application/json"]},
            "body": {"string": deep},
        },
    }
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "interactions": [record]}))
    other = tmp_path / "other.yaml"
    changed = json.loads(json.dumps(record))
    changed["response"]["body"]["string"] = "[1]"
    other.write_text(yaml.safe_dump({"version": 1, "interactions": [changed]}))

    with use_cassette(path, record_mode="none"), httpx2.Client() as http:
        assert http.post("https://x.io/v1/deep", content=deep).text == deep

    assert main(["show", str(path), str(other)]) == 0
    out = capsys.readouterr().out
    assert "interactions[0] POST /v1/deep" in out and f"{other}" in out
    assert main(["diff", str(path), str(path)]) == 0
    assert main(["diff", str(path), str(other)]) == 1


# -------------------------------------------------------------------- bad tool records --


@tool
def fetch_blob(name: str) -> tuple[bytes, str]:
    return (b"\x00\x01binary", name)


@pytest.mark.parametrize(
    ("edit", "place", "problem"),
    [
        (
            lambda r: r["tool_result"]["__data__"][0].update(__data__="not base64!"),
            r"tool_result\.__data__\[0\]\.__data__",
            "not valid base64",
        ),
        (
            lambda r: r["tool_result"]["__data__"][0].update(__data__=12),
            r"tool_result\.__data__\[0\]\.__data__",
            "expected base64 text",
        ),
        (
            lambda r: r["tool_result"].update(__data__={"not": "a list"}),
            r"tool_result\.__data__",
            "expected a list",
        ),
        (lambda r: r.update(tool_stream=5), r"tool_stream", "expected a list of items"),
    ],
)
def test_a_hand_edited_tool_record_names_file_and_place(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict[str, Any]], None],
    place: str,
    problem: str,
) -> None:
    path = tmp_path / "tools.yaml"
    with use_cassette(path, record_mode="once"):
        assert fetch_blob("x") == (b"\x00\x01binary", "x")
    data = read_cassette(path)
    edit(data["interactions"][0]["response"])
    path.write_text(yaml.safe_dump(data))
    expected = rf"tools\.yaml: interactions\[0\]\.response\.{place}: {problem}"
    with pytest.raises(CassetteFormatError, match=expected), use_cassette(path):
        fetch_blob("x")
    assert main(["check", str(path)]) == 1
    assert f"{path}:interactions[0].response." in capsys.readouterr().out


def test_a_tool_record_that_only_replay_can_judge_names_file_and_place(tmp_path: Path) -> None:
    """A dict stored as pairs whose key cannot be a dict key: found when the tool replays."""
    path = tmp_path / "pairs.yaml"

    @tool
    def table(name: str) -> dict[int, str]:
        return {1: name}

    with use_cassette(path, record_mode="once"):
        assert table("x") == {1: "x"}
    data = read_cassette(path)
    data["interactions"][0]["response"]["tool_result"]["__data__"] = [[[1, 2], "x"]]
    path.write_text(yaml.safe_dump(data))
    with (
        pytest.raises(
            CassetteFormatError,
            match=r"pairs\.yaml: interactions\[0\]\.response: tool 'table' cannot be replayed",
        ),
        use_cassette(path, record_mode="none"),
    ):
        table("x")


# ----------------------------------------------------- nothing imported from the checkout --

CANARY_CASSETTE = """\
version: 1
interactions:
- request:
    method: POST
    uri: https://api.anthropic.com/v1/messages
    headers: {}
    body:
      json: {model: claude}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [application/json]}
    body:
      json:
        __type__: anthropic.types.Message
        __data__: {id: msg_1}
- request:
    method: POST
    uri: http://localhost:8321/v1/inference
    headers: {}
    body:
      json: {model: llama}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [application/json]}
    body:
      json:
        __type__: llama_stack.apis.inference.Completion
        __data__: {id: c_1}
"""


def _plant_sdks(checkout: Path, canary: Path) -> None:
    for package in ("anthropic", "llama_stack"):
        for module in (f"{package}/__init__.py", f"{package}/types/__init__.py",
                       f"{package}/apis/__init__.py", f"{package}/apis/inference.py"):  # fmt: skip
            file = checkout / module
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(f"open({str(canary)!r}, 'a').write({module!r} + '\\n')\n")
    # Metadata claiming they are installed, found only through the checkout itself.
    info = checkout / "anthropic-9.9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: anthropic\nVersion: 9.9.9\n")
    (info / "RECORD").write_text("anthropic/__init__.py,,\nanthropic/types/__init__.py,,\n")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["python -m", "PYTHONPATH", "console script"])
def test_review_never_imports_a_shadowing_sdk_from_the_checkout(tmp_path: Path, how: str) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    canary = tmp_path / "CANARY"
    _plant_sdks(checkout, canary)
    (checkout / "c.yaml").write_text(CANARY_CASSETTE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = [sys.executable, "-m", "llm_cassettes"]
    if how == "PYTHONPATH":
        env["PYTHONPATH"] = str(checkout)
    elif how == "console script":
        command = [str(Path(sys.executable).with_name("llm-cassettes"))]
        env["PYTHONPATH"] = "."
    results = {
        subcommand: subprocess.run(
            [*command, subcommand, "c.yaml"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for subcommand in ("check", "show")
    }
    assert not canary.exists(), f"imported from the checkout: {canary.read_text()}"
    check, show = results["check"], results["show"]
    assert "Traceback" not in check.stderr + show.stderr
    assert check.returncode == 1
    # The checkout's anthropic/ is refused; an installed SDK (the dev extra installs it)
    # may answer instead, and says the hand-made payload is not a Message.
    assert (
        "__type__ 'anthropic.types.Message' not resolved" in check.stdout
        or "no longer validates as Message" in check.stdout
    )
    assert "__type__ 'llama_stack.apis.inference.Completion' not resolved" in check.stdout
    assert show.returncode == 0, show.stderr
    assert "interactions[1] POST /v1/inference" in show.stdout


# ---------------------------------------------------------------------- odd servers --


def test_a_latin1_response_header_replays_as_recorded(
    odd_server: OddServer, tmp_path: Path
) -> None:
    """A server naming a download in latin-1, as many do (RFC 7230 allows obs-text)."""
    path = tmp_path / "latin1.yaml"
    disposition = 'attachment; filename="résumé.pdf"'
    odd_server.routes["/v1/files/file-abc/content"] = (
        200,
        [
            ("content-type", b"application/pdf"),
            ("content-disposition", disposition.encode("latin-1")),
        ],
        b"%PDF-1.4 not really",
    )
    client = openai.OpenAI(base_url=f"{odd_server.url}/v1", api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="once"):
        live = client.files.with_raw_response.content("file-abc")
    assert live.headers["content-disposition"] == disposition
    odd_server.stop()
    with use_cassette(path, record_mode="none"):
        replayed = client.files.with_raw_response.content("file-abc")
    assert replayed.headers["content-disposition"] == disposition
    assert replayed.content == b"%PDF-1.4 not really"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_names_the_cassette_and_keeps_the_old_one(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.yaml"
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="new_episodes"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}])
    before = path.read_text()

    def mkstemp_on_a_full_disk(**kwargs: Any) -> tuple[int, str]:
        fd, name = tempfile.mkstemp(**kwargs)  # the real temporary file, then a full disk
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr(
        persister_module, "tempfile", types.SimpleNamespace(mkstemp=mkstemp_on_a_full_disk)
    )
    with pytest.raises(OSError) as error, use_cassette(path, record_mode="new_episodes"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "b"}])
    assert error.value.errno == errno.ENOSPC
    assert error.value.filename == str(path)
    assert str(path) in str(error.value) and "previous version" in str(error.value)
    assert path.read_text() == before
    assert sorted(os.listdir(tmp_path)) == [LOCK_DIR, "full.yaml"]  # no temporary file left


# ------------------------------------------------------------------- locks and reports --


def test_locks_live_next_to_the_cassettes_and_ignore_themselves(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "cassettes" / "c.yaml"
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="once"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}])
    locks = path.parent / LOCK_DIR
    assert lock_path(path) == locks / "c.yaml.lock" and lock_path(path).exists()
    assert (locks / ".gitignore").read_text().splitlines()[-1] == "*"
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.splitlines() == ["?? cassettes/c.yaml"]


@pytest.mark.parametrize("squat", ["symlink", "file"])
def test_a_lock_that_cannot_be_taken_says_which_path_and_why(
    fake_openai: FakeOpenAI, tmp_path: Path, squat: str
) -> None:
    path = tmp_path / "c.yaml"
    locks = tmp_path / LOCK_DIR
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if squat == "symlink":
        locks.symlink_to(elsewhere)
        why = "it is not a directory (a symlink?)"
    else:
        locks.write_text("")
        why = "File exists"
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with pytest.raises(CassetteLockError) as error, use_cassette(path, record_mode="once"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}])
    assert str(error.value).startswith(f"{path}: cannot take the cassette's write lock {locks}")
    assert why in str(error.value)
    assert list(elsewhere.iterdir()) == []  # nothing written through the symlink


def test_a_miss_report_shows_a_path_outside_the_cwd_absolute_and_inside_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sub" / "miss.yaml"
    path.parent.mkdir()
    path.write_text("version: 1\ninteractions: []\n")
    monkeypatch.chdir(ROOT)
    with (
        pytest.raises(CassetteMiss) as outside,
        use_cassette(path, record_mode="none"),
        httpx2.Client() as http,
    ):
        http.get("https://example.com/a")
    assert f"  cassette:    {path}\n" in str(outside.value)
    monkeypatch.chdir(tmp_path)
    with (
        pytest.raises(CassetteMiss) as inside,
        use_cassette(path, record_mode="none"),
        httpx2.Client() as http,
    ):
        http.get("https://example.com/a")
    assert f"  cassette:    {os.path.join('sub', 'miss.yaml')}\n" in str(inside.value)


def test_binary_bodies_are_untouched_by_the_depth_limit() -> None:
    """The bracket count gate must not turn binary or base64 payloads into text errors."""
    blob = base64.b64encode(os.urandom(4096)).decode()
    text = json.dumps({"data": [{"b64_json": blob}]})
    from llm_cassettes._wire import JSONTooDeep, loads_json

    assert loads_json(text) == json.loads(text)
    with pytest.raises(JSONTooDeep):
        loads_json("[" * 101 + "]" * 101)
    assert loads_json("[" * 100 + "]" * 100)
