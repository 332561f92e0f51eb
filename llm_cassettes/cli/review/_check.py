"""``llm-cassettes check``: what must not be merged, one line per problem.

Each cassette is read by the real loader (the same errors and drift warnings
a test run would give, naming the file and place), then run through the
recorder's own scrubber in reporting mode: every secret it would have
redacted is a problem, at the place it is stored. One detector decides for
both, so ``check`` finds in cassettes written by other tools, or with
``scrub=False``, exactly what recording would have removed. A file that does
not even parse is still searched, as text, for credential shapes and secret
environment values. Everything here is per file and cheap; a tree of a
thousand cassettes takes a few seconds on one core.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..._errors import CassetteDriftWarning, CassetteFormatError
from ..._ini import INI_DIR, INI_SECRETS, ini_lines, not_a_pattern
from ...format import CassetteSerializer, cassette_files, provenance_entry, read_text, walked
from ...scrub import Redaction, Scrubber, ScrubOptions, SecretDetector, hide_secrets_in_name
from .._common import (
    TOO_DEEP,
    Subparsers,
    add_color_option,
    add_command,
    print_error,
)
from ._render import Style

__all__ = [
    "Problem",
    "add_check_command",
    "check_file",
    "check_text",
    "default_paths",
    "orphans",
    "secret_rules",
]

#: Where pytest reads its ini options from, in pytest's order of precedence.
_INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@dataclass(frozen=True)
class Problem:
    """One finding; ``where`` is ``LINE:COLUMN`` or a place like ``interactions[2].request``.

    ``secret`` is the offending value of a credential finding, for programs that
    act on it; it is never printed.
    """

    path: str
    where: str
    message: str
    warning: bool = False
    secret: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        place = f"{self.path}:{self.where}" if self.where else self.path
        return f"{place}: {kind}{self.message}"


class UsageError(Exception):
    """Bad paths or configuration: exit code 2, not a finding."""


# ------------------------------------------------------------------------------- files --


def default_paths(start: Path) -> list[Path]:
    """The configured cassette tree: ``llm_cassettes_dir`` from the nearest pytest config.

    Without that option, every ``cassettes`` directory under the config's
    directory (pytest-recording's ``<test dir>/cassettes/`` layout). Paths are
    relative to ``start`` when they can be, so reports read like the user's own.
    """
    return [Path(os.path.relpath(path, start)) for path in _configured(start)]


def _configured(start: Path) -> list[Path]:
    found = _pytest_config(start)
    if found is None:
        return _cassette_dirs(start)
    config, options = found
    tree = str(options.get(INI_DIR) or "").strip()
    if tree:
        path = config.parent / tree
        if not path.is_dir():
            raise UsageError(f"{config}: {INI_DIR} = {tree!r}: no such directory")
        return [path]
    return _cassette_dirs(config.parent)


def configured_secret_rules(start: Path) -> dict[str, tuple[str, ...]]:
    """The project-wide secret rules (``llm_cassettes_secret_names`` ...) of the nearest
    pytest configuration: the recorder applied them, so ``check`` looks for them too."""
    found = _pytest_config(start)
    if found is None:
        return {option: () for option in INI_SECRETS.values()}
    config, options = found
    rules = {option: ini_lines(options.get(ini)) for ini, option in INI_SECRETS.items()}
    problem = not_a_pattern(rules["secret_patterns"])
    if problem:  # found here, the error can name the file (secret_rules sees no file)
        raise UsageError(f"{config}: llm_cassettes_secret_patterns: secret pattern {problem}")
    return rules


def _pytest_config(start: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """pytest's configuration file for ``start`` (found as pytest finds it) and its options."""
    for directory in [start, *start.parents]:
        for name in _INI_FILES:
            config = directory / name
            if config.is_file():
                options = _ini_options(config)
                if options is not None:
                    return config, options
    return None


def _ini_options(config: Path) -> Mapping[str, Any] | None:
    """The pytest options of ``config``, or None when it is not pytest's configuration."""
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
        return options if isinstance(options, dict) else None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config, encoding="utf-8")
    except configparser.Error as exc:
        raise UsageError(f"{config}: cannot be read ({exc})") from exc
    section = "tool:pytest" if config.name == "setup.cfg" else "pytest"
    if not parser.has_section(section):
        return {} if config.name in ("pytest.ini", ".pytest.ini") else None
    return dict(parser.items(section))


def _cassette_dirs(root: Path) -> list[Path]:
    found = []
    for directory, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if walked(Path(directory, d))]
        if Path(directory).name == "cassettes":
            found.append(Path(directory))
            dirs[:] = []
    if not found:
        raise UsageError(f"no cassettes found under {root} (set llm_cassettes_dir, or pass PATH)")
    return found


# ------------------------------------------------------------------------------ checks --


def check_file(
    path: Path,
    *,
    max_age: int | None = None,
    today: datetime.date | None = None,
    rules: ScrubOptions | None = None,
) -> list[Problem]:
    name = os.fspath(path)
    try:
        text = read_text(path)
    except CassetteFormatError as exc:
        return [Problem(name, "", str(exc).removeprefix(f"{name}: "))]
    return check_text(name, text, max_age=max_age, today=today, rules=rules)


def secret_rules(
    names: Iterable[str] = (), patterns: Iterable[str] = (), keep: Iterable[str] = ()
) -> ScrubOptions:
    """The recorder's scrubbing options with these project rules (``secret_names``,
    ``secret_patterns``, ``keep_names``); a bad pattern raises :class:`UsageError`."""
    problem = not_a_pattern(patterns)
    if problem:
        raise UsageError(f"secret pattern {problem}")
    return ScrubOptions(
        extra_secret_names=tuple(names),
        extra_secret_patterns=tuple(patterns),
        keep_names=tuple(keep),
    )


def check_text(
    name: str,
    text: str,
    *,
    max_age: int | None = None,
    today: datetime.date | None = None,
    rules: ScrubOptions | None = None,
) -> list[Problem]:
    """Every problem in one cassette's text (``name`` is how it is reported); ``rules``:
    the scrubbing options the recorder had (see :func:`secret_rules`)."""
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
    rules = rules or secret_rules()
    detector = _detector(rules)
    if data is not None:
        problems.extend(_secret_problems(name, data, rules))
        if max_age is not None:
            problems.extend(_age_problems(name, data.get("metadata"), max_age, today))
    else:
        problems.extend(_text_problems(name, text, detector))
    problems.extend(_name_problems(name, detector))
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


def _detector(rules: ScrubOptions) -> SecretDetector:
    return SecretDetector(
        names=rules.extra_secret_names,
        keep_names=rules.keep_names,
        patterns=rules.extra_secret_patterns,
    )


def _secret_problems(name: str, data: Mapping[str, Any], rules: ScrubOptions) -> Iterator[Problem]:
    """What the recorder's scrubber would redact in this cassette, one problem per place."""
    found: list[Redaction] = []
    scrubber = Scrubber(replace(rules, drop_volatile_headers=False), report=found.append)
    serializer = CassetteSerializer(scrubber, validate=False)
    interactions = data["interactions"]
    for item in interactions:  # the whole cassette first, as when it is saved
        scrubber.learn_interaction(item["request"], item["response"])
    for index, item in enumerate(interactions):
        try:
            serializer.encode_interaction(
                item["request"], item["response"], where=f"interactions[{index}]."
            )
        except (TypeError, ValueError, LookupError, AttributeError):  # pragma: no cover
            continue  # a shape the loader accepted but nothing can store: reported elsewhere
    if data.get("metadata"):
        scrubber.value(data["metadata"], "metadata")
    seen: set[tuple[str, str]] = set()
    for redaction in found:
        if (redaction.where, redaction.secret) not in seen:
            seen.add((redaction.where, redaction.secret))
            yield Problem(name, redaction.where, _describe(redaction), secret=redaction.secret)


def _describe(redaction: Redaction) -> str:
    kind, shown = redaction.kind, _mask(redaction.secret)
    if kind == "secret header":
        return (
            f"secret header not redacted ({shown}); re-record, or replace the value with <REDACTED>"
        )
    if kind.startswith("secret ") or kind == "password in a URL":
        return f"{kind} not redacted ({shown})"
    if kind.startswith("value of the environment variable"):
        return f"contains the {kind}"
    if kind.startswith("repeats"):
        return f"{kind} ({shown})"
    return f"looks like a credential ({kind}: {shown})"


def _text_problems(name: str, text: str, detector: SecretDetector) -> Iterator[Problem]:
    """Credential shapes and secret environment values in a file that could not be read."""
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        for finding in detector.find(line):
            secret = line[finding.start : finding.end]
            kind = finding.kind
            message = (
                f"contains the {kind}"
                if kind.startswith("value of")
                else f"looks like a credential ({kind}: {_mask(secret)})"
            )
            yield Problem(name, f"{number}:{finding.start + 1}", message, secret=secret)


def _name_problems(name: str, detector: SecretDetector) -> Iterator[Problem]:
    """A credential in the file's own name (a test ID that carried one)."""
    for finding in detector.find(name):
        secret = name[finding.start : finding.end]
        yield Problem(
            hide_secrets_in_name(name, detector),
            "",
            f"the file name contains a credential ({finding.kind}: {_mask(secret)}); rename it",
            secret=secret,
        )


def _mask(secret: str) -> str:
    """Enough of a secret to find it, not enough to use it (reports end up in CI logs)."""
    shown = secret[:8] if len(secret) > 16 else secret[:3]
    return f"{shown}…, {len(secret)} characters"


def _age_problems(
    name: str, metadata: Any, max_age: int, today: datetime.date | None
) -> Iterator[Problem]:
    info = provenance_entry(metadata)
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

    Runs ``pytest --collect-only`` with :mod:`._collect`,
    so test IDs come from pytest itself. A failing collection is one problem:
    orphans cannot be told apart from tests that failed to import.
    """
    from ._collect import OUTPUT_ENV

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
            "llm_cassettes.cli.review._collect",
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


# ----------------------------------------------------------------------------- command --


def add_check_command(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "check",
        summary="fail on unreadable, drifted, secret-bearing (or orphaned, stale) cassettes",
        description=(
            "Check cassettes before they are merged. One line per problem, FILE:PLACE: message:\n"
            "  - a file that does not parse, or is not a cassette;\n"
            "  - a __type__ outside the allowlist;\n"
            "  - a __data__ the installed SDK no longer accepts (SDK drift);\n"
            "  - a credential: an unredacted secret header (authorization, cookies, organization\n"
            "    and project headers ...), a bearer token, an sk-/sk-proj- key, an AKIA... key,\n"
            "    an organization or project id in a header, or the value of a secret-named\n"
            "    environment variable set here;\n"
            "  - with --orphans, a cassette that no collected test uses (runs pytest --collect-only);\n"
            "  - with --max-age, a cassette recorded more than DAYS ago (a warning).\n"
            "Without PATH, checks the configured tree: llm_cassettes_dir from the nearest\n"
            "pytest configuration, else every cassettes/ directory under it."
        ),
        examples="""
            llm-cassettes check
            llm-cassettes check cassettes/tests/test_chat
            llm-cassettes check --orphans --max-age 180
            llm-cassettes check --max-age 90 --strict     # stale cassettes fail too
            """,
        exits="exit codes: 0 clean (warnings allowed unless --strict), 1 problems found, 2 bad usage",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="cassette files or directories")
    parser.add_argument(
        "--orphans",
        action="store_true",
        help="also report cassettes no collected test maps to (runs pytest --collect-only here)",
    )
    parser.add_argument(
        "--max-age",
        type=int,
        metavar="DAYS",
        help="warn on cassettes recorded more than DAYS days ago, or with no recording date",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail the check too")
    rules = parser.add_argument_group(
        "secret rules",
        "added to the project's own (llm_cassettes_secret_names, llm_cassettes_secret_patterns "
        "and llm_cassettes_keep_names in the pytest configuration, which check reads)",
    )
    rules.add_argument(
        "--secret-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a header, field or parameter name whose value is secret (repeatable)",
    )
    rules.add_argument(
        "--secret-pattern",
        action="append",
        default=[],
        metavar="REGEX",
        help="a regex for secret values anywhere (repeatable)",
    )
    rules.add_argument(
        "--keep-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a name that is never secret (repeatable)",
    )
    add_color_option(parser)
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    style = Style.for_stream(sys.stdout, args.color)
    cwd = Path.cwd()
    try:
        roots = args.paths or default_paths(cwd)
        project = configured_secret_rules(cwd)
        rules = secret_rules(
            (*project["secret_names"], *args.secret_name),
            (*project["secret_patterns"], *args.secret_pattern),
            (*project["keep_names"], *args.keep_name),
        )
    except UsageError as exc:
        print_error(str(exc))
        return 2
    files = list(cassette_files(roots))
    problems = []
    for found in files:
        name = os.fspath(found.path)
        if found.error is not None:
            problems.append(Problem(name, "", found.error.removeprefix(f"{name}: ")))
            continue
        try:
            problems.extend(check_text(name, found.text or "", max_age=args.max_age, rules=rules))
        except RecursionError:  # a safety net: the loader already bounds nesting
            problems.append(Problem(name, "", TOO_DEEP))
    if args.orphans:
        problems.extend(orphans([f.path for f in files if f.error is None], cwd))
    errors = [p for p in problems if not p.warning]
    warned = [p for p in problems if p.warning]
    for problem in problems:
        colour = "yellow" if problem.warning else "red"
        place, _, message = str(problem).partition(": ")
        print(f"{style(place, 'bold')}: {style(message, colour) if colour else message}")
    elapsed = time.perf_counter() - started
    count = _plural(len(files), "cassette")
    failed = bool(errors) or (args.strict and bool(warned))
    if failed:
        summary = _plural(len(errors), "problem")
        if warned:
            summary += f", {_plural(len(warned), 'warning')}"
        print(style(f"{summary} in {count} ({elapsed:.1f}s)", "red", "bold"))
        return 1
    extra = f", {_plural(len(warned), 'warning')}" if warned else ""
    print(style(f"{count} checked: all clean{extra} ({elapsed:.1f}s)", "green"))
    return 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"
