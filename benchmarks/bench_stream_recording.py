"""Streams while recording and paced replay: llm-cassettes vs no cassette vs plain vcrpy.

A local server (its own process) streams chat completion chunks; the real openai SDK
reads them. Measured, variants taking turns in every round:

  first chunk   time from the request to the first chunk of a 52-chunk stream spaced
                50 ms apart (as issue 14 measured it), sync and async clients:
                none (no cassette), ours (recording, --record-mode once), vcrpy (plain
                vcrpy recording). Goal: ours <= 1.1 x none + 10 ms.
  record 500    recording a fast 500-chunk stream: ours / vcrpy, end to end (from the
                request to the stream's end, when the interaction is in the cassette;
                goal <= 1.2) and with the cassette entered and saved around it.
  paced replay  a cassette recorded with stream_timing="record", replayed with
                replay_speed=1.0: replay duration / recorded duration. Goal within 10%.
  enter+exit    entering and leaving a cassette (no file, mode none): ours / vcrpy.

Run: python benchmarks/bench_stream_recording.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _chunks import chat_chunk, sse_frame  # benchmarks/ is sys.path[0] when run as a script

MESSAGES = [{"role": "user", "content": "Tell me a story."}]
SLOW_CHUNKS, SLOW_DELAY = 52, 0.05
FAST_CHUNKS = 500


# --------------------------------------------------------------------------- the server --
def serve() -> None:
    """The streaming server (run in its own process: it must not share our GIL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            slow = body["model"] == "slow"
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            try:
                for i in range(SLOW_CHUNKS if slow else FAST_CHUNKS):
                    if slow and i:
                        time.sleep(SLOW_DELAY)
                    self._send(json.dumps(chat_chunk(i)))
                self._send("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        def _send(self, payload: str) -> None:
            self.wfile.write(sse_frame(payload))
            self.wfile.flush()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client closing its kept-alive connection between rounds resets it while
            # the handler waits for the next request: not an error of the benchmark.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# ------------------------------------------------------------------------------ clients --
def _cassette(variant: str, path: Path, **options: Any) -> Any:
    if variant == "none":
        import contextlib

        return contextlib.nullcontext()
    if variant == "vcrpy":
        import vcr

        return vcr.VCR(record_mode=options.pop("record_mode", "once")).use_cassette(str(path))
    from llm_cassettes import use_cassette

    return use_cassette(path, **{"record_mode": "once", **options})


def first_chunk_sync(base_url: str, variant: str, path: Path) -> float:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0)
    with _cassette(variant, path):
        started = time.perf_counter()
        first = None
        for _ in client.chat.completions.create(model="slow", messages=MESSAGES, stream=True):
            if first is None:
                first = time.perf_counter() - started
    client.close()
    assert first is not None
    return first


def first_chunk_async(base_url: str, variant: str, path: Path) -> float:
    import openai

    async def main() -> float:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-x", max_retries=0) as c:
            started = time.perf_counter()
            first = None
            stream = await c.chat.completions.create(model="slow", messages=MESSAGES, stream=True)
            async for _ in stream:
                if first is None:
                    first = time.perf_counter() - started
            assert first is not None
            return first

    with _cassette(variant, path):
        return asyncio.run(main())


def record_fast(base_url: str, variant: str, path: Path) -> tuple[float, float]:
    """(request to the end of the stream, entering the cassette to having saved it)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0)
    # Garbage left by earlier rounds (above all the clients' SSL contexts, ~1 ms each to
    # free) is collected here, not in whichever variant's timed block the collector runs.
    gc.collect()
    entered = time.perf_counter()
    with _cassette(variant, path):
        started = time.perf_counter()
        n = sum(
            1 for _ in client.chat.completions.create(model="fast", messages=MESSAGES, stream=True)
        )
        stream = time.perf_counter() - started
    saved = time.perf_counter() - entered
    client.close()
    assert n == FAST_CHUNKS
    return stream, saved


def paced_replay(base_url: str, path: Path) -> float:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0)
    with _cassette("ours", path, record_mode="none", replay_speed=1.0):
        started = time.perf_counter()
        for _ in client.chat.completions.create(model="slow", messages=MESSAGES, stream=True):
            pass
        elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def enter_exit(variant: str, path: Path, repeat: int = 300) -> float:
    for _ in range(30):
        with _cassette(variant, path, record_mode="none"):
            pass
    started = time.perf_counter()
    for _ in range(repeat):
        with _cassette(variant, path, record_mode="none"):
            pass
    return (time.perf_counter() - started) / repeat


# --------------------------------------------------------------------------------- main --
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base_url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        with tempfile.TemporaryDirectory() as tmp:
            run(base_url, Path(tmp), args.rounds)
    finally:
        server.terminate()
        server.wait(5)


def run(base_url: str, tmp: Path, rounds: int) -> None:
    counter = iter(range(10**6))

    def fresh() -> Path:
        return tmp / f"c{next(counter)}.yaml"

    first: dict[tuple[str, str], list[float]] = {}
    record: dict[str, list[tuple[float, float]]] = {"none": [], "ours": [], "vcrpy": []}
    entering: dict[str, list[float]] = {"ours": [], "vcrpy": []}
    readers: dict[str, Callable[[str, str, Path], float]] = {
        "sync": first_chunk_sync,
        "async": first_chunk_async,
    }
    record_fast(base_url, "ours", fresh())  # warm up imports and connections
    record_fast(base_url, "vcrpy", fresh())
    for _ in range(rounds):
        for mode, reader in readers.items():
            for variant in ("none", "ours", "vcrpy"):
                first.setdefault((mode, variant), []).append(reader(base_url, variant, fresh()))
        for _ in range(5):
            for variant, samples in record.items():
                samples.append(record_fast(base_url, variant, fresh()))
        for variant, samples in entering.items():
            samples.append(enter_exit(variant, tmp / "absent.yaml"))

    timed = fresh()
    with _cassette("ours", timed, stream_timing="record"):
        first_chunk_sync(base_url, "none", tmp / "unused.yaml")
    import yaml

    stored = yaml.safe_load(timed.read_text())["interactions"][0]["response"]["body"]["sse"]
    recorded = stored["offsets_ms"][-1] / 1000
    replays = [paced_replay(base_url, timed) for _ in range(max(3, rounds))]

    med = {key: statistics.median(values) for key, values in first.items()}
    print(f"first chunk of {SLOW_CHUNKS} chunks {SLOW_DELAY * 1000:.0f} ms apart "
          f"(median of {rounds}, ms):")  # fmt: skip
    for mode in readers:
        none, ours, vcrpy = (med[(mode, v)] * 1000 for v in ("none", "ours", "vcrpy"))
        goal = 1.1 * none + 10
        print(
            f"  {mode:5s}  none {none:7.1f}   ours {ours:7.1f}   vcrpy {vcrpy:7.1f}   "
            f"ours / none {ours / none:5.2f}   goal ours <= {goal:.1f}: "
            f"{'met' if ours <= goal else 'NOT met'}"
        )
    print(f"recording a {FAST_CHUNKS}-chunk stream (median of {rounds * 5}, ms):")
    for label, part in (("request to end of stream", 0), ("enter, stream, save", 1)):
        rec = {v: statistics.median(x[part] for x in xs) * 1000 for v, xs in record.items()}
        goal = "  (goal <= 1.2)" if part == 0 else ""
        print(
            f"  {label:24s} none {rec['none']:6.1f}   ours {rec['ours']:6.1f}   "
            f"vcrpy {rec['vcrpy']:6.1f}   ours / vcrpy {rec['ours'] / rec['vcrpy']:.3f}{goal}"
        )
    replay = statistics.median(replays)
    print(
        f"paced replay (replay_speed=1.0): recorded {recorded * 1000:.0f} ms, replayed "
        f"{replay * 1000:.0f} ms, ratio {replay / recorded:.3f}  (goal 0.9 .. 1.1)"
    )
    ent = {v: statistics.median(x) * 1000 for v, x in entering.items()}
    print(
        f"entering + leaving a cassette: ours {ent['ours']:.3f} ms, plain vcrpy "
        f"{ent['vcrpy']:.3f} ms, ours / vcrpy {ent['ours'] / ent['vcrpy']:.2f}"
    )
    print(f"(python {sys.version.split()[0]}, pid {os.getpid()})")


if __name__ == "__main__":
    main()
