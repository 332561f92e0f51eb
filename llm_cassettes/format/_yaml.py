"""YAML dialect of cassettes: safe to load, deterministic and reviewable to dump.

Cassettes are data this library writes, and it never writes anchors or
aliases, nests deeper than :data:`MAX_DEPTH` or writes files larger than
:data:`MAX_BYTES`. A file that does is refused by :func:`load` before any of
it is built: a 909-byte "billion laughs" file expands to gigabytes once
something walks it, and a deeply nested one exhausts the stack of whatever
recursive code reads it next (JSON encoders, diffing, scrubbing).

The checks cost about 5% of a load: the parse and the node graph stay in
libyaml (``CSafeLoader``), a regex pre-screen tells the common anchor-free
file in one pass, and only the container nodes of the graph are walked for
depth.

With the ``fast`` extra installed, :func:`load` reads most cassettes with
`ryaml <https://pypi.org/project/ryaml/>`_ (Rust) instead, about ten times
faster, and gives exactly the data ``CSafeLoader`` gives. ryaml speaks YAML 1.2
and PyYAML YAML 1.1: the two differ only in how they resolve plain (unquoted)
scalars (``1e3``, ``yes``, ``012``, ``2026-10-18``, ``1_000``, ``<<`` ...) and in
tags, which ryaml ignores. A text in which any plain scalar *could* resolve to
something other than a string under any YAML schema, other than the canonical
forms both read alike (``12``, ``-1.5``, ``1.0e-05``, ``true``, ``false``,
``null``), or which has a tag, a directive or a document marker, is read by
``CSafeLoader`` (:func:`_needs_libyaml`); so is every text ryaml refuses
(invalid YAML, duplicate keys, integers beyond 64 bits, nesting deeper than its
limit of 128), so errors, and the depth check, stay libyaml's.
``tests/format/test_fast_yaml.py`` proves the equality on generated cassettes
and on every cassette in the repository.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from yaml.nodes import Node

from .._errors import CassetteFormatError

try:  # libyaml makes both directions several times faster
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

try:  # the ``fast`` extra
    import ryaml as _ryaml
except ImportError:  # pragma: no cover - exercised by the lowest-versions session
    _ryaml = None

__all__ = [
    "BLOCK_THRESHOLD",
    "FAST_LOADER",
    "MAX_BYTES",
    "MAX_DEPTH",
    "Dumper",
    "Loader",
    "dump",
    "load",
]

#: Whether :func:`load` has the fast path (the ``fast`` extra, ryaml, is installed).
FAST_LOADER = _ryaml is not None

#: Strings longer than this (or with a newline) are written as block scalars.
BLOCK_THRESHOLD = 80

#: Deepest nesting of mappings and sequences a cassette may have. What this library
#: writes stays far below: typed JSON bodies and tool results hold at most
#: :data:`llm_cassettes._wire.MAX_JSON_DEPTH` levels (100) under a few levels of cassette.
MAX_DEPTH = 200

#: Largest cassette file read (characters). Recordings of big uploads reach tens of
#: megabytes; a file beyond this is not a recording anyone reviews.
MAX_BYTES = 256 * 1024 * 1024

# An anchor (``&name``) starts a node, so it follows the start of the text, whitespace or
# a flow indicator; every alias needs an anchor. The pattern begins with its literal so
# the scan is a memchr loop; it may match inside text (" &amp;"), which only costs a
# token scan that then finds no anchor.
_MAYBE_ANCHOR = re.compile(r"&(?<![^\s\[{,:\ufeff]&)[^\s\[\]{},]")


# -- when the fast path may be taken ---------------------------------------------------------
# A plain scalar starts at the start of a line (after its indentation), after a mapping's
# ": ", a sequence's "- ", an explicit key's "? ", or inside a flow collection after "[", "{"
# or ",". Each context is its own pattern so that it begins with a literal (the regex engine
# then skips to it at C speed), followed by atomic whitespace (no backtracking into it).
# Contexts also match inside quoted and block scalars: that only sends a few more texts
# to libyaml, never fewer.
_END = r"[ \t]*(?:\Z|[\r\n,\]}#]|:(?:[ \t\r\n]|\Z))"  # where a plain scalar ends
#: Plain scalars both loaders read as the same value: canonical integers that fit 64 bits,
#: decimal floats of ordinary size (exponent with a sign, as PyYAML writes them; ryaml keeps
#: an overflowing ``1.0e+999`` as a string), and the lowercase words.
_SAME = r"(?:-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,20}(?:e[-+][0-9]{1,2})?)?|null|true|false)"
#: Plain scalars PyYAML (YAML 1.1) or ryaml (YAML 1.2 core, and hex, binary, signs) reads
#: as other than a string: a superset of both resolvers (ints in bases 2/8/10/16 and 60,
#: underscores, floats with or without dot or exponent, infinities, NaN, dates and times,
#: booleans as either spells them, null, merge and value keys). Not ``y`` and ``n``: YAML
#: 1.1 lists them as booleans, but neither loader reads them so (OpenAI's ``n`` is a key).
_RESOLVED = (
    r"[-+]?(?:[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9_]+)?"
    r"|[-+]?0[xXoObB][0-9a-fA-F_]+"
    r"|[-+]?\.(?i:inf|nan)"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt \t][-+0-9:.Zz \t]*)?"
    r"|(?i:yes|no|on|off|true|false|null)|~|<<|="
)
_DIFFERENT = (
    r"(?=[-+.0-9yYnNoOtTfF~<=!])(?:(?!" + _SAME + _END + r")(?:" + _RESOLVED + r")" + _END + r"|!)"
)
#: At the start of a line (column 0): a directive or a document marker.
_DOCUMENT = r"|(?<=[\r\n])(?:%|(?:---|\.\.\.)(?:[ \t\r\n]|\Z))"
#: Whitespace taken whole, never given back one character at a time (an atomic group:
#: possessive on Python 3.11+, emulated with a lookahead and its backreference before).
_SPACES, _SPACE = (
    (r"[ \t]*+", r"[ \t]++")
    if sys.version_info >= (3, 11)
    else (r"(?=([ \t]*))\1", r"(?=([ \t]+))\1")
)
_NEEDS_LIBYAML = (
    re.compile(r"\n" + _SPACES + "(?:" + _DIFFERENT + _DOCUMENT + ")"),
    re.compile(r"\r" + _SPACES + "(?:" + _DIFFERENT + _DOCUMENT + ")"),  # "\r" alone ends lines
    re.compile(r"\A(?:%|(?:---|\.\.\.)(?:[ \t\r\n]|\Z)|" + _SPACES + _DIFFERENT + ")"),
) + tuple(
    re.compile(context + _DIFFERENT)
    for context in (
        ":" + _SPACE,
        "-" + _SPACE,
        r"\?" + _SPACE,
        "," + _SPACES,
        r"\[" + _SPACES,
        r"\{" + _SPACES,
    )
)


def _needs_libyaml(text: str) -> bool:
    """Whether ryaml might read ``text`` otherwise than ``CSafeLoader`` (see the docstring)."""
    return any(pattern.search(text) for pattern in _NEEDS_LIBYAML)


class Loader(_Loader):
    """Safe loader that also reads the few harmless Python tags old vcrpy cassettes hold."""


def _python_str(loader: Loader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)  # type: ignore[arg-type,return-value]


def _python_tuple(loader: Loader, node: yaml.Node) -> tuple[Any, ...]:
    return tuple(loader.construct_sequence(node))  # type: ignore[arg-type]


Loader.add_constructor("tag:yaml.org,2002:python/str", _python_str)
Loader.add_constructor("tag:yaml.org,2002:python/unicode", _python_str)
Loader.add_constructor("tag:yaml.org,2002:python/tuple", _python_tuple)


class Dumper(_Dumper):
    """Block scalars for long text, insertion order kept, nothing Python-specific.

    Never anchors and aliases: an object that appears twice (the same headers
    dict shared by two interactions) is written twice, as the loader requires.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Dumper, value: str) -> yaml.Node:
    # PyYAML falls back to a quoted style by itself when a block scalar cannot
    # hold the string exactly (trailing spaces, control characters).
    if "\n" in value or len(value) > BLOCK_THRESHOLD:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(str, _represent_str)


def load(text: str, source: str = "<cassette>") -> Any:
    """The data of a cassette's text; :class:`CassetteFormatError` naming ``source`` and line.

    The one entry point for reading cassette YAML: a faster loader replaces the
    body of this function, not its callers.
    """
    if len(text) > MAX_BYTES:
        raise CassetteFormatError(
            f"{source}: {len(text):,} characters, more than a cassette may have "
            f"({MAX_BYTES:,}); refusing to load it"
        )
    try:
        if _MAYBE_ANCHOR.search(text):
            _refuse_anchors(text, source)
        if _ryaml is not None and not _needs_libyaml(text):
            try:
                return _ryaml.loads(text)
            except Exception:  # noqa: BLE001, S110 - libyaml reads it again, and says what is wrong
                pass
        return _load_libyaml(text, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CassetteFormatError(
            f"{source}{_where(mark)}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from exc


def _load_libyaml(text: str, source: str) -> Any:
    """The data ``CSafeLoader`` reads (with the old Python tags), nesting checked first."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if node.id != "scalar":
            _check_depth(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _where(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _refuse_anchors(text: str, source: str) -> None:
    """Raise at the first anchor or alias, found by libyaml's scanner before anything is built."""
    loader = Loader(text)
    try:
        while loader.check_token():
            token = loader.get_token()
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                what = "an anchor" if isinstance(token, yaml.AnchorToken) else "an alias"
                raise CassetteFormatError(
                    f"{source}{_where(token.start_mark)}: {what} ({token.value!r}): "
                    "cassettes never contain YAML anchors or aliases and are refused "
                    "when they do (expanding them can take gigabytes)"
                )
    finally:
        loader.dispose()


def _check_depth(root: Node, source: str) -> None:
    """Refuse a node graph nested deeper than :data:`MAX_DEPTH` (iteratively: no recursion).

    Nodes are told apart by their ``id`` ("scalar", "sequence", "mapping") rather than
    their class: libyaml builds them from the ``yaml.nodes`` it imported first.
    """
    stack: list[tuple[Node, int]] = [(root, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > MAX_DEPTH:
            raise CassetteFormatError(
                f"{source}{_where(node.start_mark)}: nested more than {MAX_DEPTH} levels "
                "deep; cassettes never are"
            )
        depth += 1
        if node.id == "mapping":
            for key, value in node.value:
                if value.id != "scalar":
                    push((value, depth))
                if key.id != "scalar":
                    push((key, depth))
        else:
            for item in node.value:
                if item.id != "scalar":
                    push((item, depth))


def dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,  # never fold a line: diffs stay one line per change
        default_flow_style=False,
    )
