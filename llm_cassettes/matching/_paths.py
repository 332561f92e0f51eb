"""JSON paths (``metadata.run_id``, ``messages[*].name``) as a trie walked alongside a body.

``ignore_json_paths`` and ``id_json_paths`` name places in a body; the
normalizer follows the trie key by key, so the paths cost nothing where the
body does not go.
"""

from __future__ import annotations

import re

__all__ = ["PathNode", "add_path", "next_nodes", "parse_path"]

_PATH_TOKEN = re.compile(r"\[(\*|[0-9]+)\]|([^.\[\]]+)|(\.)")


class PathNode:
    """One step of the ignore/id path trie.  ``drop``/``ident`` mark a complete path."""

    __slots__ = ("any", "any_item", "drop", "ident", "items", "keys")

    def __init__(self) -> None:
        self.keys: dict[str, PathNode] = {}  # "name"
        self.items: dict[int, PathNode] = {}  # "[3]"
        self.any_item: PathNode | None = None  # "[*]": any list item
        self.any: PathNode | None = None  # "*": any key or list item
        self.drop = False
        self.ident = False


def parse_path(path: str) -> list[tuple[str, str | int]]:
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


def add_path(root: PathNode, path: str, *, drop: bool) -> None:
    node = root
    for kind, step in parse_path(path):
        if kind == "key":
            node = node.keys.setdefault(str(step), PathNode())
        elif kind == "item" and step != "*":
            node = node.items.setdefault(int(step), PathNode())
        elif kind == "item":
            node.any_item = node.any_item or PathNode()
            node = node.any_item
        else:
            node.any = node.any or PathNode()
            node = node.any
    if drop:
        node.drop = True
    else:
        node.ident = True


def next_nodes(states: tuple[PathNode, ...], step: str | int) -> tuple[PathNode, ...]:
    """The trie nodes reached from ``states`` by an object key (``str``) or a list index."""
    is_index = type(step) is int
    out: list[PathNode] = []
    for node in states:
        child = (node.items if is_index else node.keys).get(step)  # type: ignore[call-overload]
        if child is not None:
            out.append(child)
        if is_index and node.any_item is not None:
            out.append(node.any_item)
        if node.any is not None:
            out.append(node.any)
    return tuple(out)
