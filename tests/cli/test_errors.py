"""Every command on a real repository: good cassettes, broken ones and unrelated YAML side by side.

Each command reports a bad file as ``FILE: message``, goes on with the others,
exits with its documented code, and never shows a traceback. Walking a
directory reads only cassettes: CI workflows, pre-commit and mkdocs
configurations are neither flagged nor touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llm_cassettes.format import LOCK_DIR
from tests._support import DATA, RECORDED_CASSETTES
from tests.conftest import Run

COMMITTED = RECORDED_CASSETTES
CORPUS = DATA / "llama_stack" / "corpus" / "integration"

UNRELATED = {
    ".github/workflows/ci.yml": "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    ".pre-commit-config.yaml": "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n",
    "mkdocs.yml": "site_name: docs\nnav:\n- Home: index.md\n",
    "cassettes/tests/test_a/notes.yaml": "# which tests were re-recorded when\nlast: 2025-01-01\n",
}
BOMB = """\
interactions:
- request: {method: GET, uri: 'https://x.io/', headers: {}, body: null}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body:
      json:
        a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout: two good cassettes, three broken ones, and YAML that is not a cassette."""
    root = tmp_path / "repo"
    tree = root / "cassettes" / "tests" / "test_a"
    tree.mkdir(parents=True)
    shutil.copy(COMMITTED / "test_chat_stream.yaml", tree / "good_stream.yaml")
    shutil.copy(COMMITTED / "test_embeddings.yaml", tree / "good_embeddings.yaml")
    conflict = (COMMITTED / "test_embeddings.yaml").read_text()
    (tree / "conflict.yaml").write_text(
        conflict.replace("- request:", "<<<<<<< HEAD\n- request:", 1)
    )
    (tree / "bomb.yaml").write_text(BOMB)
    deep = "".join(f"{'  ' * level}- \n" for level in range(250))
    (tree / "deep.yaml").write_text(f"version: 1\ninteractions:\n{deep}")
    (tree / LOCK_DIR).mkdir()
    (tree / LOCK_DIR / ".gitignore").write_text("*\n")
    (tree / LOCK_DIR / "good_stream.yaml.lock").write_text("")
    for name, text in UNRELATED.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


BAD = ("bomb.yaml", "conflict.yaml", "deep.yaml")


def _tree(repo: Path) -> Path:
    return repo / "cassettes" / "tests" / "test_a"


def _bad_lines(text: str, repo: Path) -> dict[str, str]:
    """``{file name: its line}`` of the per-file lines naming a file of the tree."""
    prefix = f"{_tree(repo)}{os.sep}"
    return {
        re.split(r"[ :]", line[len(prefix) :], maxsplit=1)[0]: line
        for line in text.splitlines()
        if line.startswith(prefix)
    }


def test_check_reports_each_bad_cassette_and_nothing_else(repo: Path, cli: Run) -> None:
    code, out, _ = cli("check", repo)
    assert code == 1
    lines = _bad_lines(out, repo)
    assert sorted(lines) == list(BAD)
    assert "an anchor ('a')" in lines["bomb.yaml"]
    assert "not valid YAML" in lines["conflict.yaml"]
    assert "nested more than 200 levels deep" in lines["deep.yaml"]
    assert out.splitlines()[-1].startswith("3 problems in 5 cassettes")
    for name in UNRELATED:
        assert name not in out
    code, out, _ = cli("check", repo / UNRELATED_NOTES)  # named: said not to be a cassette
    assert code == 1 and "not a cassette" in out


UNRELATED_NOTES = "cassettes/tests/test_a/notes.yaml"


def test_show_shows_the_good_and_names_the_bad(repo: Path, cli: Run) -> None:
    code, out, err = cli("show", repo)
    assert code == 1
    assert (
        "2 embeddings of dimension 8" in out and "interactions[0] POST /v1/chat/completions" in out
    )
    assert sorted(_bad_lines(err, repo)) == list(BAD)
    assert len(err.splitlines()) == 3
    code, out, err = cli("show", _tree(repo) / "good_stream.yaml")
    assert code == 0 and not err
    code, _, err = cli("show", repo / ".github")  # nothing but hidden, unrelated YAML
    assert code == 1 and "no cassettes found" in err


def test_diff_exits_2_for_an_unreadable_side_and_names_it(repo: Path, cli: Run) -> None:
    tree = _tree(repo)
    assert cli("diff", tree / "good_stream.yaml", tree / "good_stream.yaml")[0] == 0
    code, out, err = cli("diff", tree / "bomb.yaml", tree / "deep.yaml")
    assert code == 2 and not out
    assert sorted(_bad_lines(err, repo)) == ["bomb.yaml", "deep.yaml"]
    code, _, err = cli("diff", tree / "good_stream.yaml", tree / "missing.yaml")
    assert code == 2 and f"{tree / 'missing.yaml'}: cannot be read" in err


def test_diff_git_shows_what_it_can_and_exits_2_for_what_it_cannot(
    repo: Path, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> None:
        command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
        subprocess.run(command, cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "recorded")
    tree = _tree(repo)
    text = (tree / "good_embeddings.yaml").read_text()
    (tree / "good_embeddings.yaml").write_text(text.replace("model: text-embedding", "model: x", 1))
    (tree / "bomb.yaml").write_text(BOMB + "# touched\n")
    (repo / ".github/workflows/ci.yml").write_text("name: changed\n")
    monkeypatch.chdir(repo)
    code, out, err = cli("diff", "--git", "HEAD")
    assert code == 2
    assert "cassettes/tests/test_a/good_embeddings.yaml" in out
    assert "request changed" in out
    assert err.splitlines() == [line for line in err.splitlines() if "bomb.yaml" in line]
    assert "ci.yml" not in out + err


def test_upgrade_touches_cassettes_only_and_reports_each_failure(repo: Path, cli: Run) -> None:
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    code, out, _ = cli("upgrade", repo)
    assert code == 1
    failed = _bad_lines("\n".join(line.strip() for line in out.splitlines()), repo)
    assert sorted(failed) == list(BAD)
    assert all(": left untouched: " in line for line in failed.values())
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert after == before  # committed cassettes are typed already; nothing else is touched
    assert "upgrade: 2 file(s) read, 0 cassette(s) written, 2 unchanged" in out


def test_import_llama_stack_reports_each_bad_recording_and_imports_the_rest(
    tmp_path: Path, cli: Run
) -> None:
    source = tmp_path / "recordings"
    source.mkdir()
    good = next(CORPUS.rglob("f8d0f5a8*.json"))
    shutil.copy(good, source / good.name)
    (source / "truncated.json").write_text('{"request": {"url": ')
    (source / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (source / ".cache").mkdir()
    (source / ".cache" / "ignored.json").write_text("not even json")
    out_dir = tmp_path / "out"
    code, out, err = cli("import-llama-stack", source, "--out", out_dir)
    assert code == 1 and not err
    assert f"{source / 'truncated.json'}: not valid JSON" in out
    assert f"{source / 'deep.json'}: JSON nested more than 100 levels deep; llama-stack" in out
    assert "ignored.json" not in out
    assert "1 cassette(s) written" in out
    assert [p.suffix for p in out_dir.rglob("*.yaml")] == [".yaml"]


def test_python_m_reports_a_bad_file_without_a_traceback(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llm_cassettes", "show", str(_tree(repo) / "deep.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"{_tree(repo) / 'deep.yaml'} (line ")
    assert "Traceback" not in result.stderr
