"""Long test IDs get short cassette names in both layouts, and pytest-recording's own names
are still found.

A parametrize ID of 500 characters (a prompt used as the ID) is longer than any
file system allows in one name (255 bytes). Run through pytester with the real
pytest-recording, recording against the local server and replaying offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support.fake_openai import FakeOpenAI

TEST_LONG = """
import os, openai, pytest

LONG = "why " * 125

@pytest.mark.vcr
@pytest.mark.parametrize("prompt", [LONG, "short"], ids=[LONG.strip(), "short"])  # 499 chars
def test_long(prompt):
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": prompt[:20]}]
    )
    assert reply.choices[0].message.content.startswith("Echo: ")
"""

# Each test runs pytest in subprocesses.
pytestmark = pytest.mark.slow


def _names(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.yaml"))


@pytest.mark.parametrize("layout", ["pytest-recording's", "llm_cassettes_dir"])
def test_a_500_character_parametrize_id_records_and_replays(
    pytester: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    layout: str,
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    if layout == "llm_cassettes_dir":
        pytester.makeini("[pytest]\nllm_cassettes_dir = recorded\n")
    pytester.makepyfile(test_names=TEST_LONG)
    pytester.runpytest_subprocess("--record-mode=once").assert_outcomes(passed=2)
    names = _names(pytester.path)
    assert len(names) == 2 and "test_long[short].yaml" in names
    long_name = next(name for name in names if name != "test_long[short].yaml")
    assert long_name.startswith("test_long[why-why-why")
    assert len(long_name.encode()) <= 200  # shortened with a hash of the full ID
    fake_openai.stop()
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def test_pytest_recordings_own_shortened_name_is_still_found(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded by plain pytest-recording, which shortens to ``prefix...<md5>`` itself."""
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makepyfile(test_names=TEST_LONG)
    pytester.runpytest_subprocess("-p", "no:llm_cassettes", "--record-mode=once").assert_outcomes(
        passed=2
    )
    plain = {p: p.read_text() for p in pytester.path.rglob("*.yaml")}
    assert any("..." in p.name for p in plain)  # pytest-recording's own shortening
    fake_openai.stop()
    pytester.runpytest_subprocess().assert_outcomes(passed=2)  # both found, offline
    assert {p: p.read_text() for p in pytester.path.rglob("*.yaml")} == plain
