"""Project-wide secret rules in the pytest configuration: the recorder and ``check`` agree.

A team names its own secrets once (``llm_cassettes_secret_names``,
``llm_cassettes_secret_patterns``, ``llm_cassettes_keep_names``): the recorder redacts them
in every cassette, and ``llm-cassettes check``, reading the same file, reports them in
cassettes written without scrubbing or by other tools.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from llm_cassettes import use_cassette
from tests._support.fake_openai import FakeOpenAI
from tests.conftest import Run

TENANT = "tenant-4711-blue-harbor"
DSN = "postgres://reporting@db.internal:5432/metrics"
ACME_KEY = "acme_live_Q7xK2mP9vL4nR8tW"

RULES_INI = """[pytest]
llm_cassettes_dir = cassettes
llm_cassettes_secret_names =
    x-tenant
    dsn
llm_cassettes_secret_patterns = acme_live_[A-Za-z0-9]{16}
"""

TEST_ECHO = f"""
import os, httpx2, pytest

@pytest.mark.vcr
def test_echo():
    url = os.environ["FAKE_OPENAI_URL"] + "/echo"
    body = {{"dsn": "{DSN}", "note": "the key is {ACME_KEY}, keep it"}}
    reply = httpx2.post(url, json=body, headers={{"x-tenant": "{TENANT}"}})
    assert reply.status_code == 200
"""


def on_disk(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*.yaml"))


def test_the_recorder_redacts_the_projects_secrets(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makeini(RULES_INI)
    pytester.makepyfile(test_echo=TEST_ECHO)
    pytester.runpytest("-p", "no:randomly", "--record-mode=once").assert_outcomes(passed=1)
    stored = on_disk(pytester.path / "cassettes")
    assert "x-tenant" in stored and "<REDACTED>" in stored
    for secret in (TENANT, DSN, ACME_KEY):
        assert secret not in stored, secret  # nor echoed back in the response
    assert "keep it" in stored  # only the secret part of the note
    fake_openai.stop()
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)  # and it replays


def test_a_bad_pattern_in_the_configuration_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_cassettes_secret_patterns = acme_[\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llm_cassettes_secret_patterns: 'acme_[' is not a regular*"])


def unscrubbed_cassette(root: Path, server: FakeOpenAI) -> Path:
    """A cassette another tool (or ``scrub=False``) wrote: the values are all there."""
    path = root / "cassettes" / "test_echo.yaml"
    with use_cassette(path, record_mode="once", scrub=False):
        body = {"dsn": DSN, "note": f"the key is {ACME_KEY}, keep it"}
        httpx2.post(f"{server.base_url}/echo", json=body, headers={"x-tenant": TENANT})
    return path


def test_check_reads_the_projects_rules(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, cli: Run
) -> None:
    unscrubbed_cassette(tmp_path, fake_openai)
    monkeypatch.chdir(tmp_path)

    (tmp_path / "pytest.ini").write_text("[pytest]\nllm_cassettes_dir = cassettes\n")
    code, out, _ = cli("check")  # the server's cookies and account headers are found ...
    assert "set-cookie: secret header not redacted" in out
    for project_only in ("x-tenant", ".dsn", "secret_patterns"):
        assert project_only not in out  # ... but not what only this project calls secret

    (tmp_path / "pytest.ini").write_text(RULES_INI)
    code, out, _ = cli("check")
    assert code == 1
    assert "interactions[0].request.headers.x-tenant: secret header not redacted" in out
    assert "interactions[0].request.body.json.dsn: secret field not redacted" in out
    assert "secret pattern 1 (secret_patterns)" in out
    assert "interactions[0].response" in out  # the echo carries them back too
    for secret in (TENANT, DSN, ACME_KEY):
        assert secret not in out  # reports show a secret's first characters only

    # The same rules as flags (no configuration), and a name kept back by --keep-name.
    (tmp_path / "pytest.ini").write_text("[pytest]\nllm_cassettes_dir = cassettes\n")
    code, out, _ = cli("check", "--secret-name", "x-tenant", "--secret-name", "dsn")
    assert code == 1
    assert "x-tenant: secret header not redacted" in out and "dsn: secret field" in out
    code, out, _ = cli("check", "--secret-name", "dsn", "--keep-name", "dsn")
    assert ".dsn" not in out  # kept: never secret


def test_check_refuses_a_bad_pattern_naming_where_it_is(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, cli: Run
) -> None:
    unscrubbed_cassette(tmp_path, fake_openai)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nllm_cassettes_dir = cassettes\nllm_cassettes_secret_patterns = acme_[\n"
    )
    code, _, err = cli("check")
    assert code == 2
    assert "pytest.ini: llm_cassettes_secret_patterns: secret pattern 'acme_['" in err
    (tmp_path / "pytest.ini").write_text("[pytest]\nllm_cassettes_dir = cassettes\n")
    code, _, err = cli("check", "--secret-pattern", "(")
    assert code == 2
    assert "secret pattern '(' is not a regular expression" in err


def test_check_reads_them_from_pyproject_toml_lists_too(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, cli: Run
) -> None:
    unscrubbed_cassette(tmp_path, fake_openai)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'llm_cassettes_dir = "cassettes"\n'
        'llm_cassettes_secret_names = ["dsn"]\n'
        "llm_cassettes_secret_patterns = ['acme_live_[A-Za-z0-9]{16}']\n"
    )
    code, out, _ = cli("check")
    assert code == 1
    assert "interactions[0].request.body.json.dsn: secret field not redacted" in out
    assert "secret pattern 1 (secret_patterns)" in out
