"""httpx and httpx2 are patched once per process; what users see is what vcrpy's
per-cassette patching gave them: cassettes nest, threads started by a test record into
its cassette, HTTP outside any cassette is not recorded, and another patch made later
(a plain vcrpy cassette, a mocking library) wins while it lasts.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import urllib.request
import weakref
from pathlib import Path

import httpx2
import openai
import pytest
import vcr
import vcr.cassette

from llm_cassettes import LLMVCR, use_cassette
from tests._support import read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI


def echo(server: FakeOpenAI, path: str) -> None:
    """One request to the server's echo endpoint, through httpx2."""
    httpx2.post(f"{server.base_url}/echo/{path}", json={"path": path})


def recorded_paths(cassette: Path) -> list[str]:
    if not cassette.exists():
        return []
    return [i["request"]["uri"].rsplit("/", 1)[-1] for i in read_cassette(cassette)["interactions"]]


def test_entering_a_cassette_does_not_patch_httpx_again(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with use_cassette(tmp_path / "first.yaml", record_mode="once"):
        pass
    outside = httpx2.HTTPTransport.handle_request, httpx2.AsyncHTTPTransport.handle_async_request
    with use_cassette(tmp_path / "second.yaml", record_mode="once"):
        inside = httpx2.HTTPTransport.handle_request, httpx2.AsyncHTTPTransport.handle_async_request
        echo(fake_openai, "inside")
    assert inside == outside
    assert recorded_paths(tmp_path / "second.yaml") == ["inside"]


def test_outside_any_cassette_requests_go_to_the_network_unrecorded(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    cassette = tmp_path / "c.yaml"
    with use_cassette(cassette, record_mode="once"):
        echo(fake_openai, "inside")
    echo(fake_openai, "after")  # a cassette was used in this process: httpx is patched
    assert [r.path for r in fake_openai.requests] == ["/v1/echo/inside", "/v1/echo/after"]
    assert recorded_paths(cassette) == ["inside"]


def test_cassettes_nest_the_innermost_records(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    outer, inner = tmp_path / "outer.yaml", tmp_path / "inner.yaml"
    with use_cassette(outer, record_mode="once"):
        echo(fake_openai, "one")
        with use_cassette(inner, record_mode="once"):
            echo(fake_openai, "two")
        echo(fake_openai, "three")
    assert recorded_paths(outer) == ["one", "three"]
    assert recorded_paths(inner) == ["two"]


def test_threads_record_into_the_cassette_entered_last(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """A worker started before the cassette (a pool, a server thread) sees it, as vcrpy's
    patches made every thread see it; so does one started inside."""
    start = threading.Event()
    before = threading.Thread(target=lambda: (start.wait(5), echo(fake_openai, "before")))
    before.start()
    cassette = tmp_path / "threads.yaml"
    with use_cassette(cassette, record_mode="once"):
        start.set()
        before.join(5)
        inside = threading.Thread(target=echo, args=(fake_openai, "inside"))
        inside.start()
        inside.join(5)
    assert recorded_paths(cassette) == ["before", "inside"]


def test_a_task_that_outlives_its_cassette_records_into_the_current_one(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"

    async def main() -> None:
        go = asyncio.Event()

        async def late_request() -> None:
            await go.wait()
            async with httpx2.AsyncClient() as client:
                await client.post(f"{fake_openai.base_url}/echo/late", json={})

        with use_cassette(first, record_mode="once"):
            task = asyncio.ensure_future(late_request())  # its context names `first`
            await asyncio.sleep(0)
        with use_cassette(second, record_mode="once"):
            go.set()
            await task

    asyncio.run(main())
    assert recorded_paths(first) == []
    assert recorded_paths(second) == ["late"]


@pytest.mark.parametrize("plain_inside", [True, False], ids=["plain-inside", "plain-outside"])
def test_a_plain_vcrpy_cassette_and_ours_nest_the_innermost_wins(
    plain_inside: bool, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    ours, plain = tmp_path / "ours.yaml", tmp_path / "plain.yaml"
    outer, inner = (
        (use_cassette(ours, record_mode="once"), vcr.VCR().use_cassette(str(plain)))
        if plain_inside
        else (vcr.VCR().use_cassette(str(plain)), use_cassette(ours, record_mode="once"))
    )
    with outer:
        with inner:
            echo(fake_openai, "inner")
        echo(fake_openai, "outer")
    inner_file, outer_file = (plain, ours) if plain_inside else (ours, plain)
    assert recorded_paths(inner_file) == ["inner"]
    assert recorded_paths(outer_file) == ["outer"]


def test_skip_patchers_leaves_a_library_unrecorded(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    if "skip_patchers" not in inspect.signature(vcr.cassette.Cassette.__init__).parameters:
        pytest.skip("vcrpy before 9 has no skip_patchers")  # nox -s lowest
    cassette = tmp_path / "skip.yaml"
    with use_cassette(cassette, record_mode="once", skip_patchers=["httpx2"]):
        echo(fake_openai, "skipped")
        with urllib.request.urlopen(f"{fake_openai.base_url}/echo/urllib") as response:
            response.read()
    assert recorded_paths(cassette) == ["urllib"]


def test_the_libraries_vcrpy_patches_per_cassette_still_record_and_replay(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """http.client (urllib, and requests through urllib3) keeps vcrpy's own stubs."""
    cassette = tmp_path / "urllib.yaml"
    url = f"{fake_openai.base_url}/echo/urllib"
    with use_cassette(cassette, record_mode="once"), urllib.request.urlopen(url) as response:
        live = response.read()
    fake_openai.stop()
    with use_cassette(cassette, record_mode="none"), urllib.request.urlopen(url) as response:
        assert response.read() == live


def test_the_sdk_records_and_replays_inside_a_decorated_function(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)

    @use_cassette(tmp_path / "decorated.yaml", record_mode="once")
    def ask() -> str:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi there"}]
        )
        return reply.choices[0].message.content or ""

    assert ask() == "Echo: hi there"
    fake_openai.stop()
    assert ask() == "Echo: hi there"


def test_a_used_context_and_its_vcr_are_freed_without_the_collector(tmp_path: Path) -> None:
    """Only vcrpy's per-cassette classes are left to the cyclic collector: the context
    and the VCR (its scrubber, serializer and matchers) go when the last reference does,
    so a suite does not pile up full collections' worth of garbage."""
    gc.collect()
    gc.disable()
    try:
        vcr_ = LLMVCR()
        context = vcr_.use_cassette(str(tmp_path / "empty.yaml"), record_mode="none")
        with context:
            pass
        gone = weakref.ref(context), weakref.ref(vcr_)
        del context, vcr_
        assert [ref() for ref in gone] == [None, None]
    finally:
        gc.enable()
