"""Body canonicalization: what must match, what must not, and how a miss is explained.

Timing sanity check (a scratch script, deliberately NOT a test: no timed assertions here).
canonicalize() on the untrimmed 3.2 KB llama-stack tool-calling chat body that SEED_BODY
below is cut from, best of 25x200 runs on the shared 2-core dev box, where Python is ~3x
slower than a desktop (`python -m timeit "sum(range(1000))"`: 25 us) and where
json.loads + json.dumps(sort_keys=True) of the same body alone takes ~50 us:
  * default options, strings already seen (the cassette case: turns repeat): ~105 us
  * default options, string template cache cleared before every call:        ~200 us
  * normalize_ids=False:                                                      ~117 us
To re-measure:
    body = json.dumps(SEED_BODY).encode()
    timeit.timeit(lambda: canonicalize(body, "application/json"), number=1000)
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llm_cassettes.matching import (
    MISSING,
    Canonical,
    CanonicalOptions,
    Difference,
    canonicalize,
    diff,
    format_diff,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("CANONICAL_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
JSON = "application/json"


def key(body: Any, options: CanonicalOptions | None = None, content_type: str = JSON) -> str:
    """Canonical key of a Python body (serialized the way the SDK would) or raw bytes/str."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return canonicalize(body, content_type, options).key


def value(body: Any, options: CanonicalOptions | None = None) -> Any:
    return canonicalize(json.dumps(body), JSON, options).value


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

# Keys of 1-5 lowercase letters can never be a timestamp field, "stream_options" or end in
# "_at", so the generated bodies exercise only the generic rules.
KEYS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=5)
# Text that can contain no id and no long float: changing it must change the key.
PLAIN_TEXT = st.text(alphabet=string.ascii_lowercase + " ,:", max_size=20)
FINITE = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | FINITE | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)
plain_values = st.recursive(
    st.booleans() | st.integers(-(10**6), 10**6) | FINITE | PLAIN_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)

BASE62 = string.ascii_letters + string.digits


def _suffix(alphabet: str, min_size: int) -> st.SearchStrategy[str]:
    # Real ids always have a digit somewhere; prepend one at a random place.
    return st.tuples(
        st.text(alphabet=alphabet, min_size=min_size, max_size=min_size + 16),
        st.sampled_from(string.digits),
        st.integers(0, 64),
    ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :])


ID_KINDS: dict[str, st.SearchStrategy[str]] = {
    "call": _suffix(BASE62, 20).map(lambda s: "call_" + s),
    "toolu": _suffix(BASE62, 20).map(lambda s: "toolu_01" + s),
    "chatcmpl": _suffix(BASE62, 20).map(lambda s: "chatcmpl-" + s),
    "resp": _suffix("0123456789abcdef", 40).map(lambda s: "resp_" + s),
    "msg": _suffix("0123456789abcdef", 40).map(lambda s: "msg_" + s),
    "fc": _suffix("0123456789abcdef", 40).map(lambda s: "fc_" + s),
    "file": st.one_of(
        _suffix(BASE62, 16).map(lambda s: "file-" + s),
        st.integers(10**9, 10**10 - 1).map(lambda n: f"file-{n}"),  # llama-stack's form
    ),
    "uuid": st.uuids().map(str),
}


def ids_of(kind: str, n: int) -> st.SearchStrategy[list[str]]:
    return st.lists(ID_KINDS[kind], min_size=n, max_size=n, unique=True)


def shuffled_dumps(obj: Any, rnd: random.Random) -> str:
    """Serialize with object keys in a random order and random whitespace."""

    def shuffle(o: Any) -> Any:
        if isinstance(o, dict):
            items = list(o.items())
            rnd.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        if isinstance(o, list):
            return [shuffle(v) for v in o]
        return o

    indent = rnd.choice([None, 0, 2, "\t"])
    separators = rnd.choice([(",", ":"), (", ", ": "), (" ,  ", " :\n")])
    return "\n " + json.dumps(shuffle(obj), indent=indent, separators=separators) + " \n"


def leaf_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in leaf_paths(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in leaf_paths(v, (*path, i))]
    return [path]


def set_at(obj: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    obj[path[0]] = set_at(obj[path[0]], path[1:], new)
    return obj


def get_at(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def changed(leaf: Any) -> Any:
    if isinstance(leaf, bool):
        return not leaf
    if isinstance(leaf, (int, float)):
        return leaf + 1
    return leaf + "x"


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(json_values, st.randoms(use_true_random=False))
def test_key_order_and_whitespace_do_not_matter(obj: Any, rnd: random.Random) -> None:
    assert key(shuffled_dumps(obj, rnd)) == key(json.dumps(obj))


@SETTINGS
@given(st.data(), plain_values)
def test_changing_any_content_leaf_changes_the_key(data: st.DataObject, obj: Any) -> None:
    paths = leaf_paths(obj)
    assume(paths)  # an empty container has nothing to change
    path = data.draw(st.sampled_from(paths))
    mutated = set_at(copy.deepcopy(obj), path, changed(get_at(obj, path)))
    assert key(mutated) != key(obj)


@SETTINGS
@given(FINITE)
def test_float_rounding_is_idempotent(x: float) -> None:
    assert key({"a": x}) == key({"a": round(x, 5)})
    assert key({"a": x}, CanonicalOptions(float_places=2)) == key({"a": round(x, 2)})


def tool_chat(calls: list[str], files: list[str], others: list[str], order: list[int]) -> dict:
    """A multi-turn tool-calling body: call i looks up file i; tool results in `order`."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"Trace {' and '.join(others)}."},
        {"role": "user", "content": "Summarize the files."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call,
                    "type": "function",
                    "function": {"name": "read_file", "arguments": json.dumps({"file_id": file})},
                }
                for call, file in zip(calls, files)
            ],
        },
    ]
    for i in order:
        messages.append(
            {"role": "tool", "tool_call_id": calls[i], "content": f"contents of <|{files[i]}|>"}
        )
    return {"model": "gpt-4o", "messages": messages, "tools": [], "user": None}


@st.composite
def id_sets(draw: st.DrawFn) -> tuple[int, list[str]]:
    n = draw(st.integers(1, 4))
    kinds = draw(st.lists(st.sampled_from(sorted(ID_KINDS)), min_size=1, max_size=3))
    return n, kinds


@SETTINGS
@given(st.data(), id_sets())
def test_consistently_renamed_ids_give_the_same_key(
    data: st.DataObject, shape: tuple[int, list[str]]
) -> None:
    n, other_kinds = shape
    order = data.draw(st.lists(st.integers(0, n - 1), max_size=6))

    def draw_ids() -> tuple[list[str], list[str], list[str]]:
        calls = data.draw(ids_of("call", n))
        files = data.draw(ids_of("file", n))
        others: list[str] = []
        for kind in other_kinds:  # all distinct within the body, like real ids
            taken = {*calls, *files, *others}
            others.append(data.draw(ID_KINDS[kind].filter(lambda s, taken=taken: s not in taken)))
        return calls, files, others

    first, second = draw_ids(), draw_ids()
    assert key(tool_chat(*first, order)) == key(tool_chat(*second, order))


@SETTINGS
@given(st.data(), st.integers(2, 4))
def test_which_id_a_result_refers_to_still_matters(data: st.DataObject, n: int) -> None:
    calls = data.draw(ids_of("call", n))
    files = data.draw(ids_of("file", n))
    order_a = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
    order_b = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
    same = key(tool_chat(calls, files, [], order_a)) == key(tool_chat(calls, files, [], order_b))
    assert same == (order_a == order_b)


def test_swapped_tool_results_do_not_match() -> None:
    a, b = "call_zS2WxgXWetjnlPt2MzH9Asrc", "call_65UIUP8qaZGeNNTjOTONwYKj"
    files = ["file-5217982280", "file-5217982281"]
    forward = tool_chat([a, b], files, [], [0, 1])
    # Same texts, but the results now claim the other call ids.
    swapped = copy.deepcopy(forward)
    swapped["messages"][3]["tool_call_id"], swapped["messages"][4]["tool_call_id"] = b, a
    assert key(forward) != key(swapped)
    recorded = canonicalize(json.dumps(forward), JSON)
    assert {d.path for d in diff(recorded, canonicalize(json.dumps(swapped), JSON))} == {
        "messages[3].tool_call_id",
        "messages[4].tool_call_id",
    }


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


def test_ids_become_numbered_placeholders_of_their_kind() -> None:
    body = {
        "a": "call_zS2WxgXWetjnlPt2MzH9Asrc then toolu_01A09q90qw90lq917835lq9X",
        "b": ["chatcmpl-AbC123dEf456GhI789", "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b4",
              "msg_67ccd2bed1ec8190b14f964abc0542670bb6a6b4", "fc_67ccd2bed1ec8190b14f96",
              "file-BK7bzQj3FfZFXr7DbL6xJwfo", "file-5217982280", "vs_abc123DEF456ghi",
              "batch_abc123DEF456", "asst_abc123DEF456", "thread_abc123DEF456",
              "run_abc123DEF456", "rs_abc123DEF456", "ws_abc123DEF456", "ctc_abc123DEF456",
              "0b6d2f1c-1111-4222-8333-123456789abc"],
        "c": "again call_zS2WxgXWetjnlPt2MzH9Asrc, new call_65UIUP8qaZGeNNTjOTONwYKj",
    }  # fmt: skip
    got = value(body)
    assert got["a"] == "<call_1> then <toolu_1>"
    assert got["b"] == [
        "<chatcmpl_1>", "<resp_1>", "<msg_1>", "<fc_1>", "<file_1>", "<file_2>", "<vs_1>",
        "<batch_1>", "<asst_1>", "<thread_1>", "<run_1>", "<rs_1>", "<ws_1>", "<ctc_1>",
        "<uuid_1>",
    ]  # fmt: skip
    assert got["c"] == "again <call_1>, new <call_2>"


@pytest.mark.parametrize(
    "text",
    [
        "run_tests", "msg_count", "call_function", "batch_size", "call_get_weather",
        "thread_pool_executor", "file-upload", "call_abc123", "call_1", "resp_format",
        "mycall_ABCDEFGH12", "file-12345", "chatcmpl", "vs_code",
    ],
)  # fmt: skip
def test_ordinary_words_are_not_ids(text: str) -> None:
    """The suffix rule (see ID_SUFFIX_RULE): >= 8 chars with a digit or an uppercase letter,
    word-bounded; so lowercase identifiers, short fixtures and glued prefixes stay as they are.
    """
    assert value({"t": f"use {text} here"})["t"] == f"use {text} here"


def test_id_boundaries() -> None:
    assert value({"t": "(call_ABCDEFGH12)"})["t"] == "(<call_1>)"
    assert value({"t": "x-call_ABCDEFGH12"})["t"] == "x-call_ABCDEFGH12"  # glued to a word
    assert value({"t": "call_0_0b6d2f1c-1111-4222-8333-123456789abc"})["t"] == "<call_1>"
    assert value({"t": "chatcmpl-tool-4f1c2b3a9d8e7f60"})["t"] == "<chatcmpl_1>"
    assert value({"t": "resp_0b6d2f1c-1111-4222-8333-123456789abc."})["t"] == "<resp_1>."
    # Documented false positive: CamelCase after a prefix looks random enough to be an id.
    assert value({"t": "call_GetWeather"})["t"] == "<call_1>"


def test_ids_inside_json_strings_are_normalized() -> None:
    def body(call: str) -> dict:
        args = json.dumps({"previous": call, "n": 1})
        return {"tool_calls": [{"id": call, "function": {"arguments": args}}]}

    assert key(body("call_zS2WxgXWetjnlPt2MzH9Asrc")) == key(body("call_65UIUP8qaZGeNNTjOTONwYKj"))
    assert value(body("call_zS2WxgXWetjnlPt2MzH9Asrc"))["tool_calls"][0]["function"] == {
        "arguments": '{"previous": "<call_1>", "n": 1}'
    }


def test_timestamps_in_known_fields_only() -> None:
    assert key({"created_at": 1700000000, "x": 1}) == key({"created_at": 1712345678, "x": 1})
    assert key({"created": 1700000000123}) == key({"created": 1712345678999})  # milliseconds
    assert key({"expires_at": "2024-05-01T10:00:00Z"}) == key(
        {"expires_at": "2025-01-02T03:04:05.123+00:00"}
    )
    assert value({"timestamp": 1700000000.5, "when": {"completed_at": 1700000000.5}}) == {
        "timestamp": "<time_1>",
        "when": {"completed_at": "<time_1>"},
    }
    # Not a timestamp field, or not a timestamp-looking value: compared as is.
    assert key({"count": 1700000000}) != key({"count": 1712345678})
    assert key({"created_at": 5}) != key({"created_at": 6})
    assert key({"created_at": "soon"}) != key({"created_at": "later"})
    assert key({"created_at": 1700000000}, CanonicalOptions(normalize_ids=False)) != key(
        {"created_at": 1712345678}, CanonicalOptions(normalize_ids=False)
    )


def test_normalize_ids_off_compares_ids_exactly() -> None:
    off = CanonicalOptions(normalize_ids=False)
    a = {"id": "call_zS2WxgXWetjnlPt2MzH9Asrc"}
    b = {"id": "call_65UIUP8qaZGeNNTjOTONwYKj"}
    assert key(a, off) != key(b, off)
    assert key(a) == key(b)


def test_user_id_patterns_and_id_paths() -> None:
    options = CanonicalOptions(id_patterns=(r"req-[0-9a-f]{8}",), id_paths=("metadata.trace",))
    a = {"q": "see req-0000abcd and req-0000abcd", "metadata": {"trace": "t1", "k": "v"}}
    b = {"q": "see req-1111ffff and req-1111ffff", "metadata": {"trace": "t2", "k": "v"}}
    c = {"q": "see req-1111ffff and req-2222ffff", "metadata": {"trace": "t2", "k": "v"}}
    assert key(a, options) == key(b, options)
    assert key(a, options) != key(c, options)  # two different ids stay different
    assert value(a, options) == {
        "q": "see <id_2> and <id_2>",
        "metadata": {"k": "v", "trace": "<id_1>"},
    }
    assert key(a) != key(b)  # not volatile by default
    # User patterns still apply with the built-ins switched off.
    off = CanonicalOptions(id_patterns=(r"req-[0-9a-f]{8}",), normalize_ids=False)
    assert key({"q": "req-0000abcd"}, off) == key({"q": "req-1111ffff"}, off)


# --------------------------------------------------------------------------------------------
# Floats, defaults, ignore paths
# --------------------------------------------------------------------------------------------


def test_float_rounding_at_configured_places() -> None:
    assert key({"t": 0.1234561}) == key({"t": 0.1234559})
    assert key({"t": 0.12345}) != key({"t": 0.12346})
    two = CanonicalOptions(float_places=2)
    assert key({"t": 0.701}, two) == key({"t": 0.699}, two)
    assert key({"t": 0.7}, two) != key({"t": 0.8}, two)
    assert key({"t": 1.0}) == key({"t": 1})  # one JSON number


def test_floats_inside_strings() -> None:
    def tool_text(score: str) -> dict:
        return {"content": f"[1] document_id: doc, score: {score}, attributes: {{}}"}

    assert key(tool_text("2.57802841833685")) == key(tool_text("2.578031"))
    assert value(tool_text("2.57802841833685"))["content"].endswith(
        "score: 2.57803, attributes: {}"
    )
    assert key(tool_text("2.57802841833685")) != key(tool_text("2.57812841833685"))
    assert key(tool_text("2.5")) != key(tool_text("2.6"))
    # Not floats: version numbers, words, short decimals are left alone.
    for text in ["v1.2345678", "1.2.3456789", "3.14", "x1.23456789y", "1.23456789e-5"]:
        assert value({"t": text})["t"] == text


def test_none_valued_keys_dropped_but_not_nulls_in_lists() -> None:
    assert key({"model": "m", "user": None, "n": {"x": None, "y": 1}}) == key(
        {"model": "m", "n": {"y": 1}}
    )
    assert key({"stop": [None, "x"]}) != key({"stop": ["x"]})
    keep = CanonicalOptions(ignore_defaults=False)
    assert key({"a": 1, "b": None}, keep) != key({"a": 1}, keep)


def test_stream_options_dropped_only_when_not_streaming() -> None:
    usage = {"include_usage": True}
    assert key({"stream": False, "stream_options": usage}) == key({"stream": False})
    assert key({"model": "m", "stream_options": usage}) == key({"model": "m"})
    assert key({"stream": True, "stream_options": usage}) != key({"stream": True})
    keep = CanonicalOptions(ignore_defaults=False)
    assert key({"stream": False, "stream_options": usage}, keep) != key({"stream": False}, keep)


def test_ignore_paths_with_wildcards() -> None:
    options = CanonicalOptions(
        ignore_paths=("metadata.run_id", "user", "seed", "messages[*].name", "*.x", "tools[0]")
    )
    a = {
        "user": "u1", "seed": 1, "metadata": {"run_id": "r1", "k": "v"},
        "messages": [{"role": "user", "content": "hi", "name": "alice"}],
        "a": {"x": 1, "y": 2}, "tools": [{"t": 1}, {"t": 2}],
    }  # fmt: skip
    b = {
        "user": "u2", "seed": 2, "metadata": {"run_id": "r2", "k": "v"},
        "messages": [{"role": "user", "content": "hi", "name": "bob"}],
        "a": {"x": 9, "y": 2}, "tools": [{"t": 7}, {"t": 2}],
    }  # fmt: skip
    assert key(a, options) == key(b, options)
    assert key(a) != key(b)
    assert value(a, options) == {
        "a": {"y": 2}, "messages": [{"content": "hi", "role": "user"}],
        "metadata": {"k": "v"}, "tools": [{"t": 2}],
    }  # fmt: skip
    # Paths are anchored at the root and changes elsewhere still count.
    assert key({"deep": {"user": 1}}, options) != key({"deep": {"user": 2}}, options)
    assert key({"messages": [{"content": "a"}]}, options) != key(
        {"messages": [{"content": "b"}]}, options
    )


def test_options_validation_and_lists() -> None:
    with pytest.raises(re.error):
        CanonicalOptions(id_patterns=("(",))
    with pytest.raises(ValueError):
        CanonicalOptions(ignore_paths=("a..[",))
    options = CanonicalOptions(ignore_paths=["user"])  # type: ignore[arg-type]
    assert options.ignore_paths == ("user",)
    assert hash(options) == hash(CanonicalOptions(ignore_paths=("user",)))


# --------------------------------------------------------------------------------------------
# Other body kinds
# --------------------------------------------------------------------------------------------


def multipart(boundary: str, content: bytes = b"line one\nline two\n", purpose: str = "batch"):
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode()


def test_multipart_ignores_the_boundary_but_not_the_fields() -> None:
    def canon(boundary: str, **kwargs: Any) -> Canonical:
        return canonicalize(
            multipart(boundary, **kwargs), f"multipart/form-data; boundary={boundary}"
        )

    a = canon("a7d1f3c0e9b84f5d")
    assert a.kind == "multipart"
    assert a == canon("0f5e2b6c1d9a4e77")
    assert a.value["file"] == {
        "filename": "in.jsonl",
        "content_type": "application/octet-stream",
        "content": "line one\nline two\n",
    }
    other_file = canon("0f5e2b6c1d9a4e77", content=b"line one\nline 2\n")
    assert a != other_file
    assert [d.path for d in diff(a, other_file)] == ["file.content"]
    assert a != canon("0f5e2b6c1d9a4e77", purpose="assistants")
    # Binary content is compared by digest; the boundary can come from the body alone.
    binary = canonicalize(multipart("b1", content=b"\x00\xff"), "multipart/form-data")
    assert binary == canonicalize(multipart("b2", content=b"\x00\xff"), "multipart/form-data")
    assert binary != canonicalize(multipart("b2", content=b"\x00\xfe"), "multipart/form-data")
    assert "sha256:" in binary.value["file"]["content"]


def test_form_fields_in_any_order() -> None:
    form = "application/x-www-form-urlencoded"
    a = canonicalize(b"b=2&a=1&c=x%20y", form)
    assert a.kind == "form"
    assert a == canonicalize(b"c=x+y&a=1&b=2", form)
    assert a != canonicalize(b"c=x+y&a=1&b=3", form)
    # Ids are numbered after sorting, so field order cannot change the numbering.
    ids = canonicalize(b"b=file-ABCDEFGH12&a=call_XYZ12345678", form)
    assert ids.value == {"a": "<call_1>", "b": "<file_1>"}
    assert ids == canonicalize(b"a=call_QQQ12345678&b=file-ZZZZZZZZ99", form)
    options = CanonicalOptions(ignore_paths=("user",), id_paths=("trace",))
    assert canonicalize(b"user=1&trace=t1&x=1", form, options) == canonicalize(
        b"x=1&trace=t2&user=2", form, options
    )


def test_non_json_bytes_compare_exactly() -> None:
    a = canonicalize(b"\x00binary\xff", "application/octet-stream")
    assert a.kind == "bytes"
    assert a == canonicalize(b"\x00binary\xff", "application/octet-stream")
    assert a != canonicalize(b"\x00binary\xfe", "application/octet-stream")
    big = bytes(range(256)) * 20
    assert canonicalize(big, None) == canonicalize(bytes(big), None)
    assert canonicalize(big, None) != canonicalize(big[:-1] + b"x", None)
    # Not JSON although it starts like it: exact bytes, key order matters.
    assert canonicalize(b"{not json", JSON).kind == "bytes"


def test_json_detection_and_empty_bodies() -> None:
    assert canonicalize(b'{"a": 1}', None).kind == "json"
    assert canonicalize(" [1, 2]", "text/plain").kind == "json"
    assert canonicalize('{"b":1, "a":2}', "application/vnd.api+json").key == key({"a": 2, "b": 1})
    assert canonicalize(b'{"a": 1}', None) == canonicalize('{ "a" : 1 }', JSON)
    assert canonicalize(None, None).kind == "empty"
    assert canonicalize(b"", JSON) == canonicalize(None, None)


def test_canonical_is_a_dict_key() -> None:
    index = {canonicalize(b'{"a": 1, "b": [1.0]}', JSON): "recorded"}
    assert index[canonicalize(b'{"b": [1], "a": 1}', JSON)] == "recorded"
    assert isinstance(canonicalize(b"{}", JSON).key, str)


# --------------------------------------------------------------------------------------------
# The realistic body: llama-stack's sequential file-search recording (trimmed)
# --------------------------------------------------------------------------------------------

SEED_BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "user", "content": "How many experts does the Llama 4 Maverick model have?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_zS2WxgXWetjnlPt2MzH9Asrc",
                    "type": "function",
                    "function": {
                        "name": "knowledge_search",
                        "arguments": '{"query":"Llama 4 Maverick model number of experts"}',
                    },
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_zS2WxgXWetjnlPt2MzH9Asrc",
            "content": [
                {
                    "type": "text",
                    "text": "knowledge_search tool found 1 chunks:\n"
                    "BEGIN of knowledge_search tool results.\n",
                },
                {
                    "type": "text",
                    "text": "[1] document_id: file-5217982280, score: 2.57802841833685, "
                    "attributes: {'filename': 'test_sequential_file_search.txt', "
                    "'document_id': 'file-5217982280', 'token_count': 19.0, "
                    "'metadata_token_count': 11.0} (cite as <|file-5217982280|>)\n"
                    "The Llama 4 Maverick model has 128 experts in its mixture of experts "
                    "architecture.\n",
                },
                {"type": "text", "text": "END of knowledge_search tool results.\n"},
                {
                    "type": "text",
                    "text": "The above results were retrieved to help answer the user's query: "
                    '"Llama 4 Maverick model number of experts". Cite sources using '
                    "`<|file-id|>` format (e.g., 'This is a fact "
                    "<|file-Cn3MSNn72ENTiiq11Qda4A|>.'). Use only the file IDs provided.\n",
                },
            ],
        },
        {
            "role": "assistant",
            "content": "The Llama 4 Maverick model has 128 experts in its mixture of experts "
            "architecture <|file-5217982280|>.",
        },
        {"role": "user", "content": "Can you tell me more about the architecture?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_65UIUP8qaZGeNNTjOTONwYKj",
                    "type": "function",
                    "function": {
                        "name": "knowledge_search",
                        "arguments": '{"query":"Llama 4 Maverick model architecture"}',
                    },
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_65UIUP8qaZGeNNTjOTONwYKj",
            "content": [
                {
                    "type": "text",
                    "text": "[1] document_id: file-5217982280, score: 1.9325686555844606, "
                    "attributes: {'document_id': 'file-5217982280'} "
                    "(cite as <|file-5217982280|>)\n",
                },
                {"type": "text", "text": "END of knowledge_search tool results.\n"},
            ],
        },
    ],
    "stream": True,
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "knowledge_search",
                "description": "Search for information in a database.",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string", "description": "The query."}},
                    "required": ["query"],
                },
            },
        }
    ],
}

RENAMES = {
    "call_zS2WxgXWetjnlPt2MzH9Asrc": "call_Qm4rT7uVx9Yb2Nc5Df8Gh1Jk",
    "call_65UIUP8qaZGeNNTjOTONwYKj": "call_Lp3Ow6Ie9Ru2Ty5Wq8As1Zx0",
    "file-5217982280": "file-9071234455",
    "file-Cn3MSNn72ENTiiq11Qda4A": "file-Zz9Yy8Xx7Ww6Vv5Uu4Tt3S",
}


def renamed(body: Any, mapping: dict[str, str]) -> Any:
    text = json.dumps(body)
    for old, new in mapping.items():
        text = text.replace(old, new)
    return json.loads(text)


def test_seed_body_with_every_id_replaced_matches() -> None:
    live = renamed(SEED_BODY, RENAMES)
    assert live != SEED_BODY
    assert key(live) == key(SEED_BODY)
    # Score jitter in the tool output, key order and whitespace: still the same request.
    jittered = renamed(SEED_BODY, {"2.57802841833685": "2.578031", "1.9325686555844606": "1.93257"})
    assert key(shuffled_dumps(jittered, random.Random(7))) == key(SEED_BODY)
    canonical = value(SEED_BODY)
    assert canonical["messages"][2]["tool_call_id"] == "<call_1>"
    assert canonical["messages"][6]["tool_call_id"] == "<call_2>"
    assert "document_id: <file_1>, score: 2.57803" in canonical["messages"][2]["content"][1]["text"]


def test_seed_body_with_ids_swapped_between_turns_does_not_match() -> None:
    a, b = "call_zS2WxgXWetjnlPt2MzH9Asrc", "call_65UIUP8qaZGeNNTjOTONwYKj"
    live = copy.deepcopy(SEED_BODY)
    live["messages"][2]["tool_call_id"] = b
    live["messages"][6]["tool_call_id"] = a
    assert key(live) != key(SEED_BODY)


def test_seed_body_content_change_is_named_in_the_diff() -> None:
    live = copy.deepcopy(SEED_BODY)
    live["messages"][4]["content"] = "Can you tell me more about the training data?"
    recorded, now = canonicalize(json.dumps(SEED_BODY), JSON), canonicalize(json.dumps(live), JSON)
    assert recorded != now
    diffs = diff(recorded, now)
    assert diffs == [
        Difference(
            "messages[4].content",
            "Can you tell me more about the architecture?",
            "Can you tell me more about the training data?",
        )
    ]
    assert format_diff(diffs) == (
        "  messages[4].content: recorded 'Can you tell me more about the architecture?'"
        " | live 'Can you tell me more about the training data?'"
    )
    assert diff(recorded, canonicalize(json.dumps(renamed(SEED_BODY, RENAMES)), JSON)) == []


# --------------------------------------------------------------------------------------------
# diff / format_diff
# --------------------------------------------------------------------------------------------


def test_diff_stays_short_for_large_bodies() -> None:
    big = "lorem ipsum " * 2000
    recorded = {"messages": [{"role": "user", "content": big}], "model": "gpt-4o"}
    live = {
        "messages": [
            {"role": "user", "content": big[:12000] + "CHANGED" + big[12007:]},
            {"role": "user", "content": big},
        ],
        "model": "gpt-4o-mini",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"d": big}}}],
    }
    diffs = diff(canonicalize(json.dumps(recorded), JSON), canonicalize(json.dumps(live), JSON))
    assert [d.path for d in diffs] == ["messages[0].content", "messages[1]", "model", "tools"]
    assert diffs[1].recorded is MISSING and diffs[3].recorded == "<missing>"
    text = format_diff(diffs)
    assert "CHANGED" in text  # the window is centred on the first difference
    assert len(text) < 1200
    assert all(len(line) < 320 for line in text.splitlines())
    assert "  model: recorded 'gpt-4o' | live 'gpt-4o-mini'" in text.splitlines()
    assert "tools: recorded <missing> | live [{" in text


def test_diff_limit_and_kinds() -> None:
    recorded = canonicalize(json.dumps({f"k{i}": i for i in range(50)}), JSON)
    live = canonicalize(json.dumps({f"k{i}": -i - 1 for i in range(50)}), JSON)
    assert len(diff(recorded, live)) == 20
    assert len(diff(recorded, live, limit=3)) == 3
    assert diff(recorded, recorded) == []
    mixed = diff(recorded, canonicalize(b"raw", "text/plain"))
    assert [d.path for d in mixed] == ["<body>"]
    assert "<json body>" in format_diff(mixed) and "<bytes body>" in format_diff(mixed)
    raw = diff(canonicalize(b"x" * 500 + b"A", None), canonicalize(b"x" * 500 + b"B", None))
    assert raw[0].path == "<body>@500"
    assert len(format_diff(raw)) < 400
    assert format_diff([]) == "  (no differences)"
    assert diff(canonicalize(b'{"a": true}', JSON), canonicalize(b'{"a": 1}', JSON)) == [
        Difference("a", True, 1)
    ]


def test_diff_paths_quote_unusual_keys() -> None:
    recorded = canonicalize(json.dumps({"meta": {"a.b": 1, "": 2, "ok": 3}}), JSON)
    live = canonicalize(json.dumps({"meta": {"a.b": 9, "": 8, "ok": 7}}), JSON)
    assert [d.path for d in diff(recorded, live)] == ['meta[""]', 'meta["a.b"]', "meta.ok"]
