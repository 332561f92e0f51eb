"""Two cassettes open on one file save without losing each other's recordings.

Two ``use_cassette`` blocks on the same path, one nested in the other, are
two writers that loaded the same file: the inner one saves first, then the
outer one saves over it. That is exactly what two pytest-xdist workers sharing
a cassette do, made deterministic. vcrpy's own persister keeps only the last
writer's view; this library merges under the cassette's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from llm_cassettes import CassetteFormatError, use_cassette
from tests._support import answer, read_cassette, stored_prompts
from tests._support.fake_openai import FakeOpenAI

Client = Callable[[FakeOpenAI], openai.OpenAI]


def test_new_episodes_writers_both_kept_in_order(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        answer(client, "base")
    with use_cassette(path, record_mode="new_episodes"):  # worker 1 loads [base]
        with use_cassette(path, record_mode="new_episodes"):  # worker 2 loads [base]
            answer(client, "from worker 2")
        # worker 2 has saved [base, w2]; worker 1 records and saves [base, w1]
        answer(client, "from worker 1")
    assert stored_prompts(path) == ["base", "from worker 2", "from worker 1"]

    fake_openai.stop()  # everything replays offline, in both orders
    with use_cassette(path, record_mode="none"):
        assert answer(client, "from worker 1") == "Echo: from worker 1"
        assert answer(client, "from worker 2") == "Echo: from worker 2"
        assert answer(client, "base") == "Echo: base"


def test_new_cassette_created_by_two_writers(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    """Neither writer found a file; the second to save still keeps the first one's work."""
    client = make_client(fake_openai)
    path = tmp_path / "new" / "shared.yaml"
    with use_cassette(path, record_mode="once"):
        with use_cassette(path, record_mode="once"):
            answer(client, "inner")
        answer(client, "outer")
    assert stored_prompts(path) == ["inner", "outer"]


def test_rerecording_writer_replaces_only_what_it_rerecorded(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    """Mode ``all`` replaces the interactions it re-recorded, not the other writer's new ones."""
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        answer(client, "kept")
        answer(client, "re-recorded")
    old = read_cassette(path)["interactions"][1]["response"]["body"]["json"]["__data__"]["id"]
    with use_cassette(path, record_mode="all"):
        with use_cassette(path, record_mode="new_episodes"):
            answer(client, "added meanwhile")
        answer(client, "re-recorded")
    assert stored_prompts(path) == ["kept", "added meanwhile", "re-recorded"]
    new = read_cassette(path)["interactions"][2]["response"]["body"]["json"]["__data__"]["id"]
    assert new != old  # the fresh recording, not the stale one


def test_same_recording_by_both_writers_is_stored_once(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    """An interaction both writers recorded identically (a deterministic service) is not
    appended a second time: each test replays its own copy of the file, one is enough."""
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        answer(client, "base")
    with use_cassette(path, record_mode="new_episodes") as outer:
        with use_cassette(path, record_mode="new_episodes") as inner:
            answer(client, "both")
        outer.append(*inner.data[-1])  # the outer writer got byte-identical traffic
        answer(client, "outer")
    assert stored_prompts(path) == ["base", "both", "outer"]


def test_repeated_recording_keeps_its_count(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    """An interaction one writer recorded twice (a retry) stays twice after the merge."""
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        answer(client, "base")
    with use_cassette(path, record_mode="new_episodes") as outer:
        with use_cassette(path, record_mode="new_episodes"):
            answer(client, "inner")
        outer.append(*outer.data[0])  # "base" recorded again, identically
        answer(client, "outer")
    assert stored_prompts(path) == ["base", "inner", "base", "outer"]


def test_metadata_of_both_writers_is_kept(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        with use_cassette(path, record_mode="new_episodes"):
            answer(client, "a", model="gpt-4o-mini")
        answer(client, "b", model="gpt-4o")
    assert read_cassette(path)["metadata"]["llm_cassettes"]["models"] == ["gpt-4o", "gpt-4o-mini"]


def test_file_broken_while_recording_is_left_alone(
    fake_openai: FakeOpenAI, make_client: Client, tmp_path: Path
) -> None:
    """A merge conflict committed while a test records: the save fails, naming file and line."""
    client = make_client(fake_openai)
    path = tmp_path / "shared.yaml"
    with use_cassette(path, record_mode="new_episodes"):
        answer(client, "base")
    conflicted = path.read_text().replace("interactions:", "<<<<<<< HEAD\ninteractions:", 1)
    with (
        pytest.raises(CassetteFormatError) as error,
        use_cassette(path, record_mode="new_episodes"),
    ):
        answer(client, "new")
        path.write_text(conflicted)
    assert str(path) in str(error.value)
    assert "line 3" in str(error.value)
    assert path.read_text() == conflicted
