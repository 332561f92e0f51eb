"""A recording process killed with SIGKILL, many times, at random points: no cassette is lost.

Each kill lands somewhere in a child's load / request / save loop; the
children are steered so that most kills land while a save is writing its
temporary file. After every kill the cassette must be the old one or the new
one: complete, readable, and holding everything saved before (what the
previous check saw is a prefix of what this one sees).
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openai
import pytest

from llm_cassettes import use_cassette
from llm_cassettes.format import LOCK_DIR
from tests._support import REPO, stored_prompts
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

ROOT = REPO
KILLS = 12
PAD = 20_000  # characters per question (echoed back), so a save takes a while

# A recording process killed many times.
pytestmark = pytest.mark.slow


class _Lines:
    """The worker's stdout, line by line, with a timeout (a hung child fails the test)."""

    def __init__(self, stream: object) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.strip())

    def wait_for(self, prefix: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"worker printed no {prefix!r} within {timeout} s")
            if line.startswith(prefix):
                return line


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_sigkill_while_saving_never_tears_a_cassette(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "crash.yaml"
    rng = random.Random(os.environ.get("CRASH_SEED"))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability._crash_worker",
            fake_openai.base_url,
            str(path),
            str(PAD),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None
    lines = _Lines(worker.stdout)
    seen: list[str] = []
    torn_saves = 0
    try:
        for _ in range(KILLS):
            worker.stdin.write("next\n")
            worker.stdin.flush()
            pid = int(lines.wait_for("pid ").split()[1])
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0, 0.3))  # anywhere: start-up, load, request, save
            else:
                for _ in range(rng.randint(1, 3)):  # some complete saves first
                    lines.wait_for("saving")
                time.sleep(rng.uniform(0, 0.08))  # then into the middle of one
            os.kill(pid, signal.SIGKILL)
            assert lines.wait_for("dead ") == f"dead {-signal.SIGKILL}"
            leftovers = [p for p in tmp_path.iterdir() if p.name not in ("crash.yaml", LOCK_DIR)]
            torn_saves += bool(leftovers)
            assert all(p.name.startswith(".crash.yaml.") for p in leftovers)
            if path.exists():
                prompts = stored_prompts(path)  # fails on a torn or empty file
                assert prompts[: len(seen)] == seen  # nothing saved before was lost
                seen = prompts
    finally:
        worker.kill()
        worker.wait()
    assert len(seen) >= 3  # the children did record and save between kills
    assert torn_saves > 0, "no kill landed while a save was writing: the test proved nothing"

    # The next save (after a kill that left a temporary file) cleans up after the dead.
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="new_episodes"):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "end"}]
        )
    assert sorted(os.listdir(tmp_path)) == [LOCK_DIR, "crash.yaml"]
    assert stored_prompts(path) == [*seen, "end"]
