"""Review where teams already review: the pre-commit hook and the documented CI workflow.

The shipped hook is run for real with ``pre-commit try-repo``: pre-commit installs
this repository into its own virtualenv (with its dependencies from PyPI, as a
user's machine would) and runs ``llm-cassettes check`` on the cassettes of a
throwaway git repository: a leaking cassette must stop the commit, a clean one
must pass, and YAML outside ``cassettes/`` is not its business. The GitHub Actions
workflow in docs/cli.md is parsed and its shell steps run in such a repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests._support import RECORDED_CASSETTES, REPO

CLEAN = RECORDED_CASSETTES / "test_embeddings.yaml"
CLI_DOC = REPO / "docs" / "cli.md"
LEAKED_KEY = "sk-proj-" + "Q7d2LeakedKey0123456789abcdefghijklmnop"

# pre-commit installs this package; the workflow's steps run in git repositories.
pytestmark = pytest.mark.slow


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def try_repo(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    git(project, "add", "-A")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(REPO),
            "llm-cassettes-check",
            "--all-files",
            "--color",
            "never",
        ],
        cwd=project,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_hook_definition_is_what_the_docs_document() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "llm-cassettes-check"
    assert hook["entry"] == "llm-cassettes check"
    assert "id: llm-cassettes-check" in CLI_DOC.read_text(encoding="utf-8")


def test_try_repo_fails_on_a_leaking_cassette_and_passes_a_clean_one(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to run pre-commit")
    project = tmp_path / "project"
    (project / "cassettes" / "tests").mkdir(parents=True)
    git(project, "init", "-q")
    (project / ".github").mkdir()
    (project / ".github" / "ci.yml").write_text("on: push\n", encoding="utf-8")  # not a cassette
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    env.pop("OPENAI_API_KEY", None)

    cassette = project / "cassettes" / "tests" / "test_embeddings.yaml"
    cassette.write_text(
        CLEAN.read_text(encoding="utf-8").replace("<REDACTED>", f"Bearer {LEAKED_KEY}", 1),
        encoding="utf-8",
    )
    leaking = try_repo(project, env)
    output = leaking.stdout + leaking.stderr
    assert leaking.returncode == 1, output
    assert "llm-cassettes check" in output and "Failed" in output
    assert "interactions[0].request.headers.authorization: secret header not redacted" in output
    assert LEAKED_KEY not in output  # the report itself does not leak it

    shutil.copyfile(CLEAN, cassette)
    clean = try_repo(project, env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout


# ------------------------------------------------------------------ the CI workflow --
def documented_workflow() -> dict[str, Any]:
    text = CLI_DOC.read_text(encoding="utf-8")
    found = re.search(r"```yaml\n# \.github/workflows/cassettes\.yml\n(.*?)```", text, re.DOTALL)
    assert found, "docs/cli.md documents the workflow"
    return yaml.safe_load(found.group(1))  # type: ignore[no-any-return]


def test_the_documented_workflow_checks_and_comments_the_semantic_diff(tmp_path: Path) -> None:
    workflow = documented_workflow()
    steps = workflow["jobs"]["review"]["steps"]
    by_name = {step.get("name"): step for step in steps}
    assert by_name["Check the cassettes"]["run"] == "llm-cassettes check"
    describe = by_name["Describe what the re-recordings changed"]
    comment = by_name["Comment on the pull request"]
    assert "steps.diff.outputs.changed == 'true'" in comment["if"]
    assert "gh pr comment" in comment["run"] and "cassette-changes.md" in comment["run"]
    assert workflow["permissions"]["pull-requests"] == "write"

    # Run the steps' shell in a pull request's checkout: base branch, then a re-recording.
    project = tmp_path / "project"
    cassette = project / "cassettes" / "tests" / "test_embeddings.yaml"
    cassette.parent.mkdir(parents=True)
    git(project, "init", "-q", "-b", "feature")
    shutil.copyfile(CLEAN, cassette)
    git(project, "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base")
    git(project, "update-ref", "refs/remotes/origin/main", "HEAD")
    text = cassette.read_text(encoding="utf-8")
    cassette.write_text(text.replace("- alpha", "- gamma"), encoding="utf-8")
    output = tmp_path / "github-output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_BASE_REF": "main",
        "GITHUB_OUTPUT": str(output),
    }
    for step in (by_name["Check the cassettes"], describe):
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=project,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
    assert output.read_text(encoding="utf-8").strip() == "changed=true"
    markdown = (project / "cassette-changes.md").read_text(encoding="utf-8")
    assert "cassettes/tests/test_embeddings.yaml" in markdown
    assert "```diff" in markdown
