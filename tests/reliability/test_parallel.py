"""Parallel runs: several processes recording into one cassette lose nothing.

Real processes (``subprocess`` and pytest-xdist workers), a real file lock and
the real SDK against the local fake service.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_cassettes.format import LOCK_DIR
from tests._support import REPO, TREE_INI, stored_prompts
from tests._support.fake_openai import FakeOpenAI

ROOT = REPO

# Real processes and pytest-xdist workers.
pytestmark = pytest.mark.slow


def test_processes_appending_to_one_cassette_lose_nothing(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Three processes, four rounds each, every round a load-record-save of the same file."""
    path = tmp_path / "shared.yaml"
    workers, rounds = 3, 4
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability._worker",
                fake_openai.base_url,
                str(path),
                f"w{n}",
                str(rounds),
                "0.02",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    prompts = stored_prompts(path)
    expected = {f"w{n}-{r}" for n in range(workers) for r in range(rounds)}
    assert sorted(prompts) == sorted(expected)  # every recording, each exactly once
    for n in range(workers):  # and each worker's recordings in the order it made them
        assert [p for p in prompts if p.startswith(f"w{n}-")] == [
            f"w{n}-{r}" for r in range(rounds)
        ]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("shared.yaml", LOCK_DIR)]
    assert leftovers == []


COMMON = """
import os, pathlib, time

import openai
import pytest


def ask(text, stream=False):
    client = openai.OpenAI(
        base_url=os.environ["FAKE_OPENAI_URL"],
        api_key="sk-test-FAKEKEY0123456789abcdefABCDEF",
        max_retries=0,
    )
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}], stream=stream
    )
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in reply if c.choices)
    return reply.choices[0].message.content
"""

SHARED = """


def meet(name):
    # Each test keeps its cassette open (recorded, not yet saved) until the other
    # one has recorded too: both then save, each having loaded the same file.
    barrier = pathlib.Path(os.environ["BARRIER"])
    (barrier / name).write_text(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    deadline = time.monotonic() + 15
    while len(list(barrier.iterdir())) < 2:
        assert time.monotonic() < deadline, "the other test never ran alongside"
        time.sleep(0.01)


@pytest.mark.vcr
@pytest.mark.default_cassette("shared")
def test_shares_a():
    for i in range(3):
        assert ask(f"a{i}") == f"Echo: a{i}"
    meet("a")


@pytest.mark.vcr
@pytest.mark.default_cassette("shared")
def test_shares_b():
    for i in range(3):
        assert ask(f"b{i}", stream=True) == f"Echo: b{i}"
    meet("b")
"""

OWN = """
@pytest.mark.vcr
def test_own():
    assert ask("own", stream=True) == "Echo: own"
    assert ask("own again") == "Echo: own again"
"""


def test_xdist_records_and_replays_shared_and_own_cassettes(
    pytester: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``pytest -n 2``: two tests share a cassette and save at the same moment; a third has
    its own. Three tests on two workers: xdist hands them out round-robin (a, b, own)."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    monkeypatch.setenv("BARRIER", str(barrier))
    pytester.makeini(TREE_INI)
    pytester.makepyfile(test_par=COMMON + SHARED + OWN)

    result = pytester.runpytest_subprocess("-n", "2", "--record-mode=new_episodes")
    result.assert_outcomes(passed=3)
    workers = {(barrier / name).read_text() for name in ("a", "b")}
    assert workers == {"gw0", "gw1"}  # the sharing tests really ran at the same time

    directory = pytester.path / "cassettes" / "test_par"
    shared = stored_prompts(directory / "shared.yaml")
    assert sorted(shared) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert [p for p in shared if p[0] == "a"] == ["a0", "a1", "a2"]
    assert stored_prompts(directory / "test_own.yaml") == ["own", "own again"]
    assert sorted(os.listdir(directory)) == [LOCK_DIR, "shared.yaml", "test_own.yaml"]  # no temp

    fake_openai.stop()  # everything replays offline, again in parallel
    pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=3)
