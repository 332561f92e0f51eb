"""Canonical request bodies: the core of request matching.

A recorded request must match the request a test makes today even though the two bodies
differ in ways that carry no meaning: JSON key order and whitespace, multipart boundaries,
form field order, floats that jitter in their last digits, provider- and client-generated ids
(``call_…``, ``file-…``, UUIDs …) and timestamps that change on every run, and ``null``
options the SDK serializes for arguments the caller never passed.

:func:`canonicalize` removes exactly those differences and nothing else, producing a
:class:`Canonical` whose ``key`` is a plain ``str``: cheap to hash, so a cassette can compute
each recorded request's key once and look a live request up in a ``dict``.  :func:`diff` and
:func:`format_diff` explain a miss to a human in a few short lines.

This module is pure: no vcrpy, no pytest, no I/O.  It is on the hot path (thousands of 2–3 KB
bodies per test session), so all regexes are compiled once per :class:`CanonicalOptions`
(cached), the freshly parsed body is normalized in place in a single walk (no deep copies),
and each distinct string is scanned for ids/floats once per options (a cassette's bodies
repeat the same system prompts, turns and tool outputs over and over).
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from .._wire import loads_json, media_type

__all__ = [
    "MISSING",
    "Canonical",
    "CanonicalKind",
    "CanonicalOptions",
    "Difference",
    "canonicalize",
    "diff",
    "format_diff",
]

CanonicalKind = Literal["json", "form", "multipart", "bytes", "empty"]


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanonicalOptions:
    """How two request bodies are compared.

    Frozen and hashable on purpose: the compiled regexes and path tables derived from an
    options object are cached per instance (see :func:`_plan_for`), so building the same
    options twice costs nothing and a bad user regex fails at construction, not mid-test.

    Attributes:
        float_places: JSON floats are rounded to this many decimal places before comparing,
            and so are decimal literals *inside strings* that have more digits than this
            (``"score: 2.57802841833685"`` → ``"score: 2.57803"``), because retrieval scores
            pasted into tool output jitter in their last digits between runs.  Integral JSON
            floats compare equal to ints (``1.0 == 1``), as in JSON itself.
        ignore_paths: volatile JSON paths dropped before comparing, dotted, with ``[N]`` for a
            list index, ``[*]`` for any list item and ``*`` for any key or item, e.g.
            ``"metadata.run_id"``, ``"user"``, ``"seed"``, ``"messages[*].name"``.  A path
            matches a whole path from the root, never a suffix.  For form and multipart
            bodies a one-segment path names a field.
        id_patterns: extra regexes whose matches anywhere in a string are volatile ids,
            replaced by ``<id_N>`` placeholders like the built-in patterns.  They apply even
            when ``normalize_ids`` is false, because the user asked for them explicitly.
            They are tried before the built-in patterns.
        id_paths: JSON paths (same syntax as ``ignore_paths``) whose whole scalar values are
            volatile ids, replaced by ``<id_N>``.  Also independent of ``normalize_ids``.
        ignore_defaults: drop what the SDK adds on its own: object keys whose value is
            ``null`` (omitted options serialized as ``null``; ``null`` *inside lists* is
            data and is kept) and a top-level ``stream_options`` when ``stream`` is not
            ``true`` (the API ignores it then).
        normalize_ids: replace the built-in id kinds and known timestamp fields by
            placeholders numbered by first appearance (see :data:`ID_SUFFIX_RULE`).
    """

    float_places: int = 5
    ignore_paths: tuple[str, ...] = ()
    id_patterns: tuple[str, ...] = ()
    id_paths: tuple[str, ...] = ()
    ignore_defaults: bool = True
    normalize_ids: bool = True

    def __post_init__(self) -> None:
        # Accept lists from config files, but store tuples so the object stays hashable.
        for name in ("ignore_paths", "id_patterns", "id_paths"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
            else:
                object.__setattr__(self, name, value)
        if self.float_places < 0:
            raise ValueError("float_places must be >= 0")
        _plan_for(self)  # compile now: a bad regex or path should fail at configuration time


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Canonical:
    """A body with its meaningless differences removed.

    ``key`` is what matching compares: a compact ``str`` (prefixed by the kind, so a JSON body
    can never equal a form body).  ``value`` is the canonical structure, kept only so that
    :func:`diff` can say *where* two bodies differ.  Equality and hashing use ``key`` alone,
    so a ``Canonical`` can itself be a dict key.
    """

    kind: CanonicalKind
    key: str
    value: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Canonical):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


class _Literal(str):
    """A string shown as-is (no quotes) by :func:`format_diff`: markers and abbreviations."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str.__str__(self)


#: Stands for "this side has no value here" in a :class:`Difference`.
MISSING: str = _Literal("<missing>")


@dataclass(frozen=True)
class Difference:
    """One place where a recorded and a live body disagree.

    ``path`` is a JSON path such as ``messages[2].content`` (``<body>`` for the whole body);
    ``recorded``/``live`` are the values there, :data:`MISSING` when absent on one side, and
    already shortened (about 120 characters) so a report never dumps a whole body.
    """

    path: str
    recorded: Any
    live: Any


# --------------------------------------------------------------------------------------------
# Ids, floats and timestamps
# --------------------------------------------------------------------------------------------

#: Prefixes of provider/client-generated ids (OpenAI, Anthropic, llama-stack, vLLM …).
ID_PREFIXES: tuple[str, ...] = (
    "chatcmpl", "toolu", "call", "resp", "msg", "fc", "file", "vs", "batch", "asst",
    "thread", "run", "rs", "ws", "ctc",
)  # fmt: skip

ID_SUFFIX_RULE = """\
An id is PREFIX + ('_' or '-') + SUFFIX, word-bounded: no [A-Za-z0-9_-] right before or after.
SUFFIX is at least 8 characters of [A-Za-z0-9_-] containing at least one digit or ASCII
uppercase letter; for ``file-`` a suffix of 6 or more digits alone also counts (llama-stack's
``file-5217982280``).

Why: real ids are random base62/hex (``call_zS2WxgXWetjnlPt2MzH9Asrc``,
``resp_67ccd2bed1ec8190b14f964abc0542670bb6``, ``file-BK7bzQj3FfZFXr7DbL6xJwfo``,
``chatcmpl-tool-4f1c…``, ``call_0_<uuid>``) and essentially always contain a digit or an
uppercase letter, while ordinary identifiers and words are lowercase:
``run_tests``, ``msg_count``, ``call_function``, ``batch_size``, ``call_get_weather``,
``thread_pool_executor`` are NOT ids.  Short hand-written fixtures (``call_abc123``,
``call_1``) are not ids either; they are deterministic, so they need no normalizing.
Known false positives, harmless because they are replaced consistently within a body:
``call_GetWeather``, ``call_function_v2``."""

# These regexes run over every string of every body, so they are built for Python's `re`
# scanner: a pattern whose first item is ONE literal character is searched with a tight C loop,
# while a pattern starting with a character set, a group or a look-behind is tried at (almost)
# every position; a naive `(?<!…)(call|…)_…|uuid|float` costs ~300 µs per 3 KB body.  So there
# are three regexes, each ANCHORED on a rare separator character ('_', '-' or '.'), each
# verifying what precedes its anchor with fixed-width look-behinds; the caller skips a regex
# whose anchor is absent from the string (`in` is memchr-fast) and extends each match
# leftwards over the id prefix / UUID head / integer digits (see _Normalizer.string).
_ID = "A-Za-z0-9_-"
_HEX = "[0-9a-fA-F]"


def _prefix_lookbehinds(sep: str) -> str:
    """``(?<=(?<![ID])(?:call|resp|file|asst)_)|…`` — one fixed-width look-behind per length."""
    by_len: dict[int, list[str]] = {}
    for prefix in ID_PREFIXES:
        by_len.setdefault(len(prefix), []).append(prefix)
    return "|".join(
        f"(?<=(?<![{_ID}])(?:{'|'.join(group)}){sep})"
        for _, group in sorted(by_len.items(), reverse=True)
    )


# After the separator: >= 8 id chars with a digit or uppercase letter, or (file-) >= 6 digits.
# The cheap forward checks run first: most '_' in text (`document_id`, `knowledge_search`)
# fail them before any look-behind is tried.
_SUFFIX_GATE = rf"(?=[{_ID}]{{6}})(?=[{_ID}]*?[A-Z0-9])"
_ID_SUFFIX = rf"(?:(?<=file-)[0-9]{{6,}}|[{_ID}]{{8,}})(?![{_ID}])"
# group i: PREFIX_SUFFIX anchored on '_' (the caller walks back over the [a-z] prefix).
_ID_UNDERSCORE = rf"_{_SUFFIX_GATE}(?<=[a-z]_)(?:{_prefix_lookbehinds('_')})(?P<i>{_ID_SUFFIX})"
# group i: PREFIX-SUFFIX; group u: a UUID anchored on its first '-' (8 hex digits back).
_ID_DASH = (
    rf"-(?:{_SUFFIX_GATE}(?<=[a-z]-)(?:{_prefix_lookbehinds('-')})(?P<i>{_ID_SUFFIX})"
    rf"|(?<=(?<![A-Za-z0-9]){_HEX}{{8}}-)"
    rf"(?P<u>{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})(?![A-Za-z0-9]))"
)


def _float_pattern(places: int) -> str:
    """Group f: the fraction of a decimal literal with more than `places` digits, anchored on
    its '.'.  Not part of a version number (1.2.3) or an exponent; the caller checks that the
    integer part does not continue a word (``v1.234567``)."""
    return rf"\.(?<=[0-9]\.)(?P<f>[0-9]{{{places + 1},}})(?![A-Za-z0-9_]|\.[0-9])"


_match_start = operator.methodcaller("start")
_FLOAT_LEFT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.")


#: Object keys whose epoch-number or ISO-8601 value is a volatile timestamp.  Any key ending
#: in ``_at`` counts too; the value must also *look* like a timestamp (epoch seconds in
#: [1e9, 1e10), milliseconds in [1e12, 1e13), or ISO-8601), so ``max_tokens_at: 5`` is safe.
TIMESTAMP_FIELDS: frozenset[str] = frozenset(
    {"created", "created_at", "timestamp", "expires_at", "completed_at", "started_at",
     "updated_at", "failed_at", "cancelled_at", "canceled_at", "in_progress_at",
     "finalizing_at", "expired_at", "cancelling_at", "finished_at", "last_active_at",
     "modified_at", "deleted_at", "last_used_at"}
)  # fmt: skip

_ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)


_ISO_FULLMATCH = _ISO_TIME.fullmatch


def _is_timestamp_key(key: str) -> bool:
    return key in TIMESTAMP_FIELDS or key.endswith("_at")


def _looks_like_time(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 1e9 <= value < 1e10 or 1e12 <= value < 1e13
    if isinstance(value, str):
        return _ISO_TIME.fullmatch(value) is not None
    return False


# --------------------------------------------------------------------------------------------
# Paths: a small trie walked alongside the body
# --------------------------------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"\[(\*|[0-9]+)\]|([^.\[\]]+)|(\.)")


class _Node:
    """One step of the ignore/id path trie.  ``drop``/``ident`` mark a complete path."""

    __slots__ = ("any", "any_item", "drop", "ident", "items", "keys")

    def __init__(self) -> None:
        self.keys: dict[str, _Node] = {}  # "name"
        self.items: dict[int, _Node] = {}  # "[3]"
        self.any_item: _Node | None = None  # "[*]": any list item
        self.any: _Node | None = None  # "*": any key or list item
        self.drop = False
        self.ident = False


def _parse_path(path: str) -> list[tuple[str, str | int]]:
    """``'messages[*].name'`` → ``[('key','messages'), ('item','*'), ('key','name')]``."""
    steps: list[tuple[str, str | int]] = []
    pos = 0
    for m in _PATH_TOKEN.finditer(path):
        if m.start() != pos:
            break
        pos = m.end()
        index, key, dot = m.group(1), m.group(2), m.group(3)
        if dot:
            continue
        if index is not None:
            steps.append(("item", "*" if index == "*" else int(index)))
        elif key == "*":
            steps.append(("any", "*"))
        else:
            steps.append(("key", key.strip()))
    if pos != len(path) or not steps:
        raise ValueError(f"invalid JSON path {path!r} (use e.g. 'metadata.run_id', 'a[*].b')")
    return steps


def _add_path(root: _Node, path: str, *, drop: bool) -> None:
    node = root
    for kind, step in _parse_path(path):
        if kind == "key":
            node = node.keys.setdefault(str(step), _Node())
        elif kind == "item" and step != "*":
            node = node.items.setdefault(int(step), _Node())
        elif kind == "item":
            node.any_item = node.any_item or _Node()
            node = node.any_item
        else:
            node.any = node.any or _Node()
            node = node.any
    if drop:
        node.drop = True
    else:
        node.ident = True


def _key_steps(states: tuple[_Node, ...], key: str) -> tuple[_Node, ...]:
    out: list[_Node] = []
    for node in states:
        child = node.keys.get(key)
        if child is not None:
            out.append(child)
        if node.any is not None:
            out.append(node.any)
    return tuple(out)


def _item_steps(states: tuple[_Node, ...], index: int) -> tuple[_Node, ...]:
    out: list[_Node] = []
    for node in states:
        child = node.items.get(index)
        if child is not None:
            out.append(child)
        if node.any_item is not None:
            out.append(node.any_item)
        if node.any is not None:
            out.append(node.any)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# The per-options plan (compiled once) and the per-body normalizer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    # (anchor character, finditer) pairs: built-in ids (if enabled) and floats, see above
    scanners: tuple[tuple[str, Callable[[str], Iterator[re.Match[str]]]], ...]
    user_re: re.Pattern[str] | None  # CanonicalOptions.id_patterns, or None
    min_len: int  # strings shorter than this cannot contain any match: skip the regexes
    places: int
    paths: tuple[_Node, ...]  # () when no ignore/id paths: the walk's fast path
    builtin_ids: bool
    ignore_defaults: bool
    # string -> its template (see _template); shared by all bodies using these options
    templates: _Templates = field(default_factory=lambda: _Templates(), compare=False, hash=False)


# A string's normalized form, independent of any body: either the final string (no ids in
# it, floats already rounded), or a tuple of literal pieces and (kind, raw id) pairs that a
# body turns into placeholders with its own numbering.
_Template = str | tuple[str | tuple[str, str], ...]
_TEMPLATE_MAX_LEN = 16384  # longer strings are scanned every time rather than cached
_TEMPLATE_MAX_CHARS = 4_000_000  # cache budget (characters of cached strings) per options


class _Templates(dict):  # type: ignore[type-arg]
    """The per-options string → template cache, bounded by the characters it holds.

    Cleared wholesale when full: simpler and cheaper than LRU bookkeeping on the hot path,
    and a test session's strings are few enough that it rarely happens.
    """

    __slots__ = ("chars",)

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def remember(self, s: str, template: _Template) -> None:
        if len(s) > _TEMPLATE_MAX_LEN:
            return
        if self.chars + len(s) > _TEMPLATE_MAX_CHARS:
            self.clear()
            self.chars = 0
        self[s] = template
        self.chars += len(s)


@functools.lru_cache(maxsize=64)
def _plan_for(options: CanonicalOptions) -> _Plan:
    """Compile everything an options object implies, once (options are frozen/hashable)."""
    places = options.float_places
    for pattern in options.id_patterns:
        re.compile(pattern)  # validate alone, for a clear error message
    user_re = (
        re.compile("|".join(f"(?:{p})" for p in options.id_patterns))
        if options.id_patterns
        else None
    )
    scanners = [(".", re.compile(_float_pattern(places)).finditer)]
    # Shortest possible match: "1." + places+1 digits; "fc_" + 8 chars; "file-" + 6 digits.
    min_len = places + 3
    if options.normalize_ids:
        scanners.insert(0, ("_", re.compile(_ID_UNDERSCORE).finditer))
        scanners.insert(1, ("-", re.compile(_ID_DASH).finditer))
        min_len = min(min_len, 11)
    if user_re is not None:
        min_len = 1

    root = _Node()
    for path in options.ignore_paths:
        _add_path(root, path, drop=True)
    for path in options.id_paths:
        _add_path(root, path, drop=False)
    has_paths = bool(options.ignore_paths or options.id_paths)
    return _Plan(
        scanners=tuple(scanners),
        user_re=user_re,
        min_len=min_len,
        places=places,
        paths=(root,) if has_paths else (),
        builtin_ids=options.normalize_ids,
        ignore_defaults=options.ignore_defaults,
    )


def _scan(plan: _Plan, s: str, pieces: list[str | tuple[str, str]]) -> bool:
    """Append ``s`` to ``pieces`` as literals and (kind, raw id) pairs, floats rounded.

    Returns whether any id was found.  Written for speed (it runs on every new string):
    one memchr-fast ``in`` test per regex, then a plain loop over the few matches.
    """
    matches: list[re.Match[str]] | None = None
    for anchor, finditer in plan.scanners:
        if anchor in s:
            found = list(finditer(s))
            if found:
                if matches is None:
                    matches = found
                else:
                    # An anchor is never inside another match's leftward extension (prefixes
                    # are [a-z], UUID heads hex, integer parts digits): anchor order is text
                    # order.
                    matches += found
                    matches.sort(key=_match_start)
    if matches is None:
        pieces.append(s)
        return False
    has_ids = False
    last = 0
    for m in matches:
        anchor, end = m.span()
        group = m.lastgroup
        begin = anchor
        if group == "f":
            while begin > 0 and "0" <= s[begin - 1] <= "9":
                begin -= 1
            if begin < last or (begin > 0 and s[begin - 1] in _FLOAT_LEFT):
                continue  # "v1.234567" is part of a word
            pieces.append(s[last:begin] + f"{float(s[begin:end]):.{plan.places}f}")
            last = end
            continue
        if group == "u":
            begin -= 8
            kind = "uuid"
        else:  # "i": walk back over the lowercase prefix the look-behind verified
            begin -= 2  # every prefix has at least 2 letters
            while begin > 0 and "a" <= s[begin - 1] <= "z":
                begin -= 1
            kind = s[begin:anchor]
        if begin < last:
            continue  # overlaps an id already taken (e.g. a UUID inside an id)
        pieces.append(s[last:begin])
        pieces.append((kind, s[begin:end]))
        has_ids = True
        last = end
    pieces.append(s[last:])
    return has_ids


def _template(plan: _Plan, s: str) -> _Template:
    """Parse one string into its body-independent :data:`_Template`."""
    pieces: list[str | tuple[str, str]] = []
    if plan.user_re is None:
        has_ids = _scan(plan, s, pieces)
    else:
        has_ids = False
        last = 0
        for m in plan.user_re.finditer(s):
            if m.end() == m.start():
                continue  # an empty match replaces nothing
            has_ids |= _scan(plan, s[last : m.start()], pieces)
            pieces.append(("id", m.group()))
            has_ids = True
            last = m.end()
        has_ids |= _scan(plan, s[last:], pieces)
    if not has_ids:
        return pieces[0] if len(pieces) == 1 else "".join(pieces)  # type: ignore[arg-type]
    return tuple(pieces)


class _Normalizer:
    """Walks one body; owns that body's id → placeholder table.

    Placeholders are numbered per kind by first appearance in a deterministic walk (object
    keys sorted), so the same id is the same placeholder everywhere in the body and two
    different ids stay different: a body whose tool results refer to calls [A, B] never
    matches one whose results refer to [B, A].

    The fast path (no ignore/id paths) rewrites the freshly parsed body IN PLACE: the body
    was parsed by us, so nobody else sees it, and copying every dict would double the cost.
    """

    __slots__ = ("counters", "drop_none", "ids", "min_len", "places", "plan", "templates", "times")

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.templates = plan.templates
        self.min_len = plan.min_len
        self.places = plan.places
        self.times = TIMESTAMP_FIELDS if plan.builtin_ids else None
        self.drop_none = plan.ignore_defaults
        self.ids: dict[Any, str] = {}
        self.counters: dict[str, int] = {}

    def placeholder(self, kind: str, raw: Any) -> str:
        found = self.ids.get(raw)
        if found is None:
            n = self.counters.get(kind, 0) + 1
            self.counters[kind] = n
            found = self.ids[raw] = f"<{kind}_{n}>"
        return found

    def string(self, s: str) -> str:
        """Normalize ids and floats inside one string (also JSON-in-a-string).

        Templates are cached per options: a cassette's bodies repeat the same long strings
        (system prompts, earlier turns, tool outputs), and hashing a string is ~10x cheaper
        than scanning it.  Only the id numbering is per body.
        """
        if len(s) < self.min_len:
            return s
        template = self.templates.get(s)
        if template is None:
            template = _template(self.plan, s)
            self.templates.remember(s, template)
        if type(template) is str:
            return template
        placeholder = self.placeholder
        return "".join([p if type(p) is str else placeholder(*p) for p in template])

    def number(self, value: float) -> float | int:
        value = round(value, self.places)
        if value.is_integer() and -(2.0**53) <= value <= 2.0**53:
            return int(value)  # JSON has one number type: 1.0 and 1 are the same value
        return value

    def scalar_id(self, value: Any) -> Any:
        """A value at a user ``id_paths`` path: the whole value is the id."""
        if value is None or isinstance(value, (bool, dict, list)):
            return self.walk(value, ())
        return self.placeholder("id", value)

    def walk(self, value: Any, states: tuple[_Node, ...]) -> Any:
        """Canonical form of any JSON value (``type() is`` checks: json.loads makes no
        subclasses, and this runs for every node of every body)."""
        t = type(value)
        if t is str:
            return self.string(value) if len(value) >= self.min_len else value
        if t is dict:
            return self.obj(value, states) if states else self.obj_fast(value)
        if t is list:
            if states:
                return self.list_paths(value, states)
            walk = self.walk
            for i, item in enumerate(value):
                new = walk(item, ())
                if new is not item:
                    value[i] = new
            return value
        if t is float:
            return self.number(value)
        return value  # int, bool, None

    def obj_fast(self, value: dict[str, Any]) -> dict[str, Any]:
        """The common case, no ignore/id paths: :meth:`obj` inlined, rewriting in place."""
        times = self.times
        drop_none = self.drop_none
        min_len = self.min_len
        for key in sorted(value):
            item = value[key]
            t = type(item)
            if t is str:
                if (
                    times is not None
                    and (key in times or key.endswith("_at"))
                    and _ISO_FULLMATCH(item)
                ):
                    value[key] = self.placeholder("time", item)
                elif len(item) >= min_len:
                    new = self.string(item)
                    if new is not item:
                        value[key] = new
            elif t is dict:
                self.obj_fast(item)
            elif t is list:
                self.walk(item, ())
            elif item is None:
                if drop_none:
                    del value[key]
            elif t is int or t is float:
                if (
                    times is not None
                    and (key in times or key.endswith("_at"))
                    and (1e9 <= item < 1e10 or 1e12 <= item < 1e13)
                ):
                    value[key] = self.placeholder("time", item)
                elif t is float:
                    value[key] = self.number(item)
        return value

    def obj(self, value: dict[str, Any], states: tuple[_Node, ...]) -> dict[str, Any]:
        """An object while ignore/id paths are live: follow the path trie key by key."""
        out: dict[str, Any] = {}
        for key in sorted(value):
            item = value[key]
            if item is None and self.drop_none:
                continue
            sub = _key_steps(states, key)
            if sub:
                if any(n.drop for n in sub):
                    continue
                if any(n.ident for n in sub):
                    out[key] = self.scalar_id(item)
                    continue
            if self.times is not None and _is_timestamp_key(key) and _looks_like_time(item):
                out[key] = self.placeholder("time", item)
                continue
            out[key] = self.walk(item, sub)
        return out

    def list_paths(self, value: list[Any], states: tuple[_Node, ...]) -> list[Any]:
        out = []
        for i, item in enumerate(value):
            sub = _item_steps(states, i)
            if sub:
                if any(n.drop for n in sub):
                    continue
                if any(n.ident for n in sub):
                    out.append(self.scalar_id(item))
                    continue
            out.append(self.walk(item, sub))
        return out


# --------------------------------------------------------------------------------------------
# canonicalize
# --------------------------------------------------------------------------------------------

_DUMPS = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False
).encode
# The fast path leaves dicts in their original order: let the C encoder sort them.
_DUMPS_SORTED = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False, sort_keys=True
).encode
_SHORT_BYTES = 256  # non-JSON bodies up to this size are their own key; longer ones a hash
_BIG_TEXT = 65536  # multipart text parts beyond this are keyed by hash, not content


def canonicalize(
    body: bytes | str | None,
    content_type: str | None,
    options: CanonicalOptions | None = None,
) -> Canonical:
    """Reduce a request body to a :class:`Canonical` whose ``key`` identifies it for matching.

    * JSON (``application/json``, ``*+json``, or any body starting with ``{``/``[`` that
      parses): keys sorted, whitespace gone, floats rounded, ids and timestamps replaced by
      placeholders, ``ignore_paths`` and SDK defaults dropped.  Strings that are themselves
      JSON (tool-call ``arguments``) are kept verbatim as strings, but ids and floats inside
      them are normalized by the same string regex.
    * ``application/x-www-form-urlencoded``: fields sorted by name (repeated names keep their
      relative order, which may matter to the server).
    * ``multipart/form-data``: fields by name, filename, content type and content; the random
      boundary is ignored (read from the content type, or from the body's first line).
    * anything else: exact bytes.

    Never raises on a malformed body: what cannot be parsed as its declared type is compared
    as exact bytes, which is the safe fallback for matching.
    """
    opts = options if options is not None else _DEFAULT_OPTIONS
    plan = _plan_for(opts)
    if body is None or len(body) == 0:
        return Canonical("empty", "empty:", None)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    mime = media_type(content_type)

    if mime == "application/json" or mime.endswith("+json"):
        result = _json(body, plan)
        if result is not None:
            return result
    elif mime == "application/x-www-form-urlencoded":
        return _form(raw, plan)
    elif mime.startswith("multipart/") or (
        not mime and raw.startswith(b"--") and b"content-disposition" in raw[:1024].lower()
    ):
        # (A multipart body whose content type was lost still announces itself.)
        result = _multipart(raw, content_type or "", plan)
        if result is not None:
            return result
    else:
        first = raw[:64].lstrip()[:1]  # no copy of a large body just to peek
        if first in (b"{", b"["):
            result = _json(body, plan)
            if result is not None:
                return result
    return _bytes(raw)


_DEFAULT_OPTIONS = CanonicalOptions()


def _json(body: bytes | str, plan: _Plan) -> Canonical | None:
    try:
        data = loads_json(body)  # deeper than the walk can go: compared as bytes
    except (ValueError, UnicodeDecodeError):
        return None
    norm = _Normalizer(plan)
    if isinstance(data, dict):
        value = norm.obj(data, plan.paths) if plan.paths else norm.obj_fast(data)
        if plan.ignore_defaults and "stream_options" in value and value.get("stream") is not True:
            del value["stream_options"]
    else:
        value = norm.walk(data, plan.paths)
    return Canonical("json", "json:" + _DUMPS_SORTED(value), value)


def _bytes(raw: bytes) -> Canonical:
    if len(raw) <= _SHORT_BYTES:
        # latin-1 is a bijection bytes <-> str, so this key is exact.
        return Canonical("bytes", "bytes=" + raw.decode("latin-1"), raw)
    return Canonical("bytes", "bytes#" + hashlib.sha256(raw).hexdigest(), raw)


def _fields_value(
    fields: list[tuple[str, Any]],
    plan: _Plan,
    finish: Callable[[Any, bool], Any],
) -> dict[str, Any]:
    """Form/multipart fields as ``{name: value}``, sorted by name (stably: repeated names keep
    their relative order, labelled ``name#2``…), with ignore/id paths applied by field name.

    Sorting happens BEFORE ``finish`` normalizes the values, so id placeholders are numbered
    the same whatever order the client sent the fields in.  ``finish(raw, is_id)`` turns a
    raw field into its canonical value; ``is_id`` marks a field named by ``id_paths``.
    """
    root = plan.paths
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name, raw in sorted(fields, key=lambda kv: kv[0]):
        sub = _key_steps(root, name) if root else ()
        if any(n.drop for n in sub):
            continue
        n = counts[name] = counts.get(name, 0) + 1
        out[name if n == 1 else f"{name}#{n}"] = finish(raw, any(n.ident for n in sub))
    return out


def _form(raw: bytes, plan: _Plan) -> Canonical:
    norm = _Normalizer(plan)
    text = raw.decode("latin-1")
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")

    def finish(field_value: str, is_id: bool) -> str:
        return norm.placeholder("id", field_value) if is_id else norm.string(field_value)

    value = _fields_value(pairs, plan, finish)
    return Canonical("form", "form:" + _DUMPS(value), value)


_PARAM = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _params(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PARAM.finditer(header):
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[m.group(1).lower()] = value
    return out


def _boundary(raw: bytes, content_type: str) -> bytes | None:
    declared = _params(content_type).get("boundary")
    if declared and b"--" + declared.encode("latin-1") in raw:
        return declared.encode("latin-1")
    # The header may have been rewritten or lost: the body's first line is "--BOUNDARY".
    if raw.startswith(b"--"):
        line = raw[2:].split(b"\n", 1)[0].rstrip(b"\r")
        if line:
            return line
    return None


def _multipart(raw: bytes, content_type: str, plan: _Plan) -> Canonical | None:
    boundary = _boundary(raw, content_type)
    if boundary is None:
        return None
    chunks = raw.split(b"--" + boundary)
    if len(chunks) < 3:
        return None
    norm = _Normalizer(plan)
    fields: list[tuple[str, tuple[dict[str, Any], bytes]]] = []
    for chunk in chunks[1:-1]:
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            name, colon, val = line.partition(":")
            if colon:
                headers[name.strip().lower()] = val.strip()
        disposition = _params(headers.get("content-disposition", ""))
        meta: dict[str, Any] = {}
        if "filename" in disposition:
            meta["filename"] = disposition["filename"]
        if "content-type" in headers:
            meta["content_type"] = headers["content-type"]
        fields.append((disposition.get("name", ""), (meta, content)))

    def finish(raw_part: tuple[dict[str, Any], bytes], is_id: bool) -> dict[str, Any]:
        meta, content = raw_part
        return {**meta, "content": _part_content(content, "filename" not in meta, is_id, norm)}

    value = _fields_value(fields, plan, finish)
    return Canonical("multipart", "multipart:" + _DUMPS(value), value)


def _part_content(content: bytes, is_field: bool, is_id: bool, norm: _Normalizer) -> str:
    """Text stays text (readable diffs); binary or huge content becomes a digest.

    Plain form fields get id/float normalization like JSON strings; file contents are
    compared exactly, since the test supplied them.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or len(text) > _BIG_TEXT:
        digest = hashlib.sha256(content).hexdigest()
        text = _Literal(f"<{len(content)} bytes sha256:{digest}>")
    if is_id:
        return norm.placeholder("id", text)
    return norm.string(text) if is_field and type(text) is str else text


# --------------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------------

_SHOW = 120  # characters of a value shown in a diff line


def _shorten_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Shorten two differing values, centred on where they start to differ."""
    if isinstance(a, str) and isinstance(b, str) and (len(a) > _SHOW or len(b) > _SHOW):
        limit = min(len(a), len(b))
        start = 0
        while start < limit and a[start] == b[start]:
            start += 1
        return _window(a, start), _window(b, start)
    return _shorten(a), _shorten(b)


def _window(s: str, at: int) -> str:
    begin = max(0, at - 40)
    end = begin + _SHOW
    text = s[begin:end]
    if begin > 0:
        text = "…" + text
    if end < len(s):
        text = text + f"… ({len(s)} chars)"
    return text


def _shorten(value: Any) -> Any:
    if isinstance(value, _Literal):
        return value
    if isinstance(value, str):
        return value if len(value) <= _SHOW else _window(value, 0)
    if isinstance(value, bytes):
        return value if len(value) <= _SHOW else value[:_SHOW] + b"..."
    if isinstance(value, (dict, list)):
        text = _DUMPS(value)
        if len(text) <= _SHOW:
            return value
        return _Literal(text[:_SHOW] + f"… ({len(text)} chars)")
    return value


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$@#-]+")


def _join(path: str, key: str) -> str:
    """``messages`` + ``content`` → ``messages.content``; odd keys are quoted: ``a["x.y"]``."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _walk_diff(path: str, a: Any, b: Any) -> Iterator[Difference]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            sub = _join(path, key)
            if key not in a:
                yield Difference(sub, MISSING, _shorten(b[key]))
            elif key not in b:
                yield Difference(sub, _shorten(a[key]), MISSING)
            else:
                yield from _walk_diff(sub, a[key], b[key])
        return
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                yield Difference(sub, MISSING, _shorten(b[i]))
            elif i >= len(b):
                yield Difference(sub, _shorten(a[i]), MISSING)
            else:
                yield from _walk_diff(sub, a[i], b[i])
        return
    if a != b or type(a) is not type(b):
        ra, rb = _shorten_pair(a, b)
        yield Difference(path or "<body>", ra, rb)


def diff(recorded: Canonical, live: Canonical, limit: int = 20) -> list[Difference]:
    """Where ``live`` differs from ``recorded``, as at most ``limit`` short differences.

    Paths are JSON paths (``messages[2].content``, ``tools[0].function.name``); multipart
    fields read ``file.content``, ``file.filename``; a body of another kind, or of raw bytes,
    is one difference at ``<body>`` shown around the first differing byte.  Compares the
    canonical values, so key order, ids and float jitter never show up as noise.
    """
    if recorded.key == live.key or limit <= 0:
        return []
    if recorded.kind != live.kind:
        return [
            Difference(
                "<body>",
                _Literal(f"<{recorded.kind} body> {_show(_shorten(recorded.value))}"),
                _Literal(f"<{live.kind} body> {_show(_shorten(live.value))}"),
            )
        ]
    if recorded.kind == "bytes":
        a, b = recorded.value, live.value
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        begin = max(0, at - 40)
        return [
            Difference(
                f"<body>@{at}",
                _shorten(a[begin : begin + _SHOW] + (b"..." if len(a) > begin + _SHOW else b"")),
                _shorten(b[begin : begin + _SHOW] + (b"..." if len(b) > begin + _SHOW else b"")),
            )
        ]
    out: list[Difference] = []
    for difference in _walk_diff("", recorded.value, live.value):
        out.append(difference)
        if len(out) >= limit:
            break
    return out


def _show(value: Any) -> str:
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, (dict, list, bool)) or value is None:
        return _DUMPS(value)
    return repr(value)


def format_diff(diffs: list[Difference]) -> str:
    """One readable line per difference: ``  path: recorded X | live Y``."""
    if not diffs:
        return "  (no differences)"
    return "\n".join(
        f"  {d.path}: recorded {_show(d.recorded)} | live {_show(d.live)}" for d in diffs
    )
