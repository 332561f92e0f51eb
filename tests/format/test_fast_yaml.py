"""The fast YAML path (ryaml) gives exactly the data libyaml's ``CSafeLoader`` gives.

ryaml reads YAML 1.2, PyYAML YAML 1.1; ``format/_yaml.load`` sends every text in which
they could disagree to libyaml. Proved here three ways: generated cassettes written by
this library's dumper, generated hand-written YAML full of scalars the two schemas read
differently (in every context a plain scalar can stand), and every cassette in the
repository. Equality is strict: same types (``True`` is not ``1``, ``1.0`` is not ``1``),
same mapping order, same sign of zero.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llm_cassettes import CassetteFormatError
from llm_cassettes.format import _yaml
from llm_cassettes.migrate import import_llama_stack
from tests._support import REPO

ryaml = pytest.importorskip("ryaml")  # the `fast` extra, part of `dev`

PROPERTY = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def same(one: Any, two: Any) -> bool:
    """Equal data, strictly: types, mapping order, NaN and the sign of zero included."""
    if type(one) is not type(two):
        return False
    if isinstance(one, dict):
        return len(one) == len(two) and all(
            same(k1, k2) and same(v1, v2)
            for (k1, v1), (k2, v2) in zip(one.items(), two.items(), strict=True)
        )
    if isinstance(one, list):
        return len(one) == len(two) and all(map(same, one, two))
    if isinstance(one, float):
        if math.isnan(one) or math.isnan(two):
            return math.isnan(one) and math.isnan(two)
        return one == two and math.copysign(1, one) == math.copysign(1, two)
    return bool(one == two)


def outcome(read: Any, text: str) -> tuple[str, Any]:
    try:
        return "data", read(text)
    except CassetteFormatError:
        return "error", None
    except yaml.YAMLError:
        return "error", None


def assert_same_as_libyaml(text: str) -> None:
    fast = outcome(_yaml.load, text)
    slow = outcome(lambda t: _yaml._load_libyaml(t, "<test>"), text)
    assert fast[0] == slow[0], (text, fast, slow)
    assert same(fast[1], slow[1]), (text, fast[1], slow[1])


# -- scalars the two YAML versions read differently -----------------------------------------
TRICKY = [
    "1e3", "1E3", "1.0e3", "1.0e+3", "1.0e-05", "-1e-5", "1e+3", ".5", "5.", "+1.5", "-.5",
    "012", "0o17", "0O17", "0x1F", "-0x1F", "0b101", "0B1", "00", "007", "0", "-0", "+12",
    "1_000", "1__0", "0.1_0", "1:20", "-1:20:30", "190:20:30.15", "12:30",
    "12345678901234567890123", "9223372036854775807", "-9223372036854775809",
    "999999999999999999", "1.7976931348623157e+308", "1.0e+999",
    "2026-10-18", "2026-1-8", "2026-10-18T10:00:00Z", "2026-10-18 10:00:00.5 +02:00",
    "2026-10-18t10:00:00", "10:00:00",
    "yes", "Yes", "YES", "no", "No", "on", "On", "OFF", "y", "Y", "n", "N", "true", "True",
    "TRUE", "false", "False", "null", "Null", "NULL", "~", "nULL", "tRUE",
    ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "inf", "nan",
    "<<", "=", "!!str", "!x", "1.2.3", "3.57.0", "4ms", "0s", "200 OK", "- x", "-",
    "1e3 apples", "yes please", "a: b", "#", "0x", "0o", "0b", "._", "-_", "+", ".",
]  # fmt: skip

_plain_words = st.sampled_from(TRICKY)
_words = st.one_of(
    _plain_words,
    st.text(alphabet="0123456789eE.+-_:xXoObBabcdefyYnNtTsS ~<=!#'\"", min_size=1, max_size=8),
)


def _scalar_text(word: str, style: str) -> str:
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    if style == "double":
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


_scalars = st.builds(_scalar_text, _words, st.sampled_from(["plain", "plain", "single", "double"]))


@st.composite
def hand_written(draw: st.DrawFn) -> str:
    """YAML as a person edits it: block and flow collections, keys and values of any kind."""
    lines = []
    for index in range(draw(st.integers(1, 6))):
        key = draw(st.one_of(st.just(f"k{index}"), _scalars))
        shape = draw(st.sampled_from(["value", "seq", "map", "flow", "flowmap", "multi"]))
        if shape == "value":
            lines.append(f"{key}: {draw(_scalars)}")
        elif shape == "seq":
            lines.append(f"{key}:")
            lines += [f"- {draw(_scalars)}" for _ in range(draw(st.integers(1, 3)))]
        elif shape == "map":
            lines.append(f"{key}:")
            lines += [
                f"  {draw(_scalars)}: {draw(_scalars)}" for _ in range(draw(st.integers(1, 3)))
            ]
        elif shape == "flow":
            items = ", ".join(draw(_scalars) for _ in range(draw(st.integers(0, 3))))
            lines.append(f"{key}: [{items}]")
        elif shape == "flowmap":
            items = ", ".join(
                f"{draw(_scalars)}: {draw(_scalars)}" for _ in range(draw(st.integers(0, 2)))
            )
            lines.append(f"{key}: {{{items}}}")
        else:
            lines.append(f"{key}: {draw(_scalars)}")
            lines.append(f"  {draw(_plain_words)}")  # a continuation line of a plain scalar
    separator = draw(st.sampled_from(["\n", "\r\n"]))
    return separator.join(lines) + separator


@PROPERTY
@given(hand_written())
@example("a: 1e3\n")
@example("a: yes\n")
@example("a: 012\n")
@example("a: 2026-10-18\n")
@example("a: !!binary aGVsbG8=\n")
@example("<<: {b: 1}\n")
@example("a: 1\na: 2\n")
@example("a: [1, 0o17]\n")
@example("a: 12345678901234567890123\n")
@example("%YAML 1.1\n---\na: yes\n")
@example("a: 1\n---\nb: 2\n")
def test_hand_written_yaml_reads_as_libyaml_reads_it(text: str) -> None:
    assert_same_as_libyaml(text)


# -- cassettes written by this library ------------------------------------------------------
_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789eE.+-_: \n\t#'\"\\&*!%|>{}[],?~<=yYnNoO")),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    _plain_words,
)
_data = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(_text, _plain_words, st.integers(-5, 300)), children, max_size=4),
    ),
    max_leaves=30,
)


@PROPERTY
@given(_data)
def test_dumped_cassettes_read_as_libyaml_reads_them(data: Any) -> None:
    try:
        text = _yaml.dump({"version": 1, "interactions": [data]})
    except (yaml.YAMLError, UnicodeEncodeError):  # what PyYAML cannot write is not a cassette
        return
    assert_same_as_libyaml(text)


# -- every cassette in the repository -------------------------------------------------------
def _repository_yaml() -> list[Path]:
    skipped = {".git", ".nox", ".venv", "node_modules"}
    return sorted(
        path
        for path in REPO.rglob("*.yaml")
        if not skipped.intersection(path.relative_to(REPO).parts)
    )


def test_every_cassette_in_the_repository_reads_as_libyaml_reads_it(tmp_path: Path) -> None:
    """The committed YAML files, and the llama-stack corpus imported into cassettes."""
    import_llama_stack([REPO / "tests" / "data" / "llama_stack"], tmp_path)
    imported = sorted(tmp_path.rglob("*.yaml"))
    paths = _repository_yaml() + imported
    assert len(imported) >= 20 and len(paths) >= 30, "the repository's cassettes were not found"
    fast = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert_same_as_libyaml(text)
        fast += not _yaml._needs_libyaml(text)
    # Most cassettes take the fast path: what the dumper writes rarely needs libyaml.
    assert fast > len(paths) // 2


# -- the rule itself --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "a: 1e3\n", "a:\n- yes\n", "yes: 1\n", "a: [1, 012]\n", "a: {b: 1_000}\n",
        "a: !!binary aGVsbG8=\n", "a: !custom x\n", "%YAML 1.1\n---\na: 1\n", "---\na: 1\n",
        "a: 1\n...\n", "a: 2026-10-18\n", "a: .inf\n", "<<: {b: 1}\n", "a: =\n", "a: ~\n",
        "a: 1e3\r\nb: 2\r\n", "a:\r- 0o17\r",
    ],
)  # fmt: skip
def test_texts_the_two_versions_may_read_differently_go_to_libyaml(text: str) -> None:
    assert _yaml._needs_libyaml(text)
    assert_same_as_libyaml(text)


def test_what_the_dumper_writes_for_llm_traffic_takes_the_fast_path() -> None:
    text = _yaml.dump(
        {
            "version": 1,
            "interactions": [
                {
                    "request": {"method": "POST", "uri": "https://api.openai.com/v1/x"},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"x-ratelimit-reset-requests": ["4ms"], "x": ["'1326'"]},
                        "body": {"json": {"created": 1778012471, "temperature": 0.2,
                                          "logprobs": None, "stream": True, "n": -1,
                                          "text": "yes: 1e3 and 2026-10-18 in prose"}},
                    },
                }
            ],
            "metadata": {"llm_cassettes": {"recorded": "2026-11-27", "sdk": {"openai": "3.57"}}},
        }
    )  # fmt: skip
    assert not _yaml._needs_libyaml(text)
    assert_same_as_libyaml(text)


def test_nesting_beyond_ryamls_limit_is_refused_by_the_depth_check() -> None:
    text = "a: " + "[" * (_yaml.MAX_DEPTH + 5) + "]" * (_yaml.MAX_DEPTH + 5) + "\n"
    with pytest.raises(CassetteFormatError, match="nested more than"):
        _yaml.load(text, "deep.yaml")
    fine = "a: " + "[" * 150 + "]" * 150 + "\n"  # beyond ryaml's 128, within MAX_DEPTH
    assert_same_as_libyaml(fine)


def test_without_the_fast_extra_libyaml_reads_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / "tests" / "data").rglob("*.yaml").__next__().read_text(encoding="utf-8")
    expected = _yaml.load(text)
    monkeypatch.setattr(_yaml, "_ryaml", None)
    calls = []
    monkeypatch.setattr(ryaml, "loads", lambda *a: calls.append(a))
    assert same(_yaml.load(text), expected)
    assert calls == []
