"""How two request bodies are compared: :class:`CanonicalOptions`, and their compiled form.

Options are frozen and hashable: everything they imply (regexes, the path
trie, the string template cache) is compiled once per options object
(:func:`compile_options`), so building the same options twice costs nothing
and a bad user regex fails at configuration time, not mid-test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ..providers import FieldTest, id_prefixes, timestamp_fields, volatile_fields
from ._ids import TIMESTAMP_FIELDS, TemplateCache, float_pattern, id_regexes
from ._paths import PathNode, add_path

__all__ = ["CanonicalOptions", "CompiledOptions", "compile_options"]


@dataclass(frozen=True)
class CanonicalOptions:
    """How two request bodies are compared.

    Frozen and hashable on purpose: the compiled regexes and path tables derived from an
    options object are cached per instance (see :func:`compile_options`), so building the same
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
            placeholders numbered by first appearance (see :data:`._ids.ID_SUFFIX_RULE`),
            and the request fields the providers declare volatile (Gemini's function-call
            ids, Anthropic's thinking signatures) as if they were in ``id_paths``.
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
        compile_options(self)  # compile now: a bad regex or path should fail at configuration time


@dataclass(frozen=True)
class CompiledOptions:
    """What one :class:`CanonicalOptions` implies, ready for the hot path."""

    # (anchor character, finditer) pairs: built-in ids (if enabled) and floats (see _ids)
    scanners: tuple[tuple[str, Callable[[str], Iterator[re.Match[str]]]], ...]
    user_re: re.Pattern[str] | None  # CanonicalOptions.id_patterns, or None
    min_len: int  # strings shorter than this cannot contain any match: skip the regexes
    places: int
    paths: tuple[PathNode, ...]  # () when no ignore/id paths: the walk's fast path
    builtin_ids: bool
    ignore_defaults: bool
    # object keys whose timestamp values are volatile (None: normalize_ids is off)
    times: frozenset[str] | None
    # the providers' volatile fields: name → tests of the object holding it (or None)
    volatile: Mapping[str, tuple[FieldTest, ...]] | None
    # string -> its template (see string_template); shared by all bodies using these options
    templates: TemplateCache = field(
        default_factory=lambda: TemplateCache(), compare=False, hash=False
    )


def compile_options(options: CanonicalOptions) -> CompiledOptions:
    """Everything an options object implies, compiled once (options are frozen/hashable)."""
    return _compile(options, id_prefixes(), volatile_fields(), timestamp_fields())


@functools.lru_cache(maxsize=64)
def _compile(
    options: CanonicalOptions,
    prefixes: tuple[str, ...],
    provider_fields: tuple[tuple[str, tuple[FieldTest, ...]], ...],
    provider_times: frozenset[str],
) -> CompiledOptions:
    places = options.float_places
    for pattern in options.id_patterns:
        re.compile(pattern)  # validate alone, for a clear error message
    user_re = (
        re.compile("|".join(f"(?:{p})" for p in options.id_patterns))
        if options.id_patterns
        else None
    )
    scanners = [(".", re.compile(float_pattern(places)).finditer)]
    # Shortest possible match: "1." + places+1 digits; "fc_" + 8 chars; "file-" + 6 digits.
    min_len = places + 3
    if options.normalize_ids:
        underscore, dash = id_regexes(prefixes)
        scanners.insert(0, ("_", re.compile(underscore).finditer))
        scanners.insert(1, ("-", re.compile(dash).finditer))
        shortest_id = min((len(prefix) + 9 for prefix in prefixes), default=11)
        min_len = min(min_len, shortest_id, 11)
    if user_re is not None:
        min_len = 1

    root = PathNode()
    for path in options.ignore_paths:
        add_path(root, path, drop=True)
    for path in options.id_paths:
        add_path(root, path, drop=False)
    has_paths = bool(options.ignore_paths or options.id_paths)
    return CompiledOptions(
        scanners=tuple(scanners),
        user_re=user_re,
        min_len=min_len,
        places=places,
        paths=(root,) if has_paths else (),
        builtin_ids=options.normalize_ids,
        ignore_defaults=options.ignore_defaults,
        times=TIMESTAMP_FIELDS | provider_times if options.normalize_ids else None,
        volatile=dict(provider_fields) if options.normalize_ids and provider_fields else None,
    )
