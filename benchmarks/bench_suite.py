"""A whole test suite of small cassettes: llm-cassettes vs vanilla pytest-recording vs the floor.

Users pay for a cassette library per test, in every run of their suite, more
often than on one large cassette. This benchmark writes a project of 300 tests
in 10 modules; each test makes one chat completion and one 20-chunk stream
through the real ``openai`` SDK (``@pytest.mark.vcr``, a module-level client,
answers with the real service's header shape). The suite is recorded once from a
local server with each library, the server is stopped, and then the whole suite
runs, ``pytest -p no:xdist`` in a fresh process per run, as

  floor    no cassette: ``httpx2.HTTPTransport.handle_request`` answers in process
           (pytest-recording and llm-cassettes switched off)
  vanilla  pytest-recording with plain vcrpy cassettes (``-p no:llm_cassettes``)
  ours     pytest-recording with llm-cassettes' plugin and its cassettes

variants taking turns (floor, vanilla, ours, floor, ...) so a slow spell on the
shared machine falls on all of them. Timed: the whole ``pytest`` process (wall,
and the CPU time of the process from ``wait4``). Reported: medians, and the
cassette cost per test, ``(variant - floor) / tests``.

Goals: ours' cassette cost per test <= 0.5x vanilla's, and ours / vanilla <= 0.9 for
the whole run.

Run: python benchmarks/bench_suite.py [--rounds 5] [--modules 10] [--tests 30]
     [--profile]   (cProfile of one run of ``ours``: entries of llm_cassettes, vcr,
                    pytest_recording)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from _bytecode import compile_package  # benchmarks/ is sys.path[0] when run as a script
from _local_server import serve

import llm_cassettes

VARIANTS = ("floor", "vanilla", "ours")

#: The application and its fake service, shared by the recording server and the floor.
APP = '''
"""The code under test: a module-level OpenAI client, and what the service answers."""

import hashlib
import json
import os
from pathlib import Path

import openai

MODEL = "gpt-4o-mini"
CHUNKS = 20
_client = None


def client():
    global _client
    if _client is None:
        base_url = (Path(__file__).parent / "base_url").read_text().strip()
        _client = openai.OpenAI(
            base_url=base_url, api_key="sk-proj-bench0123456789abcdefghij", max_retries=0
        )
    return _client


def question(module, n):
    return [
        {"role": "system", "content": "You are a terse assistant. Answer in one sentence."},
        {"role": "user", "content": f"Module {module}, question {n}: what is {n} squared?"},
    ]


def expected(messages):
    return f"Answer: {messages[-1]['content'][-20:]}"


def _headers(seed, stream):
    return [
        ("content-type", "text/event-stream; charset=utf-8" if stream else "application/json"),
        ("date", "Wed, 06 May 2026 03:13:00 GMT"),
        ("openai-organization", "user-abcd1234efgh5678ijkl9012"),
        ("openai-processing-ms", str(200 + int(seed[:3], 16) % 900)),
        ("openai-project", "proj_ABCDEFGHIJKLMNOPQRSTUVWX"),
        ("openai-version", "2020-10-01"),
        ("server", "cloudflare"),
        ("set-cookie", f"__cf_bm={seed[:40]}.{seed[40:60]}-1778037179-1.0.1.1-{seed[:48]}; "
         "HttpOnly; Secure; Path=/; Domain=api.openai.com; Expires=Wed, 06 May 2026 03:43:00 GMT"),
        ("set-cookie", f"_cfuvid={seed[:24]}.7890-1778037180292-0.0.1.1-604800000; HttpOnly; "
         "SameSite=None; Secure; Path=/; Domain=api.openai.com"),
        ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
        ("x-content-type-options", "nosniff"),
        ("x-ratelimit-limit-requests", "15000"),
        ("x-ratelimit-limit-tokens", "40000000"),
        ("x-ratelimit-remaining-requests", "14999"),
        ("x-ratelimit-remaining-tokens", "39999950"),
        ("x-ratelimit-reset-requests", "4ms"),
        ("x-ratelimit-reset-tokens", "0s"),
        ("x-request-id", f"req_{seed[:32]}"),
        ("cf-cache-status", "DYNAMIC"),
        ("cf-ray", f"{seed[:16]}-LHR"),
        ("alt-svc", 'h3=":443"; ma=86400'),
    ]


def answer(body):
    """(status, headers, body bytes) for a chat completion request, derived from its bytes."""
    request = json.loads(body)
    seed = hashlib.sha256(body).hexdigest()
    text = expected(request["messages"])
    base = {
        "id": f"chatcmpl-{seed[:29]}",
        "created": 1_778_000_000 + int(seed[30:36], 16) % 100_000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": f"fp_{seed[40:50]}",
        "service_tier": "default",
    }
    if not request.get("stream"):
        data = {
            **base,
            "object": "chat.completion",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None,
                            "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40},
        }
        return 200, _headers(seed, False), json.dumps(data).encode()
    words = f"{text} is what the model says, one word per chunk, as it streams".split(" ")
    pieces = [" " + word if i else word for i, word in enumerate(words[: CHUNKS - 2])]
    events = []
    for i in range(CHUNKS):
        if i == 0:
            delta, finish = {"role": "assistant", "content": "", "refusal": None}, None
        elif i == CHUNKS - 1:
            delta, finish = {}, "stop"
        else:
            delta, finish = {"content": pieces[i - 1]}, None
        chunk = {**base, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        events.append(f"data: {json.dumps(chunk)}\\n\\n")
    events.append("data: [DONE]\\n\\n")
    return 200, _headers(seed, True), "".join(events).encode()
'''

CONFTEST = """
import os

import pytest

if os.environ.get("BENCH_VARIANT") == "floor":
    import httpx2

    from bench_app import answer

    def handle_request(self, request):
        status, headers, content = answer(request.read())
        return httpx2.Response(status, headers=headers, content=content)

    httpx2.HTTPTransport.handle_request = handle_request


@pytest.fixture(scope="module")
def vcr_config():
    return {"filter_headers": ["authorization"]}
"""

MODULE = """
import pytest

from bench_app import CHUNKS, MODEL, client, expected, question

pytestmark = pytest.mark.vcr


@pytest.mark.parametrize("n", range({tests}))
def test_answer(n):
    messages = question({module}, n)
    completion = client().chat.completions.create(model=MODEL, messages=messages)
    assert completion.choices[0].message.content == expected(messages)
    stream = client().chat.completions.create(model=MODEL, messages=messages, stream=True)
    chunks = list(stream)
    assert len(chunks) == CHUNKS
    assert chunks[-1].choices[0].finish_reason == "stop"
"""

INI = """
[pytest]
testpaths = tests
markers =
    vcr: a cassette (registered here too for the floor, which runs without pytest-recording)
"""


def _server() -> ThreadingHTTPServer:
    from bench_app import answer  # type: ignore[import-not-found]  # written by _project

    return serve(answer)


def _project(root: Path, modules: int, tests: int, base_url: str) -> None:
    (root / "tests").mkdir(parents=True)
    (root / "bench_app.py").write_text(APP)
    (root / "base_url").write_text(base_url)
    (root / "conftest.py").write_text(CONFTEST)
    (root / "pytest.ini").write_text(INI)
    for module in range(modules):
        text = MODULE.format(tests=tests, module=module)
        (root / "tests" / f"test_module{module}.py").write_text(text)


#: Plugins installed beside these in a development environment, unrelated to cassettes:
#: off in every variant, so the floor is the tests alone (hypothesis' plugin imports
#: hypothesis at the end of a session, ~0.5 s; langsmith's wraps every test).
UNRELATED_PLUGINS = ("hypothesispytest", "langsmith_plugin", "anyio", "platformdirs")


def _flags(variant: str) -> list[str]:
    flags = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q"]
    for name in UNRELATED_PLUGINS:
        flags += ["-p", f"no:{name}"]
    if variant == "floor":
        return [*flags, "-p", "no:recording", "-p", "no:llm_cassettes"]
    if variant == "vanilla":
        return [*flags, "-p", "no:llm_cassettes"]
    return flags


def _run(
    root: Path, variant: str, extra: tuple[str, ...] | list[str] = ()
) -> tuple[float, float, str]:
    """Run the suite once in a fresh process: (wall seconds, CPU seconds, its output).

    The CPU time is the child's own (user + system, from ``wait4``), so time the
    machine gave to other processes does not count.
    """
    command = [sys.executable, "-m", "pytest", *_flags(variant), *extra]
    env = {**os.environ, "BENCH_VARIANT": variant, "PYTHONPATH": str(root)}
    env.pop("PYTEST_ADDOPTS", None)
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise SystemExit(f"{variant}: pytest failed ({process.returncode}):\n{output[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, output


def record(workdir: Path, modules: int, tests: int) -> dict[str, Path]:
    """Write the project three times (one per variant) and record the two cassette sets."""
    roots = {variant: workdir / variant for variant in VARIANTS}
    sys.path.insert(0, str(workdir))
    (workdir / "bench_app.py").write_text(APP)
    (workdir / "base_url").write_text("http://127.0.0.1:1/v1")
    server = _server()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        for variant, root in roots.items():
            _project(root, modules, tests, base_url)
        for variant in ("vanilla", "ours"):
            _run(roots[variant], variant, ["--record-mode=once"])
    finally:
        server.shutdown()
        server.server_close()
    return roots


def _cassettes(root: Path) -> tuple[int, int]:
    files = [p for p in (root / "tests").rglob("*.yaml")]
    return len(files), sum(p.stat().st_size for p in files)


def profile(root: Path) -> None:
    """cProfile one run of ``ours``; print the entries of the cassette libraries."""
    import pstats

    out = root / "ours.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "pytest", *_flags("ours")]
    env = {**os.environ, "BENCH_VARIANT": "ours", "PYTHONPATH": str(root)}
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    pattern = r"llm_cassettes|[/\\]vcr[/\\]|pytest_recording|yaml"
    for sort in ("cumulative", "tottime"):
        print(f"\nprofile of one run of ours, sorted by {sort}:")
        stats = pstats.Stats(str(out), stream=sys.stdout)
        stats.sort_stats(sort).print_stats(pattern, 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per variant (median)")
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--tests", type=int, default=30, help="tests per module")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of ours")
    parser.add_argument("--keep", help="build the project here and keep it (for profiling)")
    args = parser.parse_args()
    count = args.modules * args.tests
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        roots = record(workdir, args.modules, args.tests)
        sets = {variant: _cassettes(roots[variant]) for variant in ("vanilla", "ours")}
        print(
            f"{count} tests in {args.modules} modules, recorded in "
            f"{time.perf_counter() - started:.1f} s; cassettes: "
            + ", ".join(f"{v} {n} files {size / 1024:.0f} KiB" for v, (n, size) in sets.items())
        )
        compile_package(Path(llm_cassettes.__file__).parent)
        samples: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                wall, cpu, output = _run(roots[variant], variant)
                if f"{count} passed" not in output:
                    raise SystemExit(f"{variant}: expected {count} passed:\n{output[-2000:]}")
                samples[variant].append((wall, cpu))
        report(samples, count, args.rounds)
        if args.profile:
            profile(roots["ours"])


def report(samples: dict[str, list[tuple[float, float]]], count: int, rounds: int) -> None:
    wall = {v: statistics.median(s[0] for s in samples[v]) for v in VARIANTS}
    cpu = {v: statistics.median(s[1] for s in samples[v]) for v in VARIANTS}
    print(
        f"whole pytest run, fresh process each, median of {rounds}, variants alternating"
        f"\n\n  {'variant':8s} {'wall s':>8} {'cpu s':>8}   cassette cost per test (wall, cpu)"
    )
    for variant in VARIANTS:
        line = f"  {variant:8s} {wall[variant]:8.2f} {cpu[variant]:8.2f}"
        if variant != "floor":
            per_wall = (wall[variant] - wall["floor"]) / count * 1000
            per_cpu = (cpu[variant] - cpu["floor"]) / count * 1000
            line += f"   {per_wall:6.2f} ms {per_cpu:6.2f} ms"
        print(line)

    def cost(field: dict[str, float], variant: str) -> float:
        return field[variant] - field["floor"]

    print(f"\n  {'ratio':34s} {'wall':>6} {'cpu':>6}  goal")
    rows = [
        ("cost per test: ours / vanilla", cost(wall, "ours") / cost(wall, "vanilla"),
         cost(cpu, "ours") / cost(cpu, "vanilla"), 0.5),
        ("whole run: ours / vanilla", wall["ours"] / wall["vanilla"],
         cpu["ours"] / cpu["vanilla"], 0.9),
    ]  # fmt: skip
    for name, by_wall, by_cpu, bound in rows:
        verdict = "PASS" if by_wall <= bound else "FAIL"
        print(f"  {name:34s} {by_wall:6.2f} {by_cpu:6.2f}  <= {bound}  {verdict}")


if __name__ == "__main__":
    main()
