"""The pytest configuration options this library reads, named once.

The plugin declares them; ``llm-cassettes check`` reads the same configuration file
(``pyproject.toml``'s ``[tool.pytest.ini_options]``, ``pytest.ini``, ``tox.ini``,
``setup.cfg``), so the recorder and the review tools follow one project setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["INI_DIR", "INI_SECRETS", "INI_STRICT", "ini_lines", "not_a_pattern"]

INI_DIR = "llm_cassettes_dir"
INI_STRICT = "llm_cassettes_strict"
#: Project-wide secret rules: ini option -> the ``use_cassette`` option it adds to (for
#: every cassette, before what ``vcr_config``, a marker or ``use_cassette`` give).
INI_SECRETS = {
    "llm_cassettes_secret_names": "secret_names",
    "llm_cassettes_secret_patterns": "secret_patterns",
    "llm_cassettes_keep_names": "keep_names",
}


def ini_lines(value: Any) -> tuple[str, ...]:
    """A ``linelist`` option as pytest reads it: a TOML list, or one item per line."""
    if isinstance(value, str):
        value = value.splitlines()
    return tuple(line.strip() for line in value or () if str(line).strip())


def not_a_pattern(patterns: Iterable[str]) -> str | None:
    """Why the first of ``patterns`` that is not a regular expression is not; None if all are."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"{pattern!r} is not a regular expression ({exc})"
    return None
