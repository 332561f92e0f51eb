"""Installing llm-cassettes into a suite recorded with plain pytest-recording.

The suite below is recorded by vanilla vcrpy + pytest-recording (this plugin
switched off with ``-p no:llm_cassettes``) against the fake OpenAI service,
with real-shaped headers and multi-request conversations. Then the code
changes (``APP_STAGE=changed``): three tests now send different requests. Like
the real project in issue 12, vanilla replay still passes; so must replay with
this plugin installed, offline and with a dummy API key, reporting the stale
recordings instead of failing on them, until strictness is switched on.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_cassettes import cli
from tests._support import TREE_INI, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

SUITE = """
import os, openai, pytest

CHANGED = os.environ.get("APP_STAGE") == "changed"
TOOLS = [{"type": "function", "function": {
    "name": "deployed_version", "parameters": {"type": "object", "properties": {}}}}]

def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], max_retries=0)

def chat(messages, model="gpt-4o", **kwargs):
    return client().chat.completions.create(model=model, messages=messages, **kwargs)

@pytest.mark.vcr
def test_plan_with_reasoning():
    reasoning = {"effort": "low", "summary": "auto"} if CHANGED else {"effort": "low"}
    answer = client().responses.create(
        model="gpt-4.1-mini", input="Plan a three-day trip", reasoning=reasoning)
    assert answer.output_text.startswith("Echo: Plan")

@pytest.mark.vcr
def test_model_switch():
    reply = chat([{"role": "user", "content": "Summarise the release notes"}],
                 model="gpt-4.1-mini" if CHANGED else "gpt-4o")
    assert reply.choices[0].message.content.startswith("Echo: ")

@pytest.mark.vcr
def test_tool_round_trip():
    version = "0.32" if CHANGED else "0.fixed-version"
    messages = [{"role": "user", "content": "Which version is deployed?"}]
    first = chat(messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": version}]
    second = chat(messages, tools=TOOLS)
    assert second.choices[0].message.content.startswith("Based on the tool: ")

@pytest.mark.vcr
def test_stream_unchanged():
    stream = chat([{"role": "user", "content": "Stream a haiku"}], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Echo: Stream a haiku"

@pytest.mark.vcr
def test_embeddings_unchanged():
    result = client().embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(result.data) == 2
"""

STALE = {
    "test_adopted.py::test_model_switch": (0, ["model: recorded 'gpt-4o' | live 'gpt-4.1-mini'"]),
    "test_adopted.py::test_plan_with_reasoning": (
        0,
        ["reasoning.summary: recorded <missing> | live 'auto'"],
    ),
    "test_adopted.py::test_tool_round_trip": (
        1,
        ["messages[2].content: recorded '0.fixed-version' | live '0.32'"],
    ),
}
SECTION = re.compile(r"^=+ llm-cassettes: .* =+$")


def section(result: pytest.RunResult) -> list[str]:
    """The llm-cassettes terminal summary section: its title and lines, or []."""
    lines = result.outlines
    starts = [i for i, line in enumerate(lines) if SECTION.match(line)]
    if not starts:
        return []
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines))
    return [lines[start].strip("= "), *lines[start + 1 : end]]


def stale_warnings(result: pytest.RunResult) -> int:
    """How many StaleRecordingWarnings the run shows (other warnings, such as pytest's
    about modules imported before an in-process run, are not this test's business)."""
    return sum(": StaleRecordingWarning: " in line for line in result.outlines)


def ids_in(lines: list[str]) -> list[str]:
    return [line for line in lines if "::" in line and not line.startswith(" ")]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


@pytest.fixture
def recorded(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.Pytester]:
    """The suite recorded by plain pytest-recording, the code changed, the service gone."""
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    pytester.makepyfile(test_adopted=SUITE)
    pytester.runpytest("-p", "no:llm_cassettes", "--record-mode=once").assert_outcomes(passed=5)
    cassette = (pytester.path / "cassettes" / "test_adopted" / "test_model_switch.yaml").read_text()
    assert "\nmetadata:" not in cassette and "json:" not in cassette  # vcrpy's own format
    assert "set-cookie" in cassette  # the service's real-shaped headers, as recorded
    fake_openai.stop()
    monkeypatch.setenv("APP_STAGE", "changed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-for-offline-replay")  # CI has no real key
    yield pytester


def assert_stale_summary(lines: list[str]) -> None:
    assert lines[0] == "llm-cassettes: 3 tests replayed stale recordings"
    assert ids_in(lines) == sorted(STALE)
    for test_id, (index, fields) in STALE.items():
        block = lines[lines.index(test_id) :]
        name = test_id.split("::")[1]
        assert block[1] == f"  cassette: cassettes/test_adopted/{name}.yaml"
        assert block[2].startswith(f"  interactions[{index}] POST http://127.0.0.1:")
        for field in fields:
            assert f"    {field}" in block[3 : 3 + len(fields)]


def rerecord_command(lines: list[str]) -> list[str]:
    [command] = [line.strip() for line in lines if line.strip().startswith("pytest ")]
    return shlex.split(command)


def test_a_plain_suite_keeps_passing_and_stale_recordings_are_reported(
    recorded: pytest.Pytester,
) -> None:
    before = snapshot(recorded.path)
    # Vanilla replays the stale answers silently...
    recorded.runpytest("-p", "no:llm_cassettes").assert_outcomes(passed=5)
    # ... and so does the plugin, but it says which answers are stale, and why.
    result = recorded.runpytest()
    result.assert_outcomes(passed=5)
    assert stale_warnings(result) == 3
    lines = section(result)
    assert_stale_summary(lines)
    assert rerecord_command(lines) == [
        "pytest",
        "--record-mode=rewrite",
        *sorted(STALE),
    ]
    result.stdout.fnmatch_lines(["*StaleRecordingWarning: test_adopted.py::test_model_switch*"])
    assert snapshot(recorded.path) == before  # replay rewrites nothing

    # The warning can be made fatal the usual way, one test at a time.
    fatal = recorded.runpytest("-W", "error::llm_cassettes.StaleRecordingWarning")
    fatal.assert_outcomes(passed=2, failed=3)


@pytest.mark.slow
def test_the_summary_is_complete_under_xdist(recorded: pytest.Pytester) -> None:
    serial = section(recorded.runpytest())
    parallel = recorded.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    parallel.assert_outcomes(passed=5)
    assert section(parallel) == serial


def strict_failures(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: No recorded interaction matches POST*",
            "*model: recorded 'gpt-4o' | live 'gpt-4.1-mini'*",
        ]
    )
    assert {
        f"test_adopted.py::{name}" for name in re.findall(r"FAILED \S+::(\w+)", result.stdout.str())
    } == set(STALE)
    assert section(result) == []


def test_strict_makes_stale_recordings_fail(recorded: pytest.Pytester) -> None:
    strict_failures(recorded.runpytest("--llm-strict"))
    recorded.makeini("[pytest]\nllm_cassettes_strict = true\n")
    strict_failures(recorded.runpytest())


def test_a_chosen_match_on_is_honoured(recorded: pytest.Pytester) -> None:
    recorded.makeconftest(
        "import pytest\n"
        "@pytest.fixture\n"
        "def vcr_config():\n"
        "    return {'match_on': ['method', 'path', 'llm_body']}\n"
    )
    recorded.runpytest().assert_outcomes(passed=2, failed=3)


def test_upgrade_keeps_the_suite_passing_with_the_same_summary(
    recorded: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = section(recorded.runpytest())
    assert cli.main(["upgrade", str(recorded.path / "cassettes")]) == 0
    assert "5 cassette(s) written" in capsys.readouterr().out
    cassette = read_cassette(
        recorded.path / "cassettes" / "test_adopted" / "test_model_switch.yaml"
    )
    assert cassette["metadata"]["llm_cassettes"]["matching"] == "legacy"
    assert cassette["metadata"]["llm_cassettes"]["imported_from"] == "vcrpy"
    assert "json" in cassette["interactions"][0]["response"]["body"]  # typed
    upgraded = snapshot(recorded.path)

    result = recorded.runpytest()
    result.assert_outcomes(passed=5)
    assert stale_warnings(result) == 3
    assert section(result) == plain
    assert snapshot(recorded.path) == upgraded

    assert cli.main(["upgrade", "--strict", str(recorded.path / "cassettes")]) == 0
    cassette = read_cassette(
        recorded.path / "cassettes" / "test_adopted" / "test_model_switch.yaml"
    )
    assert "matching" not in cassette["metadata"]["llm_cassettes"]
    strict_failures(recorded.runpytest())


def test_the_command_in_the_summary_rerecords_exactly_the_stale_tests(
    recorded: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = rerecord_command(section(recorded.runpytest()))
    before = snapshot(recorded.path)
    with FakeOpenAI() as again:
        monkeypatch.setenv("FAKE_OPENAI_URL", again.base_url)
        recorded.runpytest(*command[1:]).assert_outcomes(passed=3)
    after = snapshot(recorded.path)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {f"cassettes/test_adopted/{t.split('::')[1]}.yaml" for t in STALE}
    for name in changed:  # re-recorded by llm-cassettes: matched on the body from now on
        info = read_cassette(recorded.path / name)["metadata"]["llm_cassettes"]
        assert "matching" not in info and info["sdk"] == {"openai": openai_version()}
    # The untouched cassettes still point at the first server; the new ones at this one.
    result = recorded.runpytest("--llm-strict", "-k", "not unchanged")
    result.assert_outcomes(passed=3)
    assert section(result) == []


def openai_version() -> str:
    from importlib import metadata

    return metadata.version("openai")


# ----------------------------------------------------------------- unused recordings --
CONVERSATION = """
import os, openai, pytest
from llm_cassettes import use_cassette

def ask(text):
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}])
    return reply.choices[0].message.content

@pytest.mark.vcr__MARKER__
def test_conversation():
    assert ask("first question") == "Echo: first question"
    if os.environ.get("APP_STAGE") != "changed":  # the code stopped asking this since
        assert ask("second question") == "Echo: second question"

@pytest.mark.vcr
@pytest.mark.default_cassette("shared")
def test_shared_one():
    ask("one")

@pytest.mark.vcr
@pytest.mark.default_cassette("shared")
def test_shared_two():
    ask("two")

def test_script_cassette():
    with use_cassette("script.yaml"__OPTIONS__):
        ask("scripted")
        if os.environ.get("APP_STAGE") != "changed":
            ask("scripted again")
"""


def conversation_suite(marker: str = "", options: str = "") -> str:
    return CONVERSATION.replace("__MARKER__", marker).replace("__OPTIONS__", options)


@pytest.fixture
def conversation(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    pytester.makeini(TREE_INI)
    pytester.makepyfile(test_talk=conversation_suite())
    pytester.runpytest("--record-mode=new_episodes").assert_outcomes(passed=4)
    fake_openai.stop()
    monkeypatch.setenv("APP_STAGE", "changed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-for-offline-replay")
    return pytester


def test_recordings_never_replayed_are_reported(conversation: pytest.Pytester) -> None:
    result = conversation.runpytest()
    result.assert_outcomes(passed=4)
    lines = section(result)
    assert lines[0] == "llm-cassettes: 2 tests left recordings unused"
    assert "Recorded but never replayed (dead recordings, or calls no longer made):" in lines
    # The test's own cassette and the one it opened itself; not the shared cassette,
    # which holds the other tests' recordings on purpose.
    assert ids_in(lines) == [
        "test_talk.py::test_conversation",
        "test_talk.py::test_script_cassette",
    ]
    block = lines[lines.index("test_talk.py::test_conversation") + 1]
    assert block.startswith("  cassettes/test_talk/test_conversation.yaml: interactions[1] POST ")
    assert lines[lines.index("test_talk.py::test_script_cassette") + 1].startswith(
        "  script.yaml: interactions[1] POST "
    )
    # Only replay modes report: new_episodes may leave anything unplayed. (The script's
    # use_cassette keeps its own mode, vcrpy's default "once".)
    recording = section(conversation.runpytest("--record-mode=new_episodes"))
    assert ids_in(recording) == ["test_talk.py::test_script_cassette"]


def test_allow_unused_false_fails_the_test(conversation: pytest.Pytester) -> None:
    conversation.makepyfile(
        test_talk=conversation_suite("(allow_unused=False)", ", allow_unused=False")
    )
    result = conversation.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*UnusedRecordingsError: test_talk.py::test_conversation never replayed 1 recorded*",
            "*cassettes/test_talk/test_conversation.yaml: interactions[[]1] POST *",
            "*allow_unused=True*",
        ]
    )
    # From vcr_config too, for the whole suite.
    conversation.makepyfile(test_talk=conversation_suite())
    conversation.makeconftest(
        "import pytest\n@pytest.fixture\ndef vcr_config():\n    return {'allow_unused': False}\n"
    )
    conversation.runpytest().assert_outcomes(passed=3, failed=1)


def test_use_cassette_outside_pytest_raises_on_unused_and_warns_on_stale(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "import os, sys, warnings, openai\n"
        "from llm_cassettes import use_cassette, UnusedRecordingsError\n"
        "client = openai.OpenAI(base_url=sys.argv[1], api_key='sk-x', max_retries=0)\n"
        "def ask(text):\n"
        "    client.chat.completions.create(model='gpt-4o',\n"
        "                                   messages=[{'role': 'user', 'content': text}])\n"
        "with use_cassette('c.yaml', record_mode='once'):\n"
        "    ask('a'); ask('b')\n"
        "try:\n"
        "    with use_cassette('c.yaml', allow_unused=False):\n"
        "        ask('a')\n"
        "except UnusedRecordingsError as error:\n"
        "    print('raised:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), fake_openai.base_url],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "raised: c.yaml never replayed 1 recorded interaction(s):" in done.stdout
    assert "c.yaml: interactions[1] POST " in done.stdout


# ------------------------------------------------------------ new_episodes, provenance --
def test_new_episodes_on_an_old_cassette_only_adds_lines(
    conversation: pytest.Pytester, fake_openai_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime
    import difflib

    path = conversation.path / "cassettes" / "test_talk" / "test_conversation.yaml"
    old = re.sub(r"recorded: '[\d-]+'", "recorded: '2026-01-15'", path.read_text())
    path.write_text(old)
    server = fake_openai_factory()
    monkeypatch.setenv("FAKE_OPENAI_URL", server.base_url)
    monkeypatch.setenv("APP_STAGE", "recorded")
    conversation.makepyfile(
        test_talk=conversation_suite().replace(
            '        assert ask("second question") == "Echo: second question"',
            '        assert ask("second question") == "Echo: second question"\n'
            '        assert ask("third question") == "Echo: third question"',
        )
    )
    # The recorded requests still go to the first server's URL: point them at this one.
    first_url = re.search(r"uri: (http://127\.0\.0\.1:\d+)/", old).group(1)  # type: ignore[union-attr]
    path.write_text(old.replace(first_url, server.base_url.removesuffix("/v1")))
    before = path.read_text()
    conversation.runpytest("--record-mode=new_episodes", "-k", "conversation").assert_outcomes(
        passed=1
    )
    after = path.read_text()
    changes = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"
    ]
    assert changes and all(line.startswith("+ ") for line in changes), changes
    info = read_cassette(path)["metadata"]["llm_cassettes"]
    assert info["recorded"] == "2026-01-15"  # the oldest answer's age, for check --max-age
    assert info["last_recorded"] == datetime.date.today().isoformat()
    assert info["sdk"] == {"openai": openai_version()}  # only SDKs whose traffic is in it
    assert len(read_cassette(path)["interactions"]) == 3


def test_provenance_lists_the_sdk_that_sent_the_traffic(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    import openai

    from llm_cassettes import tool, use_cassette

    @tool
    def lookup(query: str) -> str:
        return query.upper()

    with use_cassette(tmp_path / "tools_only.yaml", record_mode="once"):
        lookup("x")
    info = read_cassette(tmp_path / "tools_only.yaml")["metadata"]["llm_cassettes"]
    assert "sdk" not in info and "models" not in info  # no SDK made any of these calls

    client = openai.OpenAI(
        base_url=fake_openai.base_url,
        api_key=FAKE_API_KEY,
        max_retries=0,
        default_headers={"User-Agent": "OpenAI/Python 2.99.1"},
    )
    with use_cassette(tmp_path / "chat.yaml", record_mode="once"):
        client.embeddings.create(model="text-embedding-3-small", input="x")
    info = read_cassette(tmp_path / "chat.yaml")["metadata"]["llm_cassettes"]
    assert info["sdk"] == {"openai": "2.99.1"}  # the version that sent it, from the wire
    assert info["models"] == ["text-embedding-3-small"]
