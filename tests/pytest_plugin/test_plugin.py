"""The pytest plugin as users meet it: pytest-recording's markers and options, our cassettes.

Each test writes a small test project with ``pytester`` and runs pytest on it,
recording against the local fake server and replaying with it stopped.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests._support import TREE_INI, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, SECRET_COOKIE, SECRET_ORGANIZATION, FakeOpenAI

INI = TREE_INI

TEST_CHAT = """
import os, openai, pytest

def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key=os.environ.get("KEY", "sk-test-FAKEKEY0123456789abcdefABCDEF"), max_retries=0)

def ask(text):
    reply = client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
    return reply.choices[0].message.content

@pytest.mark.vcr
def test_chat():
    assert ask("hello there") == "Echo: hello there"
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makeini(INI)
    return pytester


def cassettes(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.yaml"))


def test_record_once_then_replay_offline(project: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    project.makepyfile(test_x=TEST_CHAT)
    project.runpytest("--record-mode=once").assert_outcomes(passed=1)
    assert cassettes(project.path) == ["cassettes/test_x/test_chat.yaml"]
    served = len(fake_openai.requests)
    fake_openai.stop()
    project.runpytest().assert_outcomes(passed=1)  # default mode "none": from the cassette
    assert len(fake_openai.requests) == served


def test_replay_mode_none_refuses_unrecorded_requests(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=TEST_CHAT)
    result = project.runpytest()  # nothing recorded, mode "none"
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CassetteMiss: No recorded interaction matches POST*"])


def test_one_cassette_per_test_id(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_ids="""
        import os, openai, pytest

        def ask(text):
            client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
            return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}]).choices[0].message.content

        class TestA:
            class TestInner:
                @pytest.mark.vcr
                def test_x(self):
                    assert ask("a") == "Echo: a"

        class TestB:
            class TestInner:
                @pytest.mark.vcr
                def test_x(self):
                    assert ask("b") == "Echo: b"

        @pytest.mark.vcr
        @pytest.mark.parametrize("value", ["a/b", "a:b", "a b", "x" * 300])
        def test_param(value):
            assert ask(value) == "Echo: " + value
        """
    )
    project.runpytest("--record-mode=once").assert_outcomes(passed=6)
    files = cassettes(project.path)
    assert len(files) == 6  # no two test IDs share a file
    assert "cassettes/test_ids/TestA.TestInner.test_x.yaml" in files
    assert "cassettes/test_ids/TestB.TestInner.test_x.yaml" in files
    assert all(len(Path(name).name) < 200 for name in files)
    # Each file holds its own test's traffic, and replay finds them all.
    prompts = {
        read_cassette(project.path / f)["interactions"][0]["request"]["body"]["json"]["messages"][
            0
        ]["content"]
        for f in files
    }
    assert prompts == {"a", "b", "a/b", "a:b", "a b", "x" * 300}
    project.runpytest().assert_outcomes(passed=6)


def test_pytest_recording_default_layout_without_the_ini_option(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makepyfile(test_x=TEST_CHAT)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    assert cassettes(pytester.path) == ["cassettes/test_x/test_chat.yaml"]


def test_existing_plain_vcrpy_cassette_replays_unchanged(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cassette recorded by plain pytest-recording (no llm-cassettes) keeps working in place."""
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makepyfile(test_x=TEST_CHAT)
    pytester.runpytest("-p", "no:llm_cassettes", "--record-mode=once").assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_x" / "test_chat.yaml"
    plain = path.read_text()
    assert "string: '{" in plain or 'string: "{' in plain  # vcrpy's escaped-string body
    fake_openai.stop()
    pytester.runpytest().assert_outcomes(passed=1)
    assert path.read_text() == plain  # replay does not rewrite it


def test_user_vcr_config_is_merged_and_scrubbing_stays_on(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-proj-ENVSECRET0123456789abcdefghij"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("KEY", secret)
    project.makeconftest(
        """
        import pytest

        def keep(response):
            response["headers"]["x-user-hook"] = ["ran"]
            return response

        @pytest.fixture
        def vcr_config():
            return {"filter_headers": ["accept"], "before_record_response": keep}
        """
    )
    project.makepyfile(
        test_x=TEST_CHAT
        + """
@pytest.mark.vcr
def test_echo():
    assert "Headers:" in ask("echo-headers please")
"""
    )
    project.runpytest("--record-mode=once").assert_outcomes(passed=2)
    for name in ("test_chat", "test_echo"):
        path = project.path / "cassettes" / "test_x" / f"{name}.yaml"
        text = path.read_text()
        interaction = read_cassette(path)["interactions"][0]
        assert "accept" not in interaction["request"]["headers"]  # the user's filter ran
        assert interaction["response"]["headers"]["x-user-hook"] == ["ran"]  # the user's hook ran
        for leaked in (secret, SECRET_ORGANIZATION, SECRET_COOKIE, "Bearer sk-"):
            assert leaked not in text, (name, leaked)
        assert interaction["request"]["headers"]["authorization"] == ["<REDACTED>"]


def test_scrubbing_can_be_turned_off_explicitly(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def vcr_config():
            return {"scrub": False}
        """
    )
    project.makepyfile(test_x=TEST_CHAT)
    project.runpytest("--record-mode=once").assert_outcomes(passed=1)
    text = (project.path / "cassettes" / "test_x" / "test_chat.yaml").read_text()
    assert FAKE_API_KEY in text


def test_new_episodes_only_adds_interactions(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=TEST_CHAT)
    project.runpytest("--record-mode=once").assert_outcomes(passed=1)
    path = project.path / "cassettes" / "test_x" / "test_chat.yaml"
    before = path.read_text()
    project.makepyfile(
        test_x=TEST_CHAT.replace(
            'assert ask("hello there") == "Echo: hello there"',
            'assert ask("hello there") == "Echo: hello there"\n    assert ask("and more") == "Echo: and more"',
        )
    )
    project.runpytest("--record-mode=new_episodes").assert_outcomes(passed=1)
    after = path.read_text()
    assert len(read_cassette(path)["interactions"]) == 2
    changes = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"
    ]
    assert changes and all(line.startswith("+ ") for line in changes)  # a pure addition


@pytest.mark.fake_openai(deterministic=True)
def test_rerecording_identical_traffic_is_byte_identical(
    project: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    project.makepyfile(test_x=TEST_CHAT.replace("hello there", "same again"))
    path = project.path / "cassettes" / "test_x" / "test_chat.yaml"
    project.runpytest("--record-mode=rewrite").assert_outcomes(passed=1)
    first = path.read_bytes()
    fake_openai.stop()
    # A second server in the same mode, on the same URL is not possible; re-record against
    # a fresh deterministic server at a new URL and compare with the URL normalised.
    again = FakeOpenAI(deterministic=True).start()
    try:
        os.environ["FAKE_OPENAI_URL"] = again.base_url
        project.runpytest("--record-mode=rewrite").assert_outcomes(passed=1)
    finally:
        again.stop()
    second = path.read_bytes().replace(again.base_url.encode(), fake_openai.base_url.encode())
    assert second == first


def test_disable_recording_leaves_no_cassette(
    project: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    project.makepyfile(test_x=TEST_CHAT)
    project.runpytest("--disable-recording").assert_outcomes(passed=1)
    assert cassettes(project.path) == []
    assert len(fake_openai.requests) == 1


def test_matching_options_per_test_through_the_marker(
    project: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    project.makepyfile(
        test_x="""
        import os, openai, pytest

        @pytest.mark.vcr(ignore_json_paths=["user"])
        def test_user_is_volatile():
            client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], user=os.environ["RUN"]
            )
        """
    )
    os.environ["RUN"] = "run-1"
    try:
        project.runpytest("--record-mode=once").assert_outcomes(passed=1)
        fake_openai.stop()
        os.environ["RUN"] = "run-2"
        project.runpytest().assert_outcomes(passed=1)
    finally:
        del os.environ["RUN"]


def test_block_network_still_replays_from_the_cassette(
    project: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    project.makepyfile(test_x=TEST_CHAT)
    project.runpytest("--record-mode=once").assert_outcomes(passed=1)
    served = len(fake_openai.requests)
    # The server keeps running: only the socket block stands between the test and it.
    project.runpytest("--block-network").assert_outcomes(passed=1)
    assert len(fake_openai.requests) == served
    project.makepyfile(
        test_y="""
        import os, openai

        def test_unmarked_call_is_blocked():
            client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
            try:
                client.models.list()
            except RuntimeError as error:  # pytest-recording's own socket block
                assert "Network is disabled" in str(error)
                return
            raise AssertionError("network was not blocked")
        """
    )
    project.runpytest("--block-network", "test_y.py").assert_outcomes(passed=1)
    assert len(fake_openai.requests) == served
