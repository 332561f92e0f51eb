"""The review commands as a reviewer runs them: ``show``, ``check`` and ``diff``.

Cassettes are recorded here with the real SDK against the local fake server
(``use_cassette``), or taken from the suite's committed recordings; broken,
secret-bearing, stale and orphaned cassettes are made the way they happen in
real life (scrubbing switched off, a hand edit, a test renamed).
"""

from __future__ import annotations

import datetime
import gzip
import importlib.metadata
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from vcr.serializers import yamlserializer as vcr_yaml

from llm_cassettes import use_cassette
from tests._support import DATA, QUESTION, RECORDED_CASSETTES, TOOLS, TREE_INI, client_for
from tests._support.fake_openai import FAKE_API_KEY, SECRET_ORGANIZATION, FakeOpenAI
from tests.conftest import Run

COMMITTED = RECORDED_CASSETTES
CLI_DATA = DATA / "cli"
TODAY = datetime.date.today().isoformat()
OPENAI_VERSION = importlib.metadata.version("openai")


def agent(client: openai.OpenAI, tool_output: str = "128 experts") -> str:
    """A two-step agent: a streamed tool call, the tool's result, a streamed answer."""
    messages: list = [{"role": "user", "content": QUESTION}]
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as s:
        first = s.get_final_completion()
    call = first.choices[0].message.tool_calls[0]
    messages += [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": tool_output},
    ]
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as s:
        return s.get_final_completion().choices[0].message.content or ""


def record(path: Path, server: FakeOpenAI, run: Callable[[openai.OpenAI], object], **options):
    with use_cassette(path, record_mode="once", **options):
        run(client_for(server))
    assert path.is_file()
    return path


# ----------------------------------------------------------------------------------- show --


def test_show_assembles_a_streamed_agent_conversation(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run
) -> None:
    path = record(tmp_path / "agent.yaml", fake_openai, agent)
    code, out, _ = cli("show", path)
    assert code == 0
    assert f"recorded {TODAY} · with openai {OPENAI_VERSION} · models: gpt-4o" in out
    assert "interactions[0] POST /v1/chat/completions · gpt-4o · 200 · streamed" in out
    assert "tools offered: knowledge_search" in out
    assert f"user: {QUESTION}" in out
    # The tool call was streamed in 8-character pieces: shown whole, arguments assembled.
    assert f'assistant calls knowledge_search({{"query": "{QUESTION}"}})' in out
    # The tool result is labelled with the tool's name, not a call id.
    assert "tool (knowledge_search): 128 experts" in out
    # The answer streamed word by word is one line of text, not a list of chunks.
    assert "    assistant: Based on the tool: 128 experts" in out
    assert "chat.completion.chunk" not in out and "call_" not in out


def test_show_responses_stream_with_usage(cli: Run) -> None:
    code, out, _ = cli("show", COMMITTED / "test_responses_stream.yaml")
    assert code == 0
    assert "POST /v1/responses · gpt-4o · 200 · streamed" in out
    assert "user: Name one expert" in out
    assert "    assistant: Echo: Name one expert" in out
    assert "usage: input 6 · output 4 · total 10 tokens" in out
    assert "response.output_text.delta" not in out


def test_show_a_plain_vcrpy_cassette_like_a_typed_one(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI], cli: Run
) -> None:
    """Escaped-string bodies (plain vcrpy, ``typed_bodies=False``) read the same."""
    typed = record(tmp_path / "typed.yaml", fake_openai_factory(deterministic=True), agent)
    plain = record(
        tmp_path / "plain.yaml",
        fake_openai_factory(deterministic=True),
        agent,
        typed_bodies=False,
    )
    text = plain.read_text()
    assert "sse:" not in text and "json:" not in text and "\n        data: {" in text  # raw SSE

    def body(path: Path) -> str:
        out = cli("show", path)[1]
        return re.sub(r"127\.0\.0\.1:\d+", "HOST", out.split("\n", 3)[3])

    assert body(plain) == body(typed)
    assert "Based on the tool: 128 experts" in body(plain)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
def test_show_reads_compressed_bodies_of_plain_vcrpy_cassettes(
    tmp_path: Path, encoding: str, cli: Run
) -> None:
    """vcrpy keeps a body compressed unless told otherwise; some servers send deflate raw."""
    answer = {"object": "chat.completion", "model": "gpt-4o", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "128 experts"}}
    ]}  # fmt: skip
    raw = json.dumps(answer).encode()
    if encoding == "gzip":
        body = gzip.compress(raw)
    else:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS if encoding == "raw deflate" else 15)
        body = packer.compress(raw) + packer.flush()
    cassette = {
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions",
                    "body": json.dumps({"model": "gpt-4o", "messages": []}),
                    "headers": {"Content-Type": ["application/json"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {
                        "Content-Type": ["application/json"],
                        "Content-Encoding": [encoding.split()[-1]],
                    },
                    "body": {"string": body},
                },
            }
        ],
        "version": 1,
    }
    path = tmp_path / "plain.yaml"
    path.write_text(vcr_yaml.serialize(cassette), encoding="utf-8")  # vcrpy's own writer
    code, out, err = cli("show", path)
    assert code == 0, err
    assert "assistant: 128 experts" in out


def test_show_markdown_for_a_pull_request(cli: Run) -> None:
    code, out, _ = cli("show", "--format", "markdown", COMMITTED / "test_tool_call_round_trip.yaml")
    assert code == 0
    assert out.startswith("### `")
    assert "#### interactions[1] · `POST /v1/chat/completions` · `gpt-4o` · 200" in out
    assert "**tool** (`knowledge_search`)\n\n```text\n128 experts\n```" in out
    assert "**assistant** calls `knowledge_search`\n\n```json\n" in out
    assert "**Answer**\n\n**assistant**\n\n```text\nBased on the tool: 128 experts\n```" in out
    assert out.count("```") % 2 == 0  # every fence is closed


def test_show_shortens_long_content_unless_full(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run
) -> None:
    long = "word " * 400 + "the end"
    path = record(
        tmp_path / "long.yaml",
        fake_openai,
        lambda c: c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": long + " ```"}]
        ),
    )
    _, short, _ = cli("show", path)
    assert "more characters; --full shows all]" in short
    assert "the end" not in short
    _, full, _ = cli("show", "--full", path)
    assert "more characters" not in full
    assert full.count("the end") == 2  # the prompt and its echo, whole
    _, markdown, _ = cli("show", "--full", "--format", "markdown", path)
    assert "````text\n" in markdown  # a fence the content's own ``` cannot close


def test_show_recorded_tool_calls(tmp_path: Path, cli: Run) -> None:
    from llm_cassettes import tool

    @tool
    def knowledge_search(query: str, limit: int = 3) -> list[dict[str, object]]:
        return [{"title": "Llama 4 Maverick", "experts": 128}]

    @tool
    def flaky_index(query: str) -> str:
        raise LookupError("index unavailable")

    path = tmp_path / "tools.yaml"
    with use_cassette(path, record_mode="once"):
        knowledge_search("experts")
        with pytest.raises(LookupError):
            flaky_index("experts")
    code, out, _ = cli("show", path)
    assert code == 0
    assert "── interactions[0] tool knowledge_search\n" in out
    assert 'assistant calls knowledge_search({"query": "experts", "limit": 3})' in out
    assert 'tool (knowledge_search): [{"title": "Llama 4 Maverick", "experts": 128}]' in out
    assert "error: LookupError: index unavailable" in out


def test_show_tool_interactions_and_unknown_responses(cli: Run) -> None:
    code, out, _ = cli("show", CLI_DATA / "tools.yaml")
    assert code == 0
    assert "tool knowledge_search" in out
    assert 'assistant calls knowledge_search({"query": "experts"})' in out
    assert "tool (knowledge_search): 128 experts" in out
    assert "error: index unavailable" in out
    assert '"custom_record": "kept"' in out  # an unknown shape, shown as data


def test_show_names_the_file_and_line_of_a_broken_cassette(tmp_path: Path, cli: Run) -> None:
    broken = tmp_path / "broken.yaml"
    text = (COMMITTED / "test_chat_stream.yaml").read_text()
    broken.write_text(text.replace("    method: POST\n", "<<<<<<< HEAD\n    method: POST\n", 1))
    code, out, err = cli("show", broken, COMMITTED / "test_embeddings.yaml")
    assert code == 1
    assert re.search(rf"{re.escape(str(broken))} \(line \d+, column \d+\): not valid YAML", err)
    assert "2 embeddings of dimension 8" in out  # the other file is still shown


@pytest.mark.slow
def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    path = os.fspath(COMMITTED / "test_chat_stream.yaml")

    def run(env: dict[str, str], tty: bool) -> str:
        command = [sys.executable, "-m", "llm_cassettes", "show", path]
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
        if not tty:
            return subprocess.run(
                command, env=env, capture_output=True, text=True, check=True
            ).stdout
        master, slave = pty.openpty()
        try:
            subprocess.run(command, env=env, stdout=slave, check=True)
        finally:
            os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        return b"".join(chunks).decode()

    assert "\x1b[" in run({}, tty=True)
    assert "\x1b[" not in run({"NO_COLOR": "1"}, tty=True)
    piped = run({}, tty=False)
    assert "\x1b[" not in piped and "assistant: Echo: Summarise" in piped


def test_every_command_has_help_with_examples_and_exit_codes(cli: Run) -> None:
    for command in ("show", "check", "diff"):
        code, out, _ = cli(command, "--help")
        assert code == 0
        assert f"llm-cassettes {command}" in out.split("examples:")[1]
        assert "exit codes: 0" in out


# ---------------------------------------------------------------------------------- check --


def test_check_passes_clean_cassettes_with_a_one_line_summary(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run
) -> None:
    record(tmp_path / "agent.yaml", fake_openai, agent)
    shutil.copytree(COMMITTED, tmp_path / "committed")
    code, out, _ = cli("check", tmp_path)
    assert code == 0
    assert re.fullmatch(r"5 cassettes checked: all clean \(\d+\.\ds\)\n", out)


def test_check_finds_planted_secrets(tmp_path: Path, fake_openai: FakeOpenAI, cli: Run) -> None:
    """Recorded with scrubbing off, then a key pasted into a prompt by hand."""
    path = record(
        tmp_path / "leak.yaml",
        fake_openai,
        lambda c: c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        ),
        scrub=False,
    )
    text = path.read_text().replace("content: hello", "content: use key AKIAABCDEFGHIJKLMNOP")
    path.write_text(text)
    code, out, _ = cli("check", path)
    assert code == 1
    lines = out.splitlines()
    where = f"{path}:interactions[0]"
    assert any(
        line.startswith(f"{where}.request.headers.authorization: secret header not redacted")
        for line in lines
    )
    for header in ("openai-organization", "openai-project", "set-cookie"):
        assert any(line.startswith(f"{where}.response.headers.{header}: ") for line in lines)
    assert (
        f"{where}.request.body.json.messages[0].content: "
        "looks like a credential (AWS access key id: AKIAABCD…, 20 characters)"
    ) in lines
    assert FAKE_API_KEY not in out and SECRET_ORGANIZATION not in out  # the report leaks nothing
    assert lines[-1].startswith("6 problems in 1 cassette")  # two cookies, 3 headers, the key
    assert all(line.startswith(str(path)) for line in lines[:-1])


def test_check_reports_unreadable_alien_and_drifted_cassettes(tmp_path: Path, cli: Run) -> None:
    text = (COMMITTED / "test_chat_stream.yaml").read_text()
    chunk_type = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    (tmp_path / "conflict.yaml").write_text(
        text.replace("  response:\n", "=======\n  response:\n", 1)
    )
    (tmp_path / "alien.yaml").write_text(text.replace(chunk_type, "os.system"))
    (tmp_path / "drift.yaml").write_text(
        text.replace('"created": 1700000001', '"created": "yesterday"', 1)
    )
    (tmp_path / "not-a-cassette.yaml").write_text("name: ci\non: push\n")
    code, out, _ = cli("check", tmp_path)
    assert code == 1
    lines = sorted(out.splitlines()[:-1])
    assert lines[0].startswith(
        f"{tmp_path}/alien.yaml:interactions[0].response.body.sse.__type__: "
        "__type__ 'os.system' is outside the allowlist"
    )
    assert re.match(rf"{tmp_path}/conflict.yaml:\d+:\d+: not valid YAML", lines[1])
    assert lines[2].startswith(
        f"{tmp_path}/drift.yaml:interactions[0].response.body.sse.events[0]: SDK drift: "
        "__data__ no longer validates as ChatCompletionChunk (created:"
    )
    assert len(lines) == 3  # not-a-cassette.yaml, found by walking, is not one: skipped
    assert out.splitlines()[-1].startswith("3 problems in 3 cassettes")
    code, out, _ = cli("check", tmp_path / "not-a-cassette.yaml")  # named: it must be one
    assert code == 1
    assert out.splitlines()[0] == (
        f"{tmp_path}/not-a-cassette.yaml: not a cassette (expected a mapping with an "
        "'interactions' list)"
    )


def test_check_defaults_to_the_configured_tree(
    tmp_path: Path, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nllm_cassettes_dir = "recorded"\n'
    )
    shutil.copytree(COMMITTED, tmp_path / "recorded" / "tests")
    (tmp_path / "elsewhere.yaml").write_text("interactions: [")  # outside the tree: not checked
    monkeypatch.chdir(tmp_path / "recorded")  # found from a subdirectory too
    code, out, _ = cli("check")
    assert code == 0
    assert out.startswith("4 cassettes checked: all clean")


def test_check_max_age_warns_on_stale_cassettes(tmp_path: Path, cli: Run) -> None:
    stale = tmp_path / "stale.yaml"
    text = (COMMITTED / "test_embeddings.yaml").read_text()
    stale.write_text(re.sub(r"recorded: '[\d-]+'", "recorded: '2020-01-31'", text))
    undated = tmp_path / "undated.yaml"
    undated.write_text(text.split("metadata:")[0])
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(re.sub(r"recorded: '[\d-]+'", f"recorded: '{TODAY}'", text))

    code, out, _ = cli("check", "--max-age", "90", tmp_path)
    assert code == 0  # warnings do not fail the check
    days = (datetime.date.today() - datetime.date(2020, 1, 31)).days
    assert (
        f"{stale}: warning: stale: recorded 2020-01-31, {days} days ago (--max-age 90); "
        "re-record it" in out
    )
    assert f"{undated}: warning: no recording date" in out
    assert str(fresh) not in out
    assert out.splitlines()[-1].startswith("3 cassettes checked: all clean, 2 warnings")
    assert cli("check", "--max-age", "90", "--strict", tmp_path)[0] == 1
    assert cli("check", tmp_path)[1].startswith("3 cassettes checked: all clean (")


@pytest.mark.slow
def test_check_orphans_runs_pytest_collection(
    pytester: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    cli: Run,
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makeini(TREE_INI)
    pytester.makepyfile(
        test_app="""
        import os, openai, pytest

        def ask(text):
            client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
            return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}]).choices[0].message.content

        class TestChat:
            @pytest.mark.vcr
            @pytest.mark.parametrize("text", ["a/b", "plain"])
            def test_echo(self, text):
                assert ask(text) == "Echo: " + text
        """
    )
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=2)
    recorded = sorted((pytester.path / "cassettes").rglob("*.yaml"))
    assert len(recorded) == 2
    # A test renamed away leaves its cassette behind.
    orphan = pytester.path / "cassettes" / "test_app" / "test_removed.yaml"
    shutil.copy(recorded[0], orphan)

    code, out, _ = cli("check", "--orphans")
    assert code == 1
    assert out.splitlines()[0] == (
        "cassettes/test_app/test_removed.yaml: orphan: no collected test uses this cassette"
    )
    assert out.splitlines()[1].startswith("1 problem in 3 cassettes")

    orphan.unlink()
    code, out, _ = cli("check", "--orphans")
    assert (code, out.split(":")[0]) == (0, "2 cassettes checked")


@pytest.mark.slow
def test_check_orphans_refuses_when_collection_fails(pytester: pytest.Pytester, cli: Run) -> None:
    pytester.makeini(TREE_INI)
    pytester.makepyfile(test_broken="import not_a_module_anywhere\n")
    (pytester.path / "cassettes").mkdir()
    shutil.copy(COMMITTED / "test_chat_stream.yaml", pytester.path / "cassettes" / "x.yaml")
    code, out, _ = cli("check", "--orphans")
    assert code == 1
    assert "pytest collection failed" in out and "not_a_module_anywhere" in out
    assert "orphan:" not in out


# ----------------------------------------------------------------------------------- diff --


def test_diff_ignores_ids_timestamps_and_chunking(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI], cli: Run
) -> None:
    old = record(tmp_path / "old.yaml", fake_openai_factory(), agent)
    new = record(tmp_path / "new.yaml", fake_openai_factory(), agent)
    assert old.read_text() != new.read_text()  # fresh ids, times and ports everywhere
    code, out, _ = cli("diff", old, new)
    assert code == 0
    assert "no semantic changes (ids, timestamps or chunking only)" in out


def test_diff_a_rerecording_with_a_changed_answer(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run
) -> None:
    old = record(tmp_path / "old.yaml", fake_openai, agent)
    new = record(tmp_path / "new.yaml", fake_openai, lambda c: agent(c, "129 experts"))
    code, out, _ = cli("diff", old, new)
    assert code == 1
    assert "interactions[0]" not in out  # the first request and its tool call are unchanged
    assert "interactions[1] POST /v1/chat/completions: prompt changed, answer changed" in out
    assert (
        "    - tool (knowledge_search): 128 experts\n    + tool (knowledge_search): 129 experts"
        in out
    )
    assert (
        "    - assistant: Based on the tool: 128 experts\n"
        "    + assistant: Based on the tool: 129 experts"
    ) in out
    assert out.endswith("1 cassette changed: 1 interaction changed, 0 added, 0 removed\n")

    code, markdown, _ = cli("diff", "--format", "markdown", old, new)
    assert code == 1
    assert markdown.startswith("**1 cassette changed: 1 interaction changed, 0 added, 0 removed**")
    assert (
        "#### interactions[1] · `POST /v1/chat/completions` · prompt changed, answer changed"
        in markdown
    )
    assert (
        "```diff\n- assistant: Based on the tool: 128 experts\n+ assistant: Based on the tool: 129 experts\n```"
        in markdown
    )


def _first_words(client: openai.OpenAI, words: int | None = None) -> str:
    """Stream an answer; stop reading after ``words`` chunks with content (all if None)."""
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    seen: list[str] = []
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                seen.append(chunk.choices[0].delta.content)
                if words is not None and len(seen) == words:
                    break
    except openai.APIConnectionError:
        pass  # the server broke the stream off: what arrived was recorded with the error
    finally:
        stream.close()
    return "".join(seen)


def test_show_and_diff_tell_a_stream_that_ended_early(
    tmp_path: Path, fake_openai_factory: Callable[..., FakeOpenAI], cli: Run
) -> None:
    """A stream the client stopped reading, or the server broke off, is said to be one:
    its answer is only what arrived, which a reviewer must not take for the whole."""
    whole = record(tmp_path / "whole.yaml", fake_openai_factory(), _first_words)
    cut = record(tmp_path / "cut.yaml", fake_openai_factory(), lambda c: _first_words(c, 2))
    dropped = record(tmp_path / "dropped.yaml", fake_openai_factory(drop_after=3), _first_words)

    code, out, _ = cli("show", whole)
    assert code == 0
    assert "stream " not in out.replace("streamed", "")
    code, out, _ = cli("show", cut)
    assert code == 0
    assert "  stream cut short: the client stopped reading before the end\n" in out
    code, out, _ = cli("show", dropped)
    assert code == 0
    assert "  stream broken off: RemoteProtocolError: " in out
    code, markdown, _ = cli("show", "--format", "markdown", cut)
    assert "**Stream cut short: the client stopped reading before the end**" in markdown

    code, out, _ = cli("diff", whole, cut)
    assert code == 1
    assert "interactions[0] POST /v1/chat/completions: answer changed, stream end changed" in out
    assert "    - whole stream\n    + cut short: the client stopped reading before the end" in out
    code, out, _ = cli("diff", cut, dropped)
    assert code == 1
    assert "stream end changed" in out and "+ broken off: RemoteProtocolError" in out


def test_diff_answer_tool_call_and_parameter_changes(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run
) -> None:
    def ask(client: openai.OpenAI, run: str, tools: bool, temperature: float) -> None:
        # The fake model's answer quotes the request headers: a changed answer, same prompt.
        client.with_options(default_headers={"x-run": run}).chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "echo-headers"}],
            temperature=temperature,
        )
        if tools:
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": QUESTION}],
                tools=TOOLS,
                tool_choice={"type": "function", "function": {"name": "knowledge_search"}},
            )

    old = record(tmp_path / "old.yaml", fake_openai, lambda c: ask(c, "1", True, 0.5))
    new = record(tmp_path / "new.yaml", fake_openai, lambda c: ask(c, "2", False, 0.0))
    code, out, _ = cli("diff", old, new)
    assert code == 1
    assert "interactions[0] POST /v1/chat/completions: request changed, answer changed" in out
    assert "    temperature: 0.5 → 0\n" in out  # compared as matching does: 0.0 == 0
    # A long answer changed in one place is shown around that place.
    assert re.search(r'    - assistant: …[^\n]{1,70}"x-run": "1"[^\n]{1,70}…\n', out)
    assert re.search(r'    \+ assistant: …[^\n]{1,70}"x-run": "2"[^\n]{1,70}…\n', out)
    assert "interactions[1] POST /v1/chat/completions: removed" in out
    assert f"    - user: {QUESTION}" in out
    assert f'    - → assistant calls knowledge_search({{"query": "{QUESTION}"}})' in out
    assert out.endswith("1 cassette changed: 1 interaction changed, 0 added, 1 removed\n")


def test_diff_git_compares_every_changed_cassette_with_a_revision(
    tmp_path: Path, fake_openai: FakeOpenAI, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    tree = repo / "cassettes"
    tree.mkdir(parents=True)
    record(tree / "agent.yaml", fake_openai, agent)
    record(tree / "same.yaml", fake_openai, agent)
    (repo / "ci.yaml").write_text("on: push\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "recorded")
    # Re-record: one answer changes, one only gets fresh ids, one is new, ci.yaml changes.
    (tree / "agent.yaml").unlink()
    record(tree / "agent.yaml", fake_openai, lambda c: agent(c, "129 experts"))
    (tree / "same.yaml").unlink()
    record(tree / "same.yaml", fake_openai, agent)
    record(tree / "fresh.yaml", fake_openai, agent)
    (repo / "ci.yaml").write_text("on: pull_request\n")

    monkeypatch.chdir(repo)
    code, out, _ = cli("diff", "--git", "HEAD")
    assert code == 1
    files = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert files == [
        "cassettes/agent.yaml",
        "cassettes/fresh.yaml (new file)",
        "cassettes/same.yaml",
        "2 cassettes changed: 1 interaction changed, 2 added, 0 removed",
    ]
    assert "  interactions[0] POST /v1/chat/completions: added" in out
    assert cli("diff", "--git", "HEAD", "cassettes/same.yaml")[0] == 0
    code, _, err = cli("diff", "--git", "no-such-rev")
    assert code == 2 and "no-such-rev" in err


def test_diff_bad_usage_and_broken_files(tmp_path: Path, cli: Run) -> None:
    assert cli("diff", COMMITTED / "test_chat_stream.yaml")[0] == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions:\n- request: {method: POST}\n  response: {}\n")
    code, _, err = cli("diff", COMMITTED / "test_chat_stream.yaml", broken)
    assert code == 2
    assert f"{broken}: interactions[0].request: needs 'method' and 'uri' strings" in err
