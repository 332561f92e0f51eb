"""Replay speed of one streamed answer: typed cassette vs plain vcrpy vs the floor.

Records a 500-chunk chat completion stream from a local server once with
plain vcrpy (raw string body) and once with llm-cassettes (typed events), then
times, in a fresh process per variant, opening the cassette and consuming the
stream through the real openai SDK:

  typed  llm_cassettes.use_cassette on the typed cassette
  vcrpy  vcr.use_cassette on the plain vcrpy cassette
  floor  the plain YAML loaded with yaml.CSafeLoader, served by httpx2.MockTransport

Goal: typed <= 1.15x vcrpy. Run: python benchmarks/bench_stream.py [--chunks 500]
Wall and CPU time are both reported; on a shared machine CPU time is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _chunks import chat_chunk, sse_frame  # benchmarks/ is sys.path[0] when run as a script
from _floor import stored_response

MESSAGES = [{"role": "user", "content": "Tell me a long story."}]
VARIANTS = ("typed", "vcrpy", "floor")


def _server(chunks: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()

            for i in range(chunks):
                self.wfile.write(sse_frame(json.dumps(chat_chunk(i))))
            self.wfile.write(sse_frame("[DONE]"))
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(workdir: Path, chunks: int) -> None:
    import openai
    import vcr

    from llm_cassettes import use_cassette

    server = _server(chunks)
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="sk-x", max_retries=0
    )
    for name, cassette in [
        ("plain.yaml", vcr.VCR().use_cassette(str(workdir / "plain.yaml"))),
        ("typed.yaml", use_cassette(workdir / "typed.yaml")),
    ]:
        with cassette:
            for _ in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
                pass
    server.shutdown()
    server.server_close()
    (workdir / "base_url").write_text(str(client.base_url))


def run_variant(variant: str, workdir: Path, repeat: int) -> list[float]:
    import openai

    def consume(client: openai.OpenAI) -> int:
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        return sum(1 for _ in stream)

    times: list[tuple[float, float]] = []
    base_url = (workdir / "base_url").read_text()  # its server is stopped: replay is offline
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        if variant == "typed":
            from llm_cassettes import use_cassette
            from llm_cassettes.format import _serializer as serializer

            serializer._VALIDATED.clear()  # every test loads a cassette once: no warm cache
            with use_cassette(workdir / "typed.yaml", record_mode="none"):
                n = consume(openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0))
        elif variant == "vcrpy":
            import vcr

            with vcr.VCR(record_mode="none").use_cassette(str(workdir / "plain.yaml")):
                n = consume(openai.OpenAI(base_url=base_url, api_key="sk-x", max_retries=0))
        else:
            import httpx2
            import yaml

            with open(workdir / "plain.yaml", encoding="utf-8") as handle:
                data = yaml.load(handle, Loader=yaml.CSafeLoader)
            responses = iter(item["response"] for item in data["interactions"])

            def handler(request: httpx2.Request, responses=responses) -> httpx2.Response:
                return stored_response(next(responses))

            http_client = httpx2.Client(transport=httpx2.MockTransport(handler))
            n = consume(
                openai.OpenAI(
                    base_url=base_url, api_key="sk-x", max_retries=0, http_client=http_client
                )
            )
        times.append((time.perf_counter() - start, time.process_time() - cpu_start))
        assert n > 0
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="replays per process")
    parser.add_argument("--rounds", type=int, default=5, help="processes per variant")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        times = run_variant(args.variant, Path(args.workdir), args.repeat)
        print(json.dumps(times))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        record(workdir, args.chunks)
        samples: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
        # Variants take turns, one fresh process each per round, so a slow spell on a
        # shared machine falls on all of them rather than on one.
        for _ in range(args.rounds):
            for variant in VARIANTS:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--variant",
                        variant,
                        "--workdir",
                        tmp,
                        "--repeat",
                        str(args.repeat),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ},
                ).stdout
                samples[variant] += [tuple(x) for x in json.loads(out.strip().splitlines()[-1])]
        sizes = {name: (workdir / f"{name}.yaml").stat().st_size for name in ("typed", "plain")}
    wall = {v: statistics.median(x[0] for x in samples[v]) for v in VARIANTS}
    cpu = {v: statistics.median(x[1] for x in samples[v]) for v in VARIANTS}
    print(
        f"stream of {args.chunks} chunks: median of {args.rounds} processes x {args.repeat} "
        "replays per variant, variants interleaved"
    )
    print("           wall ms   cpu ms")
    for variant in VARIANTS:
        print(f"  {variant:6s} {wall[variant] * 1000:8.2f} {cpu[variant] * 1000:8.2f}")
    print("                     wall    cpu")
    for label, a, b in [
        ("typed / vcrpy", "typed", "vcrpy"),
        ("typed / floor", "typed", "floor"),
        ("vcrpy / floor", "vcrpy", "floor"),
    ]:
        goal = "  (goal <= 1.15)" if label == "typed / vcrpy" else ""
        print(f"  {label}    {wall[a] / wall[b]:6.3f} {cpu[a] / cpu[b]:6.3f}{goal}")
    print(
        f"  cassette size: typed {sizes['typed'] / 1024:.1f} KiB, "
        f"plain vcrpy {sizes['plain'] / 1024:.1f} KiB"
    )


if __name__ == "__main__":
    main()
