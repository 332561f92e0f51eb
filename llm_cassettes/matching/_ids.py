"""Volatile ids, floats and timestamps inside strings: the scanner.

Every string of every body goes through here (``call_…``, ``file-…``, UUIDs,
floats with jittering last digits, timestamps in known fields), so it is built
for speed: a string's normalized *template* is computed once per options and
cached; only the numbering of placeholders is per body
(:class:`~._normalize.BodyNormalizer`). The id prefixes are the providers'
(:func:`llm_cassettes.providers.id_prefixes`); the suffix rule is this module's.
"""

from __future__ import annotations

import operator
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._options import CompiledOptions

__all__ = [
    "ID_SUFFIX_RULE",
    "TIMESTAMP_FIELDS",
    "StringTemplate",
    "TemplateCache",
    "float_pattern",
    "id_regexes",
    "is_iso_time",
    "is_timestamp_key",
    "looks_like_time",
    "string_template",
]

ID_SUFFIX_RULE = """\
An id is PREFIX + ('_' or '-') + SUFFIX, word-bounded: no [A-Za-z0-9_-] right before or after.
PREFIX is one the providers declare (``call``, ``resp``, ``toolu`` ...).
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
# leftwards over the id prefix / UUID head / integer digits (see BodyNormalizer.string).
_ID = "A-Za-z0-9_-"
_HEX = "[0-9a-fA-F]"


def _prefix_lookbehinds(prefixes: tuple[str, ...], sep: str) -> str:
    """``(?<=(?<![ID])(?:call|resp|file|asst)_)|…`` — one fixed-width look-behind per length."""
    by_len: dict[int, list[str]] = {}
    for prefix in prefixes:
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


def id_regexes(prefixes: tuple[str, ...]) -> tuple[str, str]:
    """The two id regexes for these prefixes: anchored on '_' and on '-'.

    Group ``i`` is an id's suffix (the caller walks back over the [a-z] prefix);
    group ``u`` (in the '-' one) a UUID anchored on its first '-' (8 hex digits back).
    """
    underscore = (
        rf"_{_SUFFIX_GATE}(?<=[a-z]_)(?:{_prefix_lookbehinds(prefixes, '_')})(?P<i>{_ID_SUFFIX})"
    )
    dash = (
        rf"-(?:{_SUFFIX_GATE}(?<=[a-z]-)(?:{_prefix_lookbehinds(prefixes, '-')})(?P<i>{_ID_SUFFIX})"
        rf"|(?<=(?<![A-Za-z0-9]){_HEX}{{8}}-)"
        rf"(?P<u>{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})(?![A-Za-z0-9]))"
    )
    return underscore, dash


def float_pattern(places: int) -> str:
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


is_iso_time = _ISO_TIME.fullmatch


def is_timestamp_key(key: str) -> bool:
    return key in TIMESTAMP_FIELDS or key.endswith("_at")


def looks_like_time(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 1e9 <= value < 1e10 or 1e12 <= value < 1e13
    if isinstance(value, str):
        return _ISO_TIME.fullmatch(value) is not None
    return False


# A string's normalized form, independent of any body: either the final string (no ids in
# it, floats already rounded), or a tuple of literal pieces and (kind, raw id) pairs that a
# body turns into placeholders with its own numbering.
StringTemplate = str | tuple[str | tuple[str, str], ...]
_TEMPLATE_MAX_LEN = 16384  # longer strings are scanned every time rather than cached
_TEMPLATE_MAX_CHARS = 4_000_000  # cache budget (characters of cached strings) per options


class TemplateCache(dict):  # type: ignore[type-arg]
    """The per-options string → template cache, bounded by the characters it holds.

    Cleared wholesale when full: simpler and cheaper than LRU bookkeeping on the hot path,
    and a test session's strings are few enough that it rarely happens.
    """

    __slots__ = ("chars",)

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def remember(self, s: str, template: StringTemplate) -> None:
        if len(s) > _TEMPLATE_MAX_LEN:
            return
        if self.chars + len(s) > _TEMPLATE_MAX_CHARS:
            self.clear()
            self.chars = 0
        self[s] = template
        self.chars += len(s)


def scan_string(plan: CompiledOptions, s: str, pieces: list[str | tuple[str, str]]) -> bool:
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


def string_template(plan: CompiledOptions, s: str) -> StringTemplate:
    """Parse one string into its body-independent :data:`StringTemplate`."""
    pieces: list[str | tuple[str, str]] = []
    if plan.user_re is None:
        has_ids = scan_string(plan, s, pieces)
    else:
        has_ids = False
        last = 0
        for m in plan.user_re.finditer(s):
            if m.end() == m.start():
                continue  # an empty match replaces nothing
            has_ids |= scan_string(plan, s[last : m.start()], pieces)
            pieces.append(("id", m.group()))
            has_ids = True
            last = m.end()
        has_ids |= scan_string(plan, s[last:], pieces)
    if not has_ids:
        return pieces[0] if len(pieces) == 1 else "".join(pieces)  # type: ignore[arg-type]
    return tuple(pieces)
