"""The whole suite on the oldest and on the newest supported versions of the libraries
llm-cassettes reaches into: vcrpy, pytest-recording and openai (see docs/development.md).

``lowest`` installs exactly the lower bounds ``pyproject.toml`` declares for them, so a
bound that no longer holds fails here; ``latest`` installs their newest releases.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nox

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - nox on Python 3.10
    import tomli as tomllib

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lowest", "latest"]

#: The libraries whose private names llm_cassettes/_compat.py uses.
UPSTREAM = ("vcrpy", "pytest-recording", "openai")


def lower_bounds() -> list[str]:
    """``name==version`` for the ``name>=version`` bound of each upstream library."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][^,;\s]*)", requirement.strip())
        if found and found.group(1) in UPSTREAM:
            pins.append(f"{found.group(1)}=={found.group(2)}")
    missing = set(UPSTREAM) - {pin.partition("==")[0] for pin in pins}
    if missing:
        raise RuntimeError(f"pyproject.toml declares no >= bound for {sorted(missing)}")
    return pins


def run_suite(session: nox.Session) -> None:
    """Say which versions were installed, then run the whole suite (or the given args)."""
    session.run("python", "-m", "pip", "show", *UPSTREAM)
    session.run("pytest", *session.posargs)


@nox.session(python="3.10")
def lowest(session: nox.Session) -> None:
    """Python 3.10 with vcrpy, pytest-recording and openai at their lower bounds."""
    session.install("-e", ".[dev]", *lower_bounds())
    run_suite(session)


@nox.session(python="3.13")
def latest(session: nox.Session) -> None:
    """Python 3.13 with the newest vcrpy, pytest-recording and openai."""
    session.install("--upgrade", "-e", ".[dev]", *UPSTREAM)
    run_suite(session)
