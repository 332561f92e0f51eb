"""Streams behave with a cassette as without one: chunks pass through while recording, a
client that stops early closes the connection, replay delivers one event per read.

Every test talks to the fake OpenAI server over a real socket, through the real openai
SDK (sync and async) and through raw ``httpx2`` and ``httpx`` clients (what the
Anthropic and Google SDKs, and hand-written clients, use). The server's own log
(``FakeOpenAI.streams``) says what it sent and how each stream ended, so "the client got
the first chunk while the server was still sending" and "the client's early exit closed
the connection" are facts the server saw, not timings.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest

from llm_cassettes import IncompleteStreamError, use_cassette
from tests._support import TREE_INI, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

#: The question every stream answers: "Echo: " and these twelve words, one event each.
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
MESSAGES = [{"role": "user", "content": WORDS}]
#: Events of that answer: role, "Echo:", 12 words, finish, [DONE].
EVENTS = 16

SYNC_KINDS = ["openai", "httpx2", "httpx"]
KINDS = [*SYNC_KINDS, "openai-async", "httpx2-async", "httpx-async"]


class Stop(Exception):
    """Raised by a test's callback to end reading (the test fails mid-stream)."""


def read_stream(
    kind: str,
    base_url: str,
    *,
    stop_after: int | None = None,
    on_event: Callable[[int], None] | None = None,
    close: bool = True,
) -> list[str]:
    """Stream the answer to :data:`MESSAGES` as client ``kind`` does; what it received.

    The openai SDK gives each chunk's JSON, raw clients each event's data line.
    ``stop_after``: break out after that many events (and close, unless ``close`` is
    False: the stream is then left open). ``on_event(n)`` runs after the n-th event.
    """
    if kind.endswith("-async"):
        return asyncio.run(_read_async(kind[: -len("-async")], base_url, stop_after, on_event))
    received: list[str] = []
    note = _Received(received, stop_after, on_event)

    if kind == "openai":
        client = openai.OpenAI(base_url=base_url, api_key=FAKE_API_KEY, max_retries=0)
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        for chunk in stream:
            if note(chunk.model_dump_json()):
                break
        if close:
            stream.close()
        else:
            _LEFT_OPEN.append(stream)
        return received
    module = {"httpx2": httpx2, "httpx": httpx}[kind]
    with module.Client() as raw, raw.stream(**_raw_request(base_url)) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and note(line[len("data: ") :]):
                break
    return received


class _Received:
    """Notes each event a reader got; answers whether to stop reading (``stop_after``)."""

    def __init__(
        self, received: list[str], stop_after: int | None, on_event: Callable[[int], None] | None
    ) -> None:
        self.received, self.stop_after, self.on_event = received, stop_after, on_event

    def __call__(self, data: str) -> bool:
        self.received.append(data)
        if self.on_event is not None:
            self.on_event(len(self.received))
        return self.stop_after is not None and len(self.received) >= self.stop_after


#: Streams a test left open on purpose (kept referenced until the test ends).
_LEFT_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _forget_open_streams() -> Any:
    yield
    _LEFT_OPEN.clear()


async def _read_async(
    kind: str,
    base_url: str,
    stop_after: int | None,
    on_event: Callable[[int], None] | None,
) -> list[str]:
    received: list[str] = []
    note = _Received(received, stop_after, on_event)

    if kind == "openai":
        async with openai.AsyncOpenAI(
            base_url=base_url, api_key=FAKE_API_KEY, max_retries=0
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            )
            async for chunk in stream:
                if note(chunk.model_dump_json()):
                    break
            await stream.close()
        return received
    module = {"httpx2": httpx2, "httpx": httpx}[kind]
    async with module.AsyncClient() as raw, raw.stream(**_raw_request(base_url)) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and note(line[len("data: ") :]):
                break
    return received


def _raw_request(base_url: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{base_url}/chat/completions",
        "json": {"model": "gpt-4o", "messages": MESSAGES, "stream": True},
        "headers": {"authorization": f"Bearer {FAKE_API_KEY}"},
    }


def stored_body(path: Path, index: int = 0) -> dict[str, Any]:
    return read_cassette(path)["interactions"][index]["response"]["body"]


# ----------------------------------------------------------------------- pass-through --
@pytest.mark.parametrize("kind", KINDS)
def test_each_chunk_reaches_the_client_while_the_server_is_still_sending(
    kind: str, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    # The server sends two events, then waits for the test: a client that gets its first
    # event only once the whole body is read (vcrpy's stub) would find it all sent.
    fake = fake_openai_factory(hold_after=2)
    server_when_first_arrived: list[tuple[int, str]] = []

    def on_event(n: int) -> None:
        if n == 1:
            log = fake.streams[0]
            server_when_first_arrived.append((log.sent, log.outcome))
            fake.release()

    cassette = tmp_path / "stream.yaml"
    with use_cassette(cassette, record_mode="once"):
        live = read_stream(kind, fake.base_url, on_event=on_event)

    assert len(server_when_first_arrived) == 1
    sent, outcome = server_when_first_arrived[0]
    assert outcome == "" and sent <= 2, "the first event came only after the server finished"
    assert fake.streams[0].wait() == "complete"
    body = stored_body(cassette)
    assert len(body["sse"]["events"]) == EVENTS
    assert "complete" not in body and "offsets_ms" not in body["sse"]  # a complete stream
    fake.stop()
    with use_cassette(cassette, record_mode="none"):
        assert read_stream(kind, fake.base_url) == live


@pytest.mark.parametrize("kind", ["openai", "openai-async"])
def test_the_first_chunk_comes_as_early_while_recording_as_without_a_cassette(
    kind: str, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    """Measured as a user sees it (the timing goal itself is benchmarks/bench_stream_recording.py):
    the stream lasts at least 15 x 40 ms, the first chunk must come in well under half."""
    delay = 0.04
    fake = fake_openai_factory(chunk_delay=delay)

    def first_chunk_time() -> float:
        started = time.perf_counter()
        first: list[float] = []
        read_stream(
            kind,
            fake.base_url,
            on_event=lambda n: first.append(time.perf_counter() - started) if n == 1 else None,
        )
        return first[0]

    without_cassette = first_chunk_time()
    with use_cassette(tmp_path / "timed.yaml", record_mode="once"):
        while_recording = first_chunk_time()
    stream_lasts_at_least = (EVENTS - 1) * delay
    assert while_recording < without_cassette + stream_lasts_at_least / 2, (
        f"first chunk after {while_recording:.3f} s while recording, "
        f"{without_cassette:.3f} s without a cassette"
    )


def test_a_secret_split_across_two_chunks_is_still_redacted(tmp_path: Path) -> None:
    """Scrubbing sees the assembled body when the cassette is saved, not each chunk."""
    import socket
    import threading

    secret = FAKE_API_KEY
    half = len(secret) // 2
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for part in (f'data: {{"echo": "{secret[:half]}', f'{secret[half:]}"}}\n\n'):
                data = part.encode()
                connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                time.sleep(0.05)  # two reads for the client
            connection.sendall(b"0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    chunks = []
    cassette = tmp_path / "split.yaml"
    with (
        use_cassette(cassette, record_mode="once"),
        httpx2.Client() as client,
        client.stream(
            "POST",
            f"http://127.0.0.1:{port}/v1/echo",
            headers={"authorization": f"Bearer {secret}"},
            json={},
        ) as response,
    ):
        chunks = list(response.iter_raw())
    thread.join(5)
    listener.close()
    assert len(chunks) == 2 and secret not in chunks[0].decode()  # really split on the wire
    text = cassette.read_text(encoding="utf-8")
    assert secret not in text and secret[:half] not in text and secret[half:] not in text
    assert "<REDACTED>" in text


# -------------------------------------------------------------------------- early exit --
@pytest.mark.parametrize("kind", KINDS)
def test_a_client_that_stops_early_closes_the_connection_and_the_stream_is_recorded_cut_short(
    kind: str, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.05)
    cassette = tmp_path / "early.yaml"
    with use_cassette(cassette, record_mode="once"):
        live = read_stream(kind, fake.base_url, stop_after=3)
        # The server sees the client go at once, long before the end of the answer.
        assert fake.streams[0].wait() == "client went away"
    assert fake.streams[0].sent < EVENTS - 2

    body = stored_body(cassette)
    assert body["complete"] is False and "error" not in body
    assert 3 <= len(body["sse"]["events"]) <= fake.streams[0].sent

    fake.stop()
    with use_cassette(cassette, record_mode="none", allow_playback_repeats=True):
        assert read_stream(kind, fake.base_url, stop_after=3) == live  # ends the same way
        # A client that reads on finds the end of what was recorded, said plainly.
        with pytest.raises(IncompleteStreamError, match="early.yaml.*complete: false"):
            read_stream(kind, fake.base_url)


def test_a_stream_left_open_is_recorded_and_closed_when_the_cassette_closes(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.05)
    cassette = tmp_path / "left-open.yaml"
    with use_cassette(cassette, record_mode="once"):
        read_stream("openai", fake.base_url, stop_after=2, close=False)
        assert fake.streams[0].outcome == ""  # still open: the SDK's stream is referenced
    assert fake.streams[0].wait() == "client went away"
    assert stored_body(cassette)["complete"] is False


def test_a_test_failing_mid_stream_closes_the_connection_and_keeps_what_arrived(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.05)
    cassette = tmp_path / "failed.yaml"

    def fail(n: int) -> None:
        if n == 4:
            raise Stop

    with pytest.raises(Stop), use_cassette(cassette, record_mode="once"):
        read_stream("openai", fake.base_url, on_event=fail)
    assert fake.streams[0].wait() == "client went away"
    body = stored_body(cassette)
    assert body["complete"] is False and len(body["sse"]["events"]) >= 4


def test_an_async_stream_dropped_with_its_event_loop_is_recorded_cut_short(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.05)
    cassette = tmp_path / "dropped.yaml"

    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0)
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            break  # neither the stream nor the client is closed: the loop's end drops them

    with use_cassette(cassette, record_mode="once"):
        asyncio.run(main())
    assert fake.streams[0].wait() == "client went away"
    assert stored_body(cassette)["complete"] is False


# ------------------------------------------------------------------ the server breaks off --
def _error_chain(exc: BaseException) -> list[type[BaseException]]:
    """The class the client catches; for the SDK, also the httpx error it wraps."""
    if isinstance(exc, openai.APIError):
        return [type(exc), type(exc.__cause__)]
    return [type(exc)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_drops_mid_stream_gives_the_same_error_live_and_on_replay(
    kind: str, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(drop_after=5)
    received: list[int] = []

    def count(n: int) -> None:
        received.append(n)

    def failure(**kwargs: Any) -> list[type[BaseException]]:
        received.clear()
        with pytest.raises(Exception) as caught:
            read_stream(kind, fake.base_url, on_event=count, **kwargs)
        return _error_chain(caught.value)

    without_cassette = failure()
    cassette = tmp_path / "dropped.yaml"
    with use_cassette(cassette, record_mode="once"):
        while_recording = failure()
    assert while_recording == without_cassette
    assert received == [1, 2, 3, 4, 5]
    assert "RemoteProtocolError" in {cls.__name__ for cls in while_recording}

    body = stored_body(cassette)
    assert body["complete"] is False
    assert body["error"]["type"] == "RemoteProtocolError"
    assert "incomplete chunked read" in body["error"]["message"]
    assert len(body["sse"]["events"]) == 5

    fake.stop()
    with use_cassette(cassette, record_mode="none"):
        assert failure() == without_cassette
    assert received == [1, 2, 3, 4, 5]


# ------------------------------------------------------------------------------- timing --
def test_timing_is_recorded_only_when_asked_and_replayed_at_the_asked_speed(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    delay = 0.03
    fake = fake_openai_factory(chunk_delay=delay)
    timed, untimed = tmp_path / "timed.yaml", tmp_path / "untimed.yaml"
    with use_cassette(timed, record_mode="once", stream_timing="record"):
        live = read_stream("openai", fake.base_url)
    with use_cassette(untimed, record_mode="once"):
        read_stream("openai", fake.base_url)

    assert "offsets_ms" not in stored_body(untimed)["sse"]
    offsets = stored_body(timed)["sse"]["offsets_ms"]
    assert len(offsets) == EVENTS
    assert offsets == sorted(offsets)
    # Offsets count from the request: the server slept before each event after the first.
    assert offsets[-1] >= (EVENTS - 1) * delay * 1000 - 1
    assert "offsets_ms: [" in timed.read_text(encoding="utf-8")  # one line, not 16
    fake.stop()

    def replay(**options: Any) -> float:
        started = time.perf_counter()
        with use_cassette(timed, record_mode="none", **options):
            assert read_stream("openai", fake.base_url) == live
        return time.perf_counter() - started

    assert replay(replay_speed=1.0) >= offsets[-1] / 1000
    assert replay(replay_speed=2.0) >= offsets[-1] / 2000
    replay()  # 0, the default: at once (how fast is the benchmark's to say)


@pytest.mark.parametrize("kind", ["openai-async", "httpx-async"])
def test_async_replay_keeps_the_pace_too(
    kind: str, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.02)
    cassette = tmp_path / "timed.yaml"
    with use_cassette(cassette, record_mode="once", stream_timing="record"):
        live = read_stream(kind, fake.base_url)
    fake.stop()
    last = stored_body(cassette)["sse"]["offsets_ms"][-1]
    started = time.perf_counter()
    with use_cassette(cassette, record_mode="none", replay_speed=1.0):
        assert read_stream(kind, fake.base_url) == live
    assert time.perf_counter() - started >= last / 1000


def test_default_recordings_stay_byte_identical(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    """No timing, no marker: the same traffic recorded twice gives the same file."""
    files = []
    port = 0
    for name in ("first.yaml", "second.yaml"):
        fake = fake_openai_factory(deterministic=True, chunk_delay=0.01, port=port)
        port = fake.port  # the second server on the same address
        with use_cassette(tmp_path / name, record_mode="once"):
            read_stream("openai", fake.base_url)
            read_stream("httpx2", fake.base_url)
        fake.stop()
        files.append((tmp_path / name).read_bytes())
    first, second = (text.replace(b"recorded: '", b"") for text in files)
    assert first == second
    assert b"complete:" not in first and b"offsets_ms" not in first


@pytest.mark.parametrize(
    ("option", "value"),
    [("stream_timing", "always"), ("replay_speed", -1), ("stream_chunking", "lines")],
)
def test_a_bad_stream_option_is_refused_naming_it(option: str, value: Any, tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match=option),
        use_cassette(tmp_path / "x.yaml", **{option: value}),
    ):
        pass


# ------------------------------------------------------------------- replay framing --
def _record_raw(tmp_path: Path, fake: FakeOpenAI, **options: Any) -> tuple[Path, list[bytes]]:
    """Record one stream through raw httpx2; the bytes of each event as the server sent it."""
    cassette = tmp_path / "framing.yaml"
    with (
        use_cassette(cassette, record_mode="once", **options),
        httpx2.Client() as client,
        client.stream(**_raw_request(fake.base_url)) as response,
    ):
        body = response.read()
    events = [event + b"\n\n" for event in body.split(b"\n\n") if event]
    return cassette, events


@pytest.mark.parametrize("module", [httpx2, httpx], ids=["httpx2", "httpx"])
def test_replay_gives_one_event_per_read_as_the_server_sent_them(
    module: Any, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(chunk_delay=0.01)
    cassette, events = _record_raw(tmp_path, fake)
    fake.stop()
    assert len(events) == EVENTS
    replaying = use_cassette(cassette, record_mode="none", allow_playback_repeats=True)
    with replaying, module.Client() as client:
        with client.stream(**_raw_request(fake.base_url)) as response:
            reads = list(response.iter_bytes())
        assert [json.loads(r[len(b"data: ") :]) for r in reads[:-1]] == [
            json.loads(e[len(b"data: ") :]) for e in events[:-1]
        ]
        assert len(reads) == EVENTS and reads[-1] == b"data: [DONE]\n\n"
        with client.stream(**_raw_request(fake.base_url)) as response:
            first = next(response.iter_lines())  # and stop: nothing more is read
        assert first.startswith("data: {")


def test_replay_async_text_reads_are_one_event_each(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory()
    cassette, events = _record_raw(tmp_path, fake)
    fake.stop()

    async def reads() -> list[str]:
        async with (
            httpx2.AsyncClient() as client,
            client.stream(**_raw_request(fake.base_url)) as response,
        ):
            return [text async for text in response.aiter_text()]

    with use_cassette(cassette, record_mode="none"):
        texts = asyncio.run(reads())
    assert len(texts) == len(events) and all(t.endswith("\n\n") for t in texts)


def test_coalesce_gives_the_whole_stream_in_one_read(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory()
    cassette, _ = _record_raw(tmp_path, fake)
    fake.stop()
    with (
        use_cassette(cassette, record_mode="none", stream_chunking="coalesce"),
        httpx2.Client() as client,
        client.stream(**_raw_request(fake.base_url)) as response,
    ):
        reads = list(response.iter_bytes())
    assert len(reads) == 1 and reads[0].count(b"\n\n") == EVENTS
    # The SDK copes with any framing: the same answer either way.
    with use_cassette(cassette, record_mode="none", stream_chunking="coalesce"):
        assert len(read_stream("openai", fake.base_url)) == EVENTS - 1  # all but [DONE]


def test_a_plain_vcrpy_stream_replays_one_event_per_read(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    """Streams recorded by plain vcrpy (one raw string) get the live framing too."""
    import vcr

    fake = fake_openai_factory()
    cassette = tmp_path / "plain.yaml"
    with vcr.VCR().use_cassette(str(cassette)), httpx2.Client() as client:
        client.post(**{k: v for k, v in _raw_request(fake.base_url).items() if k != "method"})
    fake.stop()
    with (
        use_cassette(cassette, record_mode="none"),
        httpx2.Client() as client,
        client.stream(**_raw_request(fake.base_url)) as response,
    ):
        reads = list(response.iter_bytes())
    assert len(reads) == EVENTS


def test_non_stream_responses_are_replayed_as_before(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    fake = fake_openai_factory(gzip=True)
    cassette = tmp_path / "json.yaml"
    client = openai.OpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(cassette, record_mode="once"):
        live = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    fake.stop()
    assert set(stored_body(cassette)) == {"json"}
    with use_cassette(cassette, record_mode="none"):
        assert client.chat.completions.create(model="gpt-4o", messages=MESSAGES) == live


# ----------------------------------------------------------------------- the plugin --
def test_under_the_plugin_a_test_failing_mid_stream_is_recorded_and_replays_the_same(
    pytester: pytest.Pytester,
    fake_openai_factory: Callable[..., FakeOpenAI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_openai_factory(chunk_delay=0.03)
    monkeypatch.setenv("FAKE_OPENAI_URL", fake.base_url)
    pytester.makeini(TREE_INI)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="module")
        def vcr_config():
            return {"stream_timing": "record"}
        """
    )
    pytester.makepyfile(
        test_x=f"""
        import os, openai, pytest

        @pytest.mark.vcr
        def test_stops_reading():
            client = openai.OpenAI(
                base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0
            )
            stream = client.chat.completions.create(
                model="gpt-4o", messages={MESSAGES!r}, stream=True
            )
            for n, chunk in enumerate(stream):
                assert n < 3, "the test fails mid-stream"
        """
    )
    pytester.runpytest("--record-mode=once").assert_outcomes(failed=1)
    assert fake.streams[0].wait() == "client went away"
    assert fake.streams[0].sent < EVENTS - 2
    (cassette,) = pytester.path.rglob("*.yaml")
    body = read_cassette(cassette)["interactions"][0]["response"]["body"]
    assert body["complete"] is False
    assert len(body["sse"]["offsets_ms"]) == len(body["sse"]["events"]) >= 4
    fake.stop()
    replayed = pytester.runpytest()  # offline: the same events, the same failure
    replayed.assert_outcomes(failed=1)
    replayed.stdout.fnmatch_lines(["*the test fails mid-stream*"])


def ndjson_request(base_url: str) -> dict[str, Any]:
    """A streamed answer as Ollama sends it: one JSON document per line (``client.stream``)."""
    return {
        "method": "POST",
        "url": f"{base_url}/echo?as=ndjson",
        "json": {"model": "llama3", "stream": True},
    }


@pytest.mark.parametrize("module", [httpx2, httpx], ids=["httpx2", "httpx"])
def test_an_ndjson_stream_replays_one_line_per_read(
    module: Any, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """Newline-delimited JSON (Ollama's streaming answers) keeps its framing too."""
    cassette = tmp_path / "ndjson.yaml"
    request = ndjson_request(fake_openai.base_url)
    with (
        use_cassette(cassette, record_mode="once"),
        module.Client() as client,
        client.stream(**request) as response,
    ):
        live = list(response.iter_lines())
    assert len(live) > 3 and all(json.loads(line)["part"] for line in live)
    fake_openai.stop()
    replaying = use_cassette(cassette, record_mode="none", allow_playback_repeats=True)
    with replaying, module.Client() as client:
        with client.stream(**request) as response:
            reads = list(response.iter_bytes())
        assert [read.decode() for read in reads] == [line + "\n" for line in live]
        with client.stream(**request) as response:
            first = next(response.iter_lines())  # and stop: nothing more is read
        assert json.loads(first) == json.loads(live[0])


@pytest.mark.parametrize("module", [httpx2, httpx], ids=["httpx2", "httpx"])
def test_an_ndjson_stream_keeps_its_timing_when_asked(
    module: Any, tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI]
) -> None:
    """Ollama streams lines, not events: each line's arrival is recorded and replayed."""
    delay = 0.03
    fake = fake_openai_factory(chunk_delay=delay)
    cassette = tmp_path / "timed-ndjson.yaml"
    request = ndjson_request(fake.base_url)
    with (
        use_cassette(cassette, record_mode="once", stream_timing="record"),
        module.Client() as client,
        client.stream(**request) as response,
    ):
        live = list(response.iter_lines())
    fake.stop()
    body = stored_body(cassette)
    offsets = body["offsets_ms"]
    assert len(offsets) == len(live) > 3
    assert offsets == sorted(offsets)
    assert offsets[-1] >= (len(live) - 1) * delay * 1000 - 1  # the server slept before each

    def replay(**options: Any) -> tuple[list[str], float]:
        started = time.perf_counter()
        with (
            use_cassette(cassette, record_mode="none", **options),
            module.Client() as client,
            client.stream(**request) as response,
        ):
            lines = list(response.iter_lines())
        return lines, time.perf_counter() - started

    paced, seconds = replay(replay_speed=1.0)
    assert paced == live and seconds >= offsets[-1] / 1000
    assert replay()[0] == live  # the default: at once
