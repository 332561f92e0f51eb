"""``llm-cassettes check``: what must not be merged, one line per problem.

Each cassette is read by the real loader (the same errors and drift warnings
a test run would give, naming the file and place) and its raw text is
scanned for credentials, so a file that does not even parse is still
searched for secrets. Everything here is per file and cheap; a tree of a
thousand cassettes takes a few seconds on one core.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cassette import PROVENANCE_KEY
from .errors import CassetteDriftWarning, CassetteFormatError
from .scrub import CREDENTIAL_PATTERN, REDACTED, SECRET_HEADERS, _env_secrets
from .serializer import CassetteSerializer

__all__ = ["Problem", "check_file", "check_text", "default_paths", "find_cassettes", "orphans"]

CASSETTE_SUFFIXES = (".yaml", ".yml")

#: OpenAI organization and project ids: account identifiers, wherever a header carries them.
ACCOUNT_ID_PATTERN = re.compile(r"(?<![A-Za-z0-9_-])(?:org-[A-Za-z0-9]{8,}|proj_[A-Za-z0-9]{8,})")

#: Where pytest reads its ini options from, in pytest's order of precedence.
_INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@dataclass(frozen=True)
class Problem:
    """One finding; ``where`` is ``LINE:COLUMN`` or a place like ``interactions[2].request``."""

    path: str
    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        place = f"{self.path}:{self.where}" if self.where else self.path
        return f"{place}: {kind}{self.message}"


class UsageError(Exception):
    """Bad paths or configuration: exit code 2, not a finding."""


# ------------------------------------------------------------------------------- files --


def find_cassettes(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The cassette files named, or found under the directories named (sorted, unique)."""
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found.update(Path(root, f) for f in files if f.endswith(CASSETTE_SUFFIXES))
        elif path.is_file():
            found.add(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return sorted(found)


def default_paths(start: Path) -> list[Path]:
    """The configured cassette tree: ``llm_cassettes_dir`` from the nearest pytest config.

    Without that option, every ``cassettes`` directory under the config's
    directory (pytest-recording's ``<test dir>/cassettes/`` layout). Paths are
    relative to ``start`` when they can be, so reports read like the user's own.
    """
    return [Path(os.path.relpath(path, start)) for path in _configured(start)]


def _configured(start: Path) -> list[Path]:
    for directory in [start, *start.parents]:
        for name in _INI_FILES:
            config = directory / name
            if not config.is_file():
                continue
            found, tree = _ini_tree(config)
            if not found:
                continue
            if tree:
                path = directory / tree
                if not path.is_dir():
                    raise UsageError(f"{config}: llm_cassettes_dir = {tree!r}: no such directory")
                return [path]
            return _cassette_dirs(directory)
    return _cassette_dirs(start)


def _ini_tree(config: Path) -> tuple[bool, str]:
    """(is this pytest's config file, its ``llm_cassettes_dir``)."""
    if config.suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib

        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{config}: cannot be read ({exc})") from exc
        options = data.get("tool", {}).get("pytest", {}).get("ini_options")
        if not isinstance(options, dict):
            return False, ""
        return True, str(options.get("llm_cassettes_dir", "")).strip()
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config, encoding="utf-8")
    except configparser.Error as exc:
        raise UsageError(f"{config}: cannot be read ({exc})") from exc
    section = "tool:pytest" if config.name == "setup.cfg" else "pytest"
    if not parser.has_section(section):
        return config.name in ("pytest.ini", ".pytest.ini"), ""
    return True, parser.get(section, "llm_cassettes_dir", fallback="").strip()


def _cassette_dirs(root: Path) -> list[Path]:
    found = []
    for directory, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "venv")]
        if Path(directory).name == "cassettes":
            found.append(Path(directory))
            dirs[:] = []
    if not found:
        raise UsageError(f"no cassettes found under {root} (set llm_cassettes_dir, or pass PATH)")
    return found


# ------------------------------------------------------------------------------ checks --


def check_file(
    path: Path, *, max_age: int | None = None, today: datetime.date | None = None
) -> list[Problem]:
    name = os.fspath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(name, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    except OSError as exc:
        return [Problem(name, "", f"cannot be read ({exc.strerror})")]
    return check_text(name, text, max_age=max_age, today=today)


def check_text(
    name: str, text: str, *, max_age: int | None = None, today: datetime.date | None = None
) -> list[Problem]:
    """Every problem in one cassette's text (``name`` is how it is reported)."""
    problems: list[Problem] = []
    data = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CassetteDriftWarning)
        try:
            data = CassetteSerializer().deserialize(text, source=name)
        except CassetteFormatError as exc:
            problems.append(_from_message(name, str(exc)))
    for warning in caught:
        if issubclass(warning.category, CassetteDriftWarning):
            problem = _from_message(name, str(warning.message))
            problems.append(Problem(name, problem.where, f"SDK drift: {problem.message}"))
    flagged: list[str] = []
    if data is not None:
        for index, item in enumerate(data["interactions"]):
            for side in ("request", "response"):
                part = item.get(side)
                headers = part.get("headers") if isinstance(part, Mapping) else None
                if isinstance(headers, Mapping):
                    where = f"interactions[{index}].{side}.headers"
                    problems.extend(_header_problems(name, where, headers, flagged))
        if max_age is not None:
            problems.extend(_age_problems(name, data.get("metadata"), max_age, today))
    problems.extend(_text_problems(name, text, flagged))
    return problems


def _from_message(name: str, message: str) -> Problem:
    """A loader message (``FILE (line L, column C): ...`` / ``FILE: place: ...``) as a Problem."""
    rest = message[len(name) :] if message.startswith(name) else f": {message}"
    match = re.match(r" \(line (\d+), column (\d+)\): ", rest)
    if match:
        return Problem(name, f"{match[1]}:{match[2]}", rest[match.end() :])
    rest = rest.removeprefix(": ")
    match = re.match(r"(interactions\[\d+\][^\s:]*): ", rest)
    if match:
        return Problem(name, match[1], rest[match.end() :])
    return Problem(name, "", rest)


def _values(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _header_problems(
    name: str, where: str, headers: Mapping[str, Any], flagged: list[str]
) -> Iterator[Problem]:
    for header, value in headers.items():
        lower = str(header).lower()
        for item in _values(value):
            if lower in SECRET_HEADERS and item not in (REDACTED, ""):
                flagged.append(item)
                yield Problem(
                    name,
                    f"{where}.{header}",
                    f"secret header not redacted ({_mask(item)}); "
                    "re-record, or replace the value with <REDACTED>",
                )
            elif ACCOUNT_ID_PATTERN.search(item):
                flagged.append(item)
                yield Problem(
                    name,
                    f"{where}.{header}",
                    f"organization or project id in a header ({_mask(item)}); "
                    f"redact it (secret_headers=[{header!r}])",
                )


def _text_problems(name: str, text: str, flagged: list[str]) -> Iterator[Problem]:
    """Credential-shaped strings and secret environment values anywhere in the file."""
    secrets = [(value, label) for value, label in _env_secrets(()) if value in text]
    if not CREDENTIAL_PATTERN.search(text) and not secrets:
        return
    for number, line in enumerate(text.splitlines(), 1):
        spans = []
        for match in CREDENTIAL_PATTERN.finditer(line):
            spans.append(match.span())
            if any(match[0] in value for value in flagged):
                continue  # already reported as an unredacted secret header
            yield Problem(
                name,
                f"{number}:{match.start() + 1}",
                f"looks like a credential ({_mask(match[0])})",
            )
        for value, label in secrets:
            column = line.find(value)
            if column >= 0 and not any(start <= column < end for start, end in spans):
                yield Problem(
                    name,
                    f"{number}:{column + 1}",
                    f"contains the value of the environment variable {label.strip('<>')}",
                )


def _mask(secret: str) -> str:
    """Enough of a secret to find it, not enough to use it (reports end up in CI logs)."""
    shown = secret[:8] if len(secret) > 16 else secret[:3]
    return f"{shown}…, {len(secret)} characters"


def _age_problems(
    name: str, metadata: Any, max_age: int, today: datetime.date | None
) -> Iterator[Problem]:
    info = metadata.get(PROVENANCE_KEY) if isinstance(metadata, Mapping) else None
    recorded = info.get("recorded") if isinstance(info, Mapping) else None
    if not recorded:
        yield Problem(name, "", "no recording date (recorded without llm-cassettes)", True)
        return
    try:
        day = datetime.date.fromisoformat(str(recorded))
    except ValueError:
        yield Problem(name, "metadata", f"unreadable recording date {recorded!r}", True)
        return
    age = ((today or datetime.date.today()) - day).days
    if age > max_age:
        yield Problem(
            name,
            "",
            f"stale: recorded {day.isoformat()}, {age} days ago (--max-age {max_age}); re-record it",
            True,
        )


# ----------------------------------------------------------------------------- orphans --


def orphans(cassettes: Iterable[Path], cwd: Path, pytest_args: Iterable[str] = ()) -> list[Problem]:
    """Cassettes that no test pytest collects here would ever read.

    Runs ``pytest --collect-only`` with :mod:`llm_cassettes._review_collect`,
    so test IDs come from pytest itself. A failing collection is one problem:
    orphans cannot be told apart from tests that failed to import.
    """
    from ._review_collect import OUTPUT_ENV

    with tempfile.TemporaryDirectory(prefix="llm-cassettes-") as scratch:
        output = Path(scratch, "expected.json")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "llm_cassettes._review_collect",
            *pytest_args,
        ]
        env = {**os.environ, OUTPUT_ENV: os.fspath(output)}
        result = subprocess.run(
            command, check=False, cwd=cwd, env=env, capture_output=True, text=True
        )
        if result.returncode not in (0, 5) or not output.is_file():
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            return [
                Problem(
                    os.fspath(cwd),
                    "",
                    f"pytest collection failed (exit {result.returncode}), so orphans cannot be "
                    f"told apart; fix collection first:\n{tail}",
                )
            ]
        expected = {Path(p) for p in json.loads(output.read_text(encoding="utf-8"))}
    return [
        Problem(os.fspath(path), "", "orphan: no collected test uses this cassette")
        for path in cassettes
        if Path(os.path.abspath(path)) not in expected
    ]
