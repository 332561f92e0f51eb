"""Migration on real recorded traffic: llama-stack recordings in, typed cassettes out.

The corpus under ``tests/data/llama_stack/`` is real llama-stack recorder output
(OpenAI chat streams and non-streams, completions, embeddings, Ollama, a tool
invocation, an id mapping). Every OpenAI recording is imported and replayed
through the real SDK, offline, and must give back the objects llama-stack
recorded. ``upgrade`` is proven on a cassette written by plain pytest-recording.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import Model

from llm_cassettes import CassetteMiss, ToolReplayError, cli, tool, use_cassette
from llm_cassettes.migrate import SHARED_CASSETTE, cassette_path_for, import_llama_stack, upgrade
from llm_cassettes.migrate._llama_stack import convert
from llm_cassettes.providers import resolve_type
from tests._support import DATA, REPO, TREE_INI, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, SECRET_ORGANIZATION, FakeOpenAI

LLAMA_STACK = DATA / "llama_stack"
CORPUS = LLAMA_STACK / "corpus"
SEED = LLAMA_STACK / "seed"
API_KEY = "sk-test-not-a-real-key-0123456789"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def as_llama_stack_replays(recording: dict[str, Any]) -> dict[str, Any]:
    """The recording with its id mapping applied, as llama-stack's replay sees it."""
    text = json.dumps(recording)
    for normalized, original in (recording.get("id_normalization_mapping") or {}).items():
        text = text.replace(original, normalized)
    return json.loads(text)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.json"))


def openai_recordings() -> list[Path]:
    return [p for p in corpus_files() if convert(load(p), str(p)).client == "openai"]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    summary = import_llama_stack([CORPUS], out)
    assert summary.ok, summary.render()
    return out


def sdk_call(client: openai.OpenAI, endpoint: str, kwargs: dict[str, Any]) -> Any:
    """The SDK call llama-stack recorded, rebuilt from the recorded keyword arguments.

    Arguments the method does not name go to ``extra_body``, as a caller would pass them.
    """
    method = {
        "/v1/chat/completions": client.chat.completions.create,
        "/v1/completions": client.completions.create,
        "/v1/embeddings": client.embeddings.create,
    }[endpoint]
    named = set(inspect.signature(method).parameters)
    body = dict(kwargs)
    extra = dict(body.pop("extra_body", None) or {})
    call = {k: v for k, v in body.items() if k in named}
    extra.update({k: v for k, v in body.items() if k not in named})
    if extra:
        call["extra_body"] = extra
    return method(**call)


def recorded_objects(body: Any) -> Any:
    """What llama-stack's replay returns: each ``__data__`` validated as its ``__type__``."""

    def build(item: dict[str, Any]) -> Any:
        return resolve_type(item["__type__"]).model_validate(item["__data__"])

    return [build(item) for item in body] if isinstance(body, list) else build(body)


# --------------------------------------------------------- the real corpus --
def test_the_corpus_holds_what_the_issue_lists() -> None:
    kinds = {convert(load(p), str(p)).client for p in corpus_files()}
    assert kinds == {"openai", "other", "tool"}
    assert len(openai_recordings()) >= 25


@pytest.mark.parametrize("path", openai_recordings(), ids=lambda p: p.stem[:12])
def test_every_openai_recording_replays_to_the_recorded_objects(imported: Path, path: Path) -> None:
    recording = as_llama_stack_replays(load(path))
    request = recording["request"]
    base_url = request["url"].removesuffix(request["endpoint"])
    test_id = recording.get("test_id")
    cassette = cassette_path_for(test_id, imported) if test_id else imported / SHARED_CASSETTE
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no drift: the SDK accepts every stored payload
        with use_cassette(cassette, record_mode="none"):
            result = sdk_call(client, request["endpoint"], request["body"])
            got = list(result) if recording["response"]["is_streaming"] else result
    assert got == recorded_objects(recording["response"]["body"])
    uris = [i["request"]["uri"] for i in read_cassette(cassette)["interactions"]]
    assert not any("/v1/v1/" in uri for uri in uris)


def test_import_summary_counts_clients_and_shared_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import-llama-stack", str(CORPUS), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(corpus_files())} file(s) read" in out
    assert "recordings by client: openai 27, other 1, tool 1" in out
    assert "stream of ChatCompletionChunk" in out
    assert "untyped JSON" in out
    assert f"2 recording(s) had no test_id: they went to the shared cassette {tmp_path}" in out
    shared = read_cassette(tmp_path / SHARED_CASSETTE)["interactions"]
    assert [i["request"]["uri"] for i in shared] == [
        "http://0.0.0.0:11434/v1/chat/completions",
        "https://api.fireworks.ai/inference/v1/chat/completions",
    ]

    # Importing again changes nothing: existing cassettes are merged, not duplicated.
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")}
    assert cli.main(["import-llama-stack", str(CORPUS), "--out", str(tmp_path)]) == 0
    assert "0 cassette(s) written, 24 unchanged" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")} == before


def test_id_normalization_mapping_is_applied(imported: Path) -> None:
    path = next(CORPUS.rglob("b7c02d59e1fa*.json"))
    recording = load(path)
    assert recording["id_normalization_mapping"] == {
        "file-1": "file-5efa8a5a4b414ce98726c4e133a18747"
    }
    text = cassette_path_for(recording["test_id"], imported).read_text(encoding="utf-8")
    assert "file-5efa8a5a4b414ce98726c4e133a18747" not in text
    assert "<|file-1|>" in text


def test_ollama_native_traffic_is_imported_untyped(imported: Path) -> None:
    recording = load(next(CORPUS.rglob("acfbf9ddad33*.json")))
    cassette = read_cassette(cassette_path_for(recording["test_id"], imported))
    [ps] = [i for i in cassette["interactions"] if i["request"]["uri"].endswith("/api/ps")]
    assert ps["request"]["method"] == "GET"  # what ollama's client sends for ps()
    assert ps["request"]["body"] is None
    body = ps["response"]["body"]["json"]
    assert "__type__" not in body
    assert body["models"][0]["name"] == "llama3.2:3b"


def test_tool_invocation_becomes_a_tool_interaction(imported: Path) -> None:
    recording = load(next(CORPUS.rglob("42c357284497*.json")))
    cassette = cassette_path_for(recording["test_id"], imported)
    [stored] = read_cassette(cassette)["interactions"]
    assert stored["request"]["method"] == "TOOL"
    assert stored["request"]["uri"] == "tool://web_search"
    assert stored["request"]["body"] == {"json": {"query": "Llama 4 Maverick model experts"}}
    assert "status" not in stored["response"]
    result = stored["response"]["tool_result"]
    assert result["__type__"] == "llama_stack.apis.tools.tools.ToolInvocationResult"
    assert "128 experts" in result["__data__"]["content"]

    @tool(name="web_search")
    def web_search(query: str) -> Any:
        raise AssertionError("replay must not run the tool")

    # The recorded call matches (other arguments miss); rebuilding the result needs the
    # llama_stack package, which this suite does not install, and says so.
    with use_cassette(cassette, record_mode="none"):
        with pytest.raises(CassetteMiss):
            web_search(query="something else")
        with pytest.raises(ToolReplayError, match="ToolInvocationResult"):
            web_search(query="Llama 4 Maverick model experts")


# ------------------------------------------------------------------ the seed --
def test_the_seed_cassette_is_where_the_seed_test_looks(tmp_path: Path) -> None:
    [seed] = SEED.glob("*.json")
    recording = load(seed)
    path = cassette_path_for(recording["test_id"], REPO / "cassettes")
    assert path.is_file()
    assert path.relative_to(REPO).as_posix() == (
        "cassettes/tests/integration/responses/test_tool_responses/test_response_sequential_"
        "file_search[client_with_models-txt=openai-gpt-4o-emb=openai-text-embedding-3-small-"
        "dim=1536]-e280e4116f.yaml"
    )
    [interaction] = read_cassette(path)["interactions"]
    assert interaction["request"]["uri"] == "https://api.openai.com/v1/chat/completions"
    # The committed cassette is exactly what importing the seed gives today.
    fresh = tmp_path / "cassettes"
    assert import_llama_stack([SEED], fresh).ok
    assert cassette_path_for(recording["test_id"], fresh).read_bytes() == path.read_bytes()


def test_imported_cassette_is_found_by_the_test_with_that_id(pytester: pytest.Pytester) -> None:
    recording = load(next(CORPUS.rglob("1fd05fad28c2*.json")))  # a non-streamed chat
    recording["test_id"] = "tests/test_agent.py::TestAgent::test_turn[ollama/llama3.2:3b]"
    (pytester.path / "recordings").mkdir()
    (pytester.path / "recordings" / "r.json").write_text(json.dumps(recording))
    pytester.makeini(TREE_INI)
    assert import_llama_stack([pytester.path / "recordings"], pytester.path / "cassettes").ok
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_agent.py").write_text(
        "import json, openai, pytest\n"
        f"KWARGS = json.loads({json.dumps(json.dumps(recording['request']['body']))})\n"
        f"EXPECTED = {recording['response']['body']['__data__']['choices'][0]['message']['content']!r}\n"
        "class TestAgent:\n"
        "    @pytest.mark.vcr\n"
        "    @pytest.mark.parametrize('model', ['ollama/llama3.2:3b'])\n"
        "    def test_turn(self, model):\n"
        "        client = openai.OpenAI(base_url='http://0.0.0.0:11434/v1', api_key='sk-x',\n"
        "                               max_retries=0)\n"
        "        reply = client.chat.completions.create(**KWARGS)\n"
        "        assert reply.choices[0].message.content == EXPECTED\n"
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# ------------------------------------------------------- general recordings --
def recording_file(tmp_path: Path, recording: dict[str, Any], name: str = "r.json") -> Path:
    path = tmp_path / "recordings" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(recording))
    return path


def test_model_list_recording_replays_as_a_page(tmp_path: Path) -> None:
    models = [
        {"id": m, "created": 1, "object": "model", "owned_by": "openai"}
        for m in ("gpt-4o", "text-embedding-3-small")
    ]
    recording = {
        "test_id": "tests/test_m.py::test_models",
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/v1/models",
            "headers": {},
            "body": {},
            "endpoint": "/v1/models",
            "model": "",
        },
        "response": {
            "body": [{"__type__": "openai.types.model.Model", "__data__": m} for m in models],
            "is_streaming": False,
        },
    }
    out = tmp_path / "out"
    assert import_llama_stack([recording_file(tmp_path, recording)], out).ok
    cassette = cassette_path_for(recording["test_id"], out)
    client = openai.OpenAI(base_url="https://api.openai.com/v1", api_key=API_KEY, max_retries=0)
    with use_cassette(cassette, record_mode="none"):
        listed = list(client.models.list())
    assert listed == [Model.model_validate(m) for m in models]
    stored = read_cassette(cassette)["interactions"][0]
    assert stored["request"]["method"] == "GET"
    assert stored["response"]["body"]["json"]["data"][0]["__type__"] == "openai.types.model.Model"


def test_recorded_provider_error_replays_as_that_error(tmp_path: Path) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    error = {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}
    recording = {
        "test_id": "tests/test_e.py::test_error",
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/v1/chat/completions",
            "endpoint": "/v1/chat/completions",
            "body": body,
        },
        "response": {
            "body": None,
            "is_streaming": False,
            "is_exception": True,
            "exception_data": {
                "category": "provider_sdk",
                "provider": "openai",
                "type": "RateLimitError",
                "message": "Rate limit reached",
                "status_code": 429,
                "body": error,
            },
        },
    }
    crash = {**recording, "test_id": "tests/test_e.py::test_crash"}
    crash["response"] = {
        "body": None,
        "is_exception": True,
        "exception_data": {"category": "builtin", "type": "ValueError", "message": "boom"},
    }
    out = tmp_path / "out"
    recording_file(tmp_path, recording, "a.json")
    recording_file(tmp_path, crash, "b.json")
    summary = import_llama_stack([tmp_path / "recordings"], out)
    assert summary.ok
    assert summary.skipped == [
        (
            str(tmp_path / "recordings" / "b.json"),
            "recorded a Python exception, not an HTTP response (boom)",
        )
    ]
    client = openai.OpenAI(base_url="https://api.openai.com/v1", api_key=API_KEY, max_retries=0)
    cassette = cassette_path_for(recording["test_id"], out)
    with use_cassette(cassette, record_mode="none"), pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(**body)
    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"


def test_extra_body_is_merged_as_the_sdk_sends_it(tmp_path: Path) -> None:
    recording = load(next(CORPUS.rglob("cb4673f5ab80*.json")))  # completions with extra_body
    recording["request"]["body"]["extra_body"] = {"top_k": 3}
    out = tmp_path / "out"
    assert import_llama_stack([recording_file(tmp_path, recording)], out).ok
    [stored] = read_cassette(cassette_path_for(recording["test_id"], out))["interactions"]
    assert stored["request"]["uri"] == "http://0.0.0.0:11434/v1/completions"
    assert stored["request"]["body"]["json"]["top_k"] == 3
    assert "extra_body" not in stored["request"]["body"]["json"]


def test_bad_recordings_fail_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = load(next(CORPUS.rglob("1fd05fad28c2*.json")))
    bad_mapping = {**good, "id_normalization_mapping": ["file-1"]}
    broken = recording_file(tmp_path, good, "broken.json")
    broken.write_text('{"request": {', encoding="utf-8")
    recording_file(tmp_path, bad_mapping, "mapping.json")
    out = tmp_path / "out"
    code = cli.main(["import-llama-stack", str(tmp_path / "recordings"), "--out", str(out)])
    assert code == 1
    text = capsys.readouterr().out
    assert f"{broken}: not valid JSON" in text
    assert "mapping.json: id_normalization_mapping: expected an object of non-empty strings" in text
    assert not out.exists()


def test_an_unreadable_existing_cassette_is_left_untouched(tmp_path: Path) -> None:
    recording = load(next(CORPUS.rglob("1fd05fad28c2*.json")))
    out = tmp_path / "out"
    target = cassette_path_for(recording["test_id"], out)
    target.parent.mkdir(parents=True)
    conflict = "<<<<<<< HEAD\ninteractions: []\n=======\n>>>>>>> theirs\n"
    target.write_text(conflict, encoding="utf-8")
    summary = import_llama_stack([recording_file(tmp_path, recording)], out)
    assert not summary.ok
    [(where, why)] = summary.failed
    assert where == str(target) and why.startswith("existing cassette left untouched:")
    assert target.read_text(encoding="utf-8") == conflict


# ------------------------------------------------------------------ upgrade --
PLAIN_SUITE = """
import json, os, openai, pytest

def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key=os.environ["KEY"],
                         max_retries=0)

def keep(name, value):
    with open(os.environ["RESULTS"], "a") as handle:
        handle.write(json.dumps([name, value]) + "\\n")

@pytest.mark.vcr
def test_chat():
    reply = client().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello there"}])
    keep("chat", reply.model_dump())

@pytest.mark.vcr
def test_stream():
    stream = client().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream this"}], stream=True)
    keep("stream", [chunk.model_dump() for chunk in stream])

@pytest.mark.vcr
def test_embeddings():
    result = client().embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    keep("embeddings", result.model_dump())
"""


def results(path: Path) -> dict[str, Any]:
    return dict(json.loads(line) for line in path.read_text().splitlines())


def test_plain_pytest_recording_cassettes_upgrade_and_replay_the_same(
    pytester: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    monkeypatch.setenv("KEY", FAKE_API_KEY)
    recorded, replayed = pytester.path / "recorded.jsonl", pytester.path / "replayed.jsonl"
    pytester.makepyfile(test_plain=PLAIN_SUITE)

    monkeypatch.setenv("RESULTS", str(recorded))  # plain pytest-recording: our plugin is off
    pytester.runpytest("-p", "no:llm_cassettes", "--record-mode=once").assert_outcomes(passed=3)
    cassette_dir = pytester.path / "cassettes" / "test_plain"
    plain = {p.name: p.read_text(encoding="utf-8") for p in cassette_dir.glob("*.yaml")}
    assert sorted(plain) == ["test_chat.yaml", "test_embeddings.yaml", "test_stream.yaml"]
    assert FAKE_API_KEY in plain["test_chat.yaml"]  # plain vcrpy keeps secrets...
    assert "data: {" in plain["test_stream.yaml"]  # ...and streams as one escaped string

    assert cli.main(["upgrade", str(pytester.path / "cassettes")]) == 0
    assert "3 file(s) read, 3 cassette(s) written" in capsys.readouterr().out
    chat = read_cassette(cassette_dir / "test_chat.yaml")["interactions"][0]
    assert chat["response"]["body"]["json"]["__type__"] == (
        "openai.types.chat.chat_completion.ChatCompletion"
    )
    assert chat["request"]["body"]["json"]["model"] == "gpt-4o"
    assert chat["request"]["headers"]["authorization"] == ["<REDACTED>"]
    assert not any(h.startswith("x-ratelimit") for h in chat["response"]["headers"])
    stream = read_cassette(cassette_dir / "test_stream.yaml")["interactions"][0]
    events = stream["response"]["body"]["sse"]
    assert events["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    assert events["events"][-1] == "[DONE]"
    for path in cassette_dir.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert FAKE_API_KEY not in text and SECRET_ORGANIZATION not in text

    # Idempotent: a second upgrade leaves every byte as it is.
    upgraded = {p.name: p.read_bytes() for p in cassette_dir.glob("*.yaml")}
    assert cli.main(["upgrade", str(pytester.path / "cassettes")]) == 0
    assert "0 cassette(s) written, 3 unchanged" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in cassette_dir.glob("*.yaml")} == upgraded

    # The suite still passes, offline, with this library on, and gets the same SDK objects.
    fake_openai.stop()
    monkeypatch.setenv("RESULTS", str(replayed))
    pytester.runpytest().assert_outcomes(passed=3)
    assert results(replayed) == results(recorded)


def test_upgrade_leaves_an_unreadable_cassette_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "interactions:\n- request: {method: GET, uri: 'http://x/v1/models', body: null,"
        " headers: {}}\n  response: {status: {code: 200, message: OK}, headers: "
        '{content-type: [application/json]}, body: {string: \'{"object": "list", '
        '"data": []}\'}}\n',
        encoding="utf-8",
    )
    broken = tmp_path / "broken.yaml"
    conflict = "interactions:\n<<<<<<< HEAD\n- request: {}\n=======\n>>>>>>> theirs\n"
    broken.write_text(conflict, encoding="utf-8")
    assert cli.main(["upgrade", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}: left untouched: " in out
    assert "FAILED (1)" in out
    assert broken.read_text(encoding="utf-8") == conflict
    assert read_cassette(good)["interactions"][0]["response"]["body"] == {
        "json": {"object": "list", "data": []}
    }


def test_upgrade_is_a_library_function_too(tmp_path: Path) -> None:
    summary = upgrade([tmp_path / "missing.yaml"])
    assert not summary.ok
    [(where, why)] = summary.failed
    assert where == str(tmp_path / "missing.yaml") and "No such file" in why
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("stem", ["1fd05fad28c2", "5f9c63ee3a6e"], ids=["chat", "chat-stream"])
def test_chat_completions_labelled_completions_are_imported_where_the_sdk_calls(
    tmp_path: Path, stem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Some llama-stack recordings of ``chat.completions.create`` name ``/v1/completions``."""
    recording = load(next(CORPUS.rglob(f"{stem}*.json")))
    request = recording["request"]
    assert request["endpoint"] == "/v1/chat/completions"
    request["endpoint"] = "/v1/completions"  # as llama-stack wrote some of them
    request["url"] = request["url"].replace("/chat/completions", "/completions")
    good = load(next(CORPUS.rglob("f8d0f5a82750*.json")))  # a real completions call stays
    recording_file(tmp_path, recording, "mislabelled.json")
    recording_file(tmp_path, good, "completion.json")
    out = tmp_path / "out"
    assert cli.main(["import-llama-stack", str(tmp_path / "recordings"), "--out", str(out)]) == 0
    assert (
        "1 chat completion(s) recorded under /v1/completions (the body has 'messages', the "
        "answer is a ChatCompletion): imported at /chat/completions" in capsys.readouterr().out
    )
    cassette = cassette_path_for(recording["test_id"], out)
    [stored] = read_cassette(cassette)["interactions"]
    assert stored["request"]["uri"].endswith("/v1/chat/completions")
    [kept] = read_cassette(cassette_path_for(good["test_id"], out))["interactions"]
    assert kept["request"]["uri"].endswith("/v1/completions")

    # The SDK call the test makes now matches, and answers what llama-stack recorded.
    replayed = as_llama_stack_replays(recording)
    base_url = request["url"].removesuffix("/v1/completions")
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
    with use_cassette(cassette, record_mode="none", allow_unused=False):
        result = sdk_call(client, "/v1/chat/completions", replayed["request"]["body"])
        got = list(result) if replayed["response"]["is_streaming"] else result
    assert got == recorded_objects(replayed["response"]["body"])
