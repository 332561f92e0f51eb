"""Fixtures every test may use: the command line in-process, and real SDK clients.

The fake OpenAI server's fixtures (``fake_openai``, ``openai_client`` ...) come from
``tests/_support/fake_openai.py``, registered by the repository's root ``conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpcore  # noqa: F401  (imported up front: see below)
import httpcore2  # noqa: F401
import openai
import pytest

from llm_cassettes.cli import main
from tests._support import client_for
from tests._support.fake_openai import FakeOpenAI

# httpx and httpx2 import their transport library on the first real request and keep its
# exception classes in a module global. A pytester run in this process removes every
# module first imported inside it; if that was httpcore, later requests re-import it and
# its errors (a server that breaks a stream off) escape httpx's mapping as raw httpcore
# errors. Imported here, httpcore and httpcore2 outlive every pytester run.

#: ``cli(*args)``: (exit code, stdout, stderr) of ``llm-cassettes ARGS``.
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``llm-cassettes ARGS`` in-process: (exit code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([os.fspath(a) for a in args])
        except SystemExit as exc:  # argparse on bad usage / --help
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def make_client() -> Iterator[Callable[[FakeOpenAI], openai.OpenAI]]:
    """Real SDK clients for a fake server, closed after the test."""
    clients: list[openai.OpenAI] = []

    def make(server: FakeOpenAI) -> openai.OpenAI:
        client = client_for(server)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
