"""Tool calls recorded and replayed in the test's cassette, next to the model calls around them.

Every test records with the real tool and the real ``openai`` SDK against the local
server, then replays with the server stopped and the tool replaced by one that fails
if it is called: a passing replay proves the cassette answered.
"""

from __future__ import annotations

import asyncio
import http.client
import inspect
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel, ConfigDict

from llm_cassettes import (
    CassetteMiss,
    ToolPatcher,
    ToolRecordError,
    ToolReplayError,
    current_cassette,
    tool,
    use_cassette,
)
from tests._support import QUESTION, TOOLS, TREE_INI, client_for, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI, ReceivedRequest


class Chunk(BaseModel):
    document_id: str
    score: float
    text: str


class SearchResult(BaseModel):
    query: str
    chunks: list[Chunk]


@dataclass(frozen=True)
class Forecast:
    city: str
    temperatures: tuple[float, ...]
    source: dict[str, Any]


class IndexMissing(Exception):
    """A tool error defined next to the tool: replay may rebuild it."""


def must_not_run(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the real tool ran during replay")


def search_result(query: str) -> SearchResult:
    chunk = Chunk(
        document_id="file-5217982280",
        score=2.57802841833685,
        text="The Llama 4 Maverick model has 128 experts.",
    )
    return SearchResult(query=query, chunks=[chunk])


def run_agent(client: openai.OpenAI, search: Any) -> tuple[str, Any]:
    """Model asks for knowledge_search, the tool runs, the model answers."""
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    result = search(**json.loads(call.function.arguments))
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": result.chunks[0].text})
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    return final.choices[0].message.content, result


def test_agent_loop_records_the_tool_and_replays_offline(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "agent.yaml"
    calls: list[str] = []

    @tool(name="knowledge_search")
    def live_search(query: str, limit: int = 3) -> SearchResult:
        calls.append(query)
        return search_result(query)

    with use_cassette(path, record_mode="once"):
        answer, result = run_agent(client_for(fake_openai), live_search)
    assert answer == "Based on the tool: The Llama 4 Maverick model has 128 experts."
    assert calls == [QUESTION]

    stored = read_cassette(path)["interactions"]
    assert [(i["request"]["method"], i["request"]["uri"].split("/")[-1]) for i in stored] == [
        ("POST", "completions"),
        ("TOOL", "knowledge_search"),
        ("POST", "completions"),
    ]
    request, response = stored[1]["request"], stored[1]["response"]
    assert request["uri"] == "tool://knowledge_search"
    assert request["body"] == {"json": {"query": QUESTION, "limit": 3}}
    assert response["tool_result"]["__type__"] == "tests.recording.test_tools.SearchResult"
    assert response["tool_result"]["__data__"]["chunks"][0]["score"] == 2.57802841833685
    assert "status" not in response

    fake_openai.stop()
    served = len(fake_openai.requests)
    replay_search = tool(name="knowledge_search")(_same_signature(must_not_run))
    with use_cassette(path, record_mode="none"):  # loaded from disk: a fresh cassette
        replayed_answer, replayed = run_agent(client_for(fake_openai), replay_search)
    assert replayed_answer == answer
    assert type(replayed) is SearchResult and replayed == result
    assert len(fake_openai.requests) == served


def _same_signature(fn: Any) -> Any:
    """``fn`` with the live tool's signature, so its calls bind the same arguments."""

    def knowledge_search(query: str, limit: int = 3) -> SearchResult:
        return fn(query, limit)

    return knowledge_search


def test_async_agent_loop_with_a_dataclass_result(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "async.yaml"

    async def agent(get_forecast: Any) -> tuple[str, Forecast]:
        async with openai.AsyncOpenAI(
            base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0
        ) as client:
            tools = [{**TOOLS[0], "function": {**TOOLS[0]["function"], "name": "forecast"}}]
            messages: list[Any] = [{"role": "user", "content": "Paris"}]
            first = await client.chat.completions.create(
                model="gpt-4o", messages=messages, tools=tools
            )
            call = first.choices[0].message.tool_calls[0]
            forecast = await get_forecast(json.loads(call.function.arguments)["query"])
            messages.append(first.choices[0].message.model_dump(exclude_none=True))
            content = f"{forecast.city}: {forecast.temperatures[0]}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
            final = await client.chat.completions.create(
                model="gpt-4o", messages=messages, tools=tools
            )
            return final.choices[0].message.content, forecast

    @tool
    async def forecast(city: str) -> Forecast:
        await asyncio.sleep(0)
        return Forecast(city=city, temperatures=(21.5, 19.0), source={"provider": "meteo"})

    with use_cassette(path, record_mode="once"):
        answer, recorded = asyncio.run(agent(forecast))
    assert answer == "Based on the tool: Paris: 21.5"
    fake_openai.stop()

    @tool(name="forecast")
    async def offline(city: str) -> Forecast:
        raise AssertionError("the real tool ran during replay")

    assert inspect.iscoroutinefunction(offline)
    with use_cassette(path, record_mode="none"):
        replayed_answer, replayed = asyncio.run(agent(offline))
    assert replayed_answer == answer
    assert type(replayed) is Forecast and replayed == recorded
    assert type(replayed.temperatures) is tuple


def test_outside_a_cassette_a_tool_is_a_plain_call() -> None:
    calls: list[str] = []

    @tool
    def lookup(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert current_cassette() is None
    assert lookup("a") == "A" and lookup("a") == "A"
    assert calls == ["a", "a"]
    assert lookup.__name__ == "lookup" and lookup.__wrapped__ is not None  # type: ignore[attr-defined]


def test_raised_exceptions_replay_as_the_same_type_and_message(tmp_path: Path) -> None:
    path = tmp_path / "errors.yaml"

    def tools(impl: Any) -> tuple[Any, Any, Any]:
        def lookup(key: str) -> dict[str, Any]:
            return impl("lookup", key)

        def search(index: str) -> list[str]:
            return impl("search", index)

        def fetch(url: str) -> str:
            return impl("fetch", url)

        return tool(lookup), tool(search), tool(fetch)

    def live(which: str, value: str) -> Any:
        if which == "lookup":
            raise KeyError(value)
        if which == "search":
            raise IndexMissing(f"no index named {value!r}")
        raise http.client.HTTPException(f"cannot fetch {value}")

    def run(impl: Any) -> list[BaseException]:
        lookup, search, fetch = tools(impl)
        caught = []
        for fn, arg in ((lookup, "k"), (search, "docs"), (fetch, "https://example.org")):
            with pytest.raises(Exception) as info:
                fn(arg)
            caught.append(info.value)
        return caught

    with use_cassette(path, record_mode="once"):
        recorded = run(live)
    assert [type(e) for e in recorded] == [KeyError, IndexMissing, http.client.HTTPException]

    with use_cassette(path, record_mode="none"):
        replayed = run(must_not_run)
    assert type(replayed[0]) is KeyError and str(replayed[0]) == str(recorded[0]) == "'k'"
    assert type(replayed[1]) is IndexMissing and str(replayed[1]) == "no index named 'docs'"
    # http.client may not be imported from a cassette: a stand-in that says what was raised.
    assert type(replayed[2]) is ToolReplayError
    assert replayed[2].type_name == "http.client.HTTPException"
    assert replayed[2].message == "cannot fetch https://example.org"
    assert "tool 'fetch' raised http.client.HTTPException" in str(replayed[2])


def test_streamed_tool_output_replays_item_by_item(tmp_path: Path) -> None:
    path = tmp_path / "streams.yaml"
    consumed: list[str] = []

    @tool
    def read_chunks(query: str) -> Iterator[Chunk]:
        for n in range(2):
            consumed.append(f"chunk {n}")
            yield Chunk(document_id=f"doc-{n}", score=n / 3, text=f"{query} {n}")
        raise RuntimeError("connection reset after 2 chunks")

    @tool
    async def tokens(prompt: str) -> AsyncIterator[str]:
        for word in prompt.split():
            await asyncio.sleep(0)
            yield word

    async def collect(stream: AsyncIterator[str]) -> list[str]:
        return [item async for item in stream]

    def run(chunks_tool: Any, tokens_tool: Any) -> tuple[list[Chunk], str, list[str]]:
        stream = chunks_tool("experts")
        assert inspect.isgenerator(stream)
        items = []
        with pytest.raises(RuntimeError) as failure:
            items.extend(stream)  # keeps the items that came before the failure
        words_stream = tokens_tool("one two three")
        assert inspect.isasyncgen(words_stream)
        return items, str(failure.value), asyncio.run(collect(words_stream))

    with use_cassette(path, record_mode="once"):
        recorded = run(read_chunks, tokens)
    assert consumed == ["chunk 0", "chunk 1"]  # recorded while consumed, not read ahead
    stored = read_cassette(path)["interactions"]
    assert [i["response"].get("tool_error", {}).get("message") for i in stored] == [
        "connection reset after 2 chunks",
        None,
    ]
    assert stored[1]["response"]["tool_async_stream"] == ["one", "two", "three"]

    @tool(name="read_chunks")
    def offline_chunks(query: str) -> Iterator[Chunk]:
        yield must_not_run()

    @tool(name="tokens")
    async def offline_tokens(prompt: str) -> AsyncIterator[str]:
        yield must_not_run()

    with use_cassette(path, record_mode="none"):
        replayed = run(offline_chunks, offline_tokens)
    assert replayed == recorded
    assert all(type(item) is Chunk for item in replayed[0])


def test_a_consumer_that_stops_early_closes_the_tool_at_once(tmp_path: Path) -> None:
    """Breaking out of a streamed tool's output runs the tool's own ``finally`` (it holds a
    connection or a file) then, sync and async; the items seen are what is recorded."""
    path = tmp_path / "early.yaml"
    events: list[str] = []

    @tool
    def rows(table: str) -> Iterator[str]:
        try:
            for n in range(5):
                yield f"{table} row {n}"
        finally:
            events.append("rows closed")

    @tool
    async def words(text: str) -> AsyncIterator[str]:
        try:
            for word in text.split():
                await asyncio.sleep(0)
                yield word
        finally:
            events.append("words closed")

    async def first_word(stream: AsyncIterator[str]) -> str:
        async for word in stream:
            await stream.aclose()  # type: ignore[attr-defined]
            events.append("async consumer stopped")
            return word
        raise AssertionError("no word")

    with use_cassette(path, record_mode="once"):
        stream = rows("users")
        assert next(stream) == "users row 0"
        stream.close()
        events.append("sync consumer stopped")
        assert asyncio.run(first_word(words("one two three"))) == "one"
    assert events == [
        "rows closed",
        "sync consumer stopped",
        "words closed",
        "async consumer stopped",
    ]
    stored = [i["response"] for i in read_cassette(path)["interactions"]]
    assert stored[0]["tool_stream"] == ["users row 0"]
    assert stored[1]["tool_async_stream"] == ["one"]

    events.clear()
    with use_cassette(path, record_mode="none"):  # replayed: the same items, no tool runs
        stream = rows("users")
        assert next(stream) == "users row 0"
        stream.close()
        assert asyncio.run(first_word(words("one two three"))) == "one"
    assert events == ["async consumer stopped"]


def test_changed_arguments_miss_with_an_explanation(tmp_path: Path) -> None:
    path = tmp_path / "miss.yaml"
    knowledge_search = tool(name="knowledge_search")(_same_signature(search_result_for))
    with use_cassette(path, record_mode="once"):
        knowledge_search("Llama 4 experts")
    offline = tool(name="knowledge_search")(_same_signature(must_not_run))
    with pytest.raises(CassetteMiss) as miss, use_cassette(path, record_mode="none"):
        offline("Llama 4 Scout experts")
    message = str(miss.value)
    assert "No recorded interaction matches TOOL tool://knowledge_search" in message
    assert "query: recorded 'Llama 4 experts' | live 'Llama 4 Scout experts'" in message
    assert "miss.yaml" in message and "record mode: none" in message


def search_result_for(query: str, limit: int = 3) -> SearchResult:
    return search_result(query)


def test_volatile_ids_in_arguments_are_normalized(tmp_path: Path) -> None:
    path = tmp_path / "ids.yaml"

    @tool
    def read_file(file_id: str, call_id: str) -> str:
        return f"contents of {file_id}"

    with use_cassette(path, record_mode="once"):
        read_file("file-BK7bzQj3FfZFXr7DbL6xJwfo", "call_zS2WxgXWetjnlPt2MzH9Asrc")

    @tool(name="read_file")
    def offline(file_id: str, call_id: str) -> str:
        raise AssertionError("the real tool ran during replay")

    with use_cassette(path, record_mode="none"):  # a new run: new ids from the service
        got = offline("file-Zq81LmN2XcVb7RtY0pQwErTy", "call_N4kD8sLq2WmX9vB7cJ5hG3fA")
    assert got == "contents of file-BK7bzQj3FfZFXr7DbL6xJwfo"


def test_record_modes_apply_as_to_http(tmp_path: Path) -> None:
    path = tmp_path / "modes.yaml"
    runs: list[str] = []

    @tool
    def roll(seed: str) -> str:
        runs.append(seed)
        return f"{seed}-{len(runs)}"

    with use_cassette(path, record_mode="once"):
        first = [roll("a"), roll("a"), roll("b")]
    assert first == ["a-1", "a-2", "b-3"]

    with use_cassette(path, record_mode="none"):  # identical calls: recorded order
        assert [roll("a"), roll("a"), roll("b")] == first
    with pytest.raises(CassetteMiss), use_cassette(path, record_mode="once"):
        roll("c")  # "once" does not add to an existing cassette
    with (
        pytest.raises(CassetteMiss, match="all were already played"),
        use_cassette(path, record_mode="none"),
    ):
        roll("b"), roll("b")
    assert len(runs) == 3  # no replay above ran the tool

    with use_cassette(path, record_mode="new_episodes"):
        assert [roll("a"), roll("c")] == ["a-1", "c-4"]  # old replayed, new recorded
    with use_cassette(path, record_mode="all"):
        assert roll("a") == "a-5"  # "all" always runs the tool
    with use_cassette(path, record_mode="none"):
        assert roll("c") == "c-4"
    assert runs == ["a", "a", "b", "c", "a"]


def test_values_that_cannot_be_stored_fail_at_record_time(tmp_path: Path) -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        name: str
        connection: socket.socket

    @tool
    def with_object(query: str) -> dict[str, Any]:
        return {"hits": [{"text": "ok", "handle": object()}]}

    @tool
    def with_model(query: str) -> Loose:
        return Loose(name="x", connection=sock)

    @tool
    def with_client(client: Any, query: str) -> str:
        return "ok"

    @tool(ignore=["client"])
    def ignoring_client(client: Any, query: str) -> str:
        return "ok"

    with socket.socket() as sock, use_cassette(tmp_path / "bad.yaml", record_mode="once"):
        with pytest.raises(ToolRecordError, match=r"tool 'with_object'.*result\.hits\[0\]\.handle"):
            with_object("q")
        with pytest.raises(ToolRecordError, match=r"tool 'with_model'.*result\.connection"):
            with_model("q")
        with pytest.raises(ToolRecordError, match=r"tool 'with_client'.*argument 'client'"):
            with_client(sock, "q")
        assert ignoring_client(sock, "q") == "ok"
    stored = read_cassette(tmp_path / "bad.yaml")["interactions"]
    assert [i["request"]["body"] for i in stored] == [{"json": {"query": "q"}}]


def test_types_from_other_modules_need_to_be_allowed(tmp_path: Path) -> None:
    path = tmp_path / "types.yaml"
    request = ReceivedRequest("GET", "/v1/models", {}, {}, b"", None)

    @tool
    def last_request() -> ReceivedRequest:
        return request

    with use_cassette(path, record_mode="once"):
        last_request()
    text = path.read_text()
    assert "__type__: tests._support.fake_openai.ReceivedRequest" in text

    with (
        pytest.raises(ToolReplayError, match="tests._support.fake_openai.ReceivedRequest.*types="),
        use_cassette(path, record_mode="none"),
    ):
        tool(name="last_request")(must_not_run)()
    with use_cassette(path, record_mode="none"):
        assert tool(name="last_request", types=[ReceivedRequest])(must_not_run)() == request

    # A cassette naming something else is never imported.
    path.write_text(text.replace("tests._support.fake_openai.ReceivedRequest", "os.system"))
    with (
        pytest.raises(ToolReplayError, match="'os.system' may not be imported"),
        use_cassette(path, record_mode="none"),
    ):
        tool(name="last_request")(must_not_run)()


def test_sdk_results_replay_typed_without_being_listed(tmp_path: Path) -> None:
    """Tool-runtime results from an allowlisted SDK (openai, llama-stack) need no types=."""
    from openai.types import VectorStoreSearchResponse

    path = tmp_path / "sdk.yaml"
    hit = VectorStoreSearchResponse.model_validate(
        {
            "file_id": "file-5217982280",
            "filename": "maverick.txt",
            "score": 0.91,
            "attributes": {"year": 2025},
            "content": [{"type": "text", "text": "128 experts"}],
        }
    )
    with use_cassette(path, record_mode="once"):
        tool(name="vector_search")(lambda query: [hit])("experts")
    with use_cassette(path, record_mode="none"):
        replayed = tool(name="vector_search")(lambda query: must_not_run())("experts")
    assert replayed == [hit] and type(replayed[0]) is VectorStoreSearchResponse


class KnowledgeBase:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    @tool
    def search(self, query: str) -> list[str]:
        self.calls += 1
        return [f"{self.name}: {query}"]


def test_methods_record_without_self_and_patching_objects(
    tmp_path: Path, llm_tools: ToolPatcher
) -> None:
    path = tmp_path / "methods.yaml"
    base = KnowledgeBase("docs")

    class Store:
        def lookup(self, key: str) -> dict[str, int]:
            return {key: 1}

    store = Store()
    patched = llm_tools.patch(store, "lookup")
    assert patched is store.lookup and Store.lookup is not patched
    with use_cassette(path, record_mode="once"):
        assert base.search("experts") == ["docs: experts"]
        assert store.lookup("k") == {"k": 1}
    stored = read_cassette(path)["interactions"]
    assert [(i["request"]["uri"], i["request"]["body"]) for i in stored] == [
        ("tool://search", {"json": {"query": "experts"}}),
        ("tool://lookup", {"json": {"key": "k"}}),
    ]
    other = KnowledgeBase("other")
    with use_cassette(path, record_mode="none"):
        assert other.search("experts") == ["docs: experts"]
    assert other.calls == 0
    llm_tools.undo()
    assert "lookup" not in vars(store)


BACKEND = """
import os

def knowledge_search(query: str) -> dict:
    if os.environ.get("TOOLS_OFFLINE"):
        raise AssertionError("the live search ran during replay")
    return {"text": "The Llama 4 Maverick model has 128 experts.", "query": query}
"""

TEST_AGENT = """
import json, os, openai, pytest
import backend

TOOLS = [{"type": "function", "function": {"name": "knowledge_search", "parameters": {}}}]

@pytest.mark.vcr
def test_agent(llm_tools):
    llm_tools.patch("backend.knowledge_search")
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
    messages = [{"role": "user", "content": "How many experts?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    result = backend.knowledge_search(**json.loads(call.function.arguments))
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": result["text"]}]
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert final.choices[0].message.content == "Based on the tool: " + result["text"]

def test_patch_is_undone_after_the_test():
    assert not hasattr(backend.knowledge_search, "__llm_tool__")
"""


def test_llm_tools_fixture_records_a_callable_the_test_does_not_own(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makeini(TREE_INI)
    pytester.makepyfile(backend=BACKEND, test_agent=TEST_AGENT)
    pytester.syspathinsert()
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=2)
    stored = read_cassette(pytester.path / "cassettes" / "test_agent" / "test_agent.yaml")
    methods = [i["request"]["method"] for i in stored["interactions"]]
    assert methods == ["POST", "TOOL", "POST"]
    assert stored["interactions"][1]["response"]["tool_result"]["query"] == "How many experts?"

    # "rewrite" starts the cassette afresh: the tool runs again and is recorded once.
    pytester.runpytest("--record-mode=rewrite").assert_outcomes(passed=2)
    rewritten = read_cassette(pytester.path / "cassettes" / "test_agent" / "test_agent.yaml")
    assert [i["request"]["method"] for i in rewritten["interactions"]] == methods

    fake_openai.stop()
    monkeypatch.setenv("TOOLS_OFFLINE", "1")
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_cassette_that_fails_to_save_does_not_stay_current(tmp_path: Path) -> None:
    """Otherwise every later test's tools would record into that dead cassette."""
    calls: list[str] = []

    @tool
    def lookup(key: str) -> str:
        calls.append(key)
        return key

    blocked = tmp_path / "blocked"
    with pytest.raises(OSError), use_cassette(blocked / "c.yaml", record_mode="once"):
        lookup("recorded")
        blocked.write_text("a file where the cassette's directory should be")
    assert current_cassette() is None
    assert lookup("plain") == "plain" and calls == ["recorded", "plain"]


def test_only_bound_methods_drop_their_receiver(tmp_path: Path) -> None:
    """A plain function whose first parameter is called ``self`` keeps that argument."""
    path = tmp_path / "receivers.yaml"

    @tool
    def score(self: str, text: str) -> str:
        return f"{self}:{text}"

    class Scorer:
        @tool
        def rate(self, text: str) -> int:
            return len(text)

        @classmethod
        @tool
        def make(cls, name: str) -> str:
            return name

    with use_cassette(path, record_mode="once"):
        assert score("ham", "hi") == "ham:hi"
        assert Scorer().rate("abc") == 3
        assert Scorer.make("x") == "x"
        assert Scorer().make("y") == "y"
    stored = [i["request"]["body"]["json"] for i in read_cassette(path)["interactions"]]
    assert stored == [{"self": "ham", "text": "hi"}, {"text": "abc"}, {"name": "x"}, {"name": "y"}]
    with use_cassette(path, record_mode="none"):
        assert score("ham", "hi") == "ham:hi"
        with pytest.raises(CassetteMiss):
            score("spam", "hi")  # replayed 'ham' before: the first argument is data
        assert Scorer().rate("abc") == 3
        assert Scorer.make("x") == "x" and Scorer().make("y") == "y"
