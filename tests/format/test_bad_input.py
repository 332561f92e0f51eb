"""Bad cassettes give a clear error naming the file and the problem, and stay untouched."""

from __future__ import annotations

import warnings
from pathlib import Path

import openai
import pytest

from llm_cassettes import CassetteDriftWarning, CassetteFormatError, use_cassette
from tests._support import TREE_INI
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI


def _record_chat(fake: FakeOpenAI, path: Path, stream: bool = False) -> openai.OpenAI:
    client = openai.OpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="once"):
        if stream:
            list(
                client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
                )
            )
        else:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
    return client


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ninteractions:\n- request: {method: GET\n  uri: [\n")
    with (
        pytest.raises(CassetteFormatError) as error,
        use_cassette(path, record_mode="new_episodes"),
    ):
        pass
    assert str(path) in str(error.value)
    assert "line " in str(error.value)


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all", "none"])
def test_unreadable_cassette_is_never_overwritten(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini(TREE_INI)
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.vcr
        def test_x():
            pass
        """
    )
    path = pytester.path / "cassettes" / "test_x" / "test_x.yaml"
    path.parent.mkdir(parents=True)
    conflicted = (
        "version: 1\n<<<<<<< HEAD\ninteractions: []\n=======\ninteractions: [1]\n>>>>>>> b\n"
    )
    path.write_text(conflicted)
    result = pytester.runpytest(f"--record-mode={mode}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CassetteFormatError*test_x.yaml*line*"])
    assert path.read_text() == conflicted


def test_type_outside_allowlist_is_refused(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    client = _record_chat(fake_openai, path)
    text = path.read_text()
    hostile = text.replace("openai.types.chat.chat_completion.ChatCompletion", "os.system")
    path.write_text(hostile)
    with (
        pytest.raises(CassetteFormatError, match=r"c\.yaml.*'os\.system' is outside the allowlist"),
        use_cassette(path, record_mode="none"),
    ):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert path.read_text() == hostile


def test_python_tags_are_refused_by_the_safe_loader(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("version: 1\ninteractions: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(CassetteFormatError, match="evil.yaml"), use_cassette(path):
        pass


def test_data_that_no_longer_validates_warns_naming_the_field(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "drift.yaml"
    client = _record_chat(fake_openai, path)
    fake_openai.stop()
    text = path.read_text().replace("finish_reason: stop", "finish_reason: 17")
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with use_cassette(path, record_mode="none"):
            reply = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
    drift = [w for w in caught if issubclass(w.category, CassetteDriftWarning)]
    assert drift, [str(w.message) for w in caught]
    message = str(drift[0].message)
    assert "drift.yaml" in message and "choices.0.finish_reason" in message
    assert reply.choices[0].finish_reason == 17  # the payload still replays as recorded


def test_stream_event_that_is_not_text_is_a_format_error(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    _record_chat(fake_openai, path, stream=True)
    text = path.read_text()
    start = text.index("        - '{")
    end = text.index("\n", start)
    path.write_text(text[:start] + "        - [1, 2]" + text[end:])
    with (
        pytest.raises(
            CassetteFormatError,
            match=r"s\.yaml: interactions\[0\]\.response\.body\.sse\.events\[0\]",
        ),
        use_cassette(path, record_mode="none"),
    ):
        pass


def test_missing_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ninteractions:\n- request: {method: GET, uri: 'http://x/'}\n")
    with (
        pytest.raises(CassetteFormatError, match=r"m\.yaml: interactions\[0\]: expected 'request'"),
        use_cassette(path),
    ):
        pass
