"""One body normalized: ids replaced by placeholders numbered per body, floats rounded,
defaults and ignored paths dropped, keys sorted.
"""

from __future__ import annotations

from typing import Any

from ._ids import is_iso_time, looks_like_time, string_template
from ._options import CompiledOptions
from ._paths import PathNode, next_nodes

__all__ = ["BodyNormalizer"]


class BodyNormalizer:
    """Walks one body; owns that body's id → placeholder table.

    Placeholders are numbered per kind by first appearance in a deterministic walk (object
    keys sorted), so the same id is the same placeholder everywhere in the body and two
    different ids stay different: a body whose tool results refer to calls [A, B] never
    matches one whose results refer to [B, A].

    The fast path (no ignore/id paths) rewrites the freshly parsed body IN PLACE: the body
    was parsed by us, so nobody else sees it, and copying every dict would double the cost.
    """

    __slots__ = (
        "counters",
        "drop_none",
        "ids",
        "min_len",
        "places",
        "plan",
        "templates",
        "times",
        "volatile",
    )

    def __init__(self, plan: CompiledOptions) -> None:
        self.plan = plan
        self.templates = plan.templates
        self.min_len = plan.min_len
        self.places = plan.places
        self.times = plan.times
        self.volatile = plan.volatile
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
            template = string_template(self.plan, s)
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

    def is_volatile(self, key: str, holder: dict[str, Any]) -> bool:
        """Whether ``holder[key]`` is a field a provider declares volatile."""
        tests = self.volatile.get(key) if self.volatile is not None else None
        return tests is not None and any(test(holder) for test in tests)

    def scalar_id(self, value: Any) -> Any:
        """A value at a user ``id_paths`` path, or in a provider's volatile field: the
        whole value is the id."""
        if value is None or isinstance(value, (bool, dict, list)):
            return self.normalize(value, ())
        return self.placeholder("id", value)

    def normalize(self, value: Any, states: tuple[PathNode, ...]) -> Any:
        """Canonical form of any JSON value (``type() is`` checks: json.loads makes no
        subclasses, and this runs for every node of every body)."""
        t = type(value)
        if t is str:
            return self.string(value) if len(value) >= self.min_len else value
        if t is dict:
            return self.object_with_paths(value, states) if states else self.object_in_place(value)
        if t is list:
            if states:
                return self.list_with_paths(value, states)
            normalize = self.normalize
            for i, item in enumerate(value):
                new = normalize(item, ())
                if new is not item:
                    value[i] = new
            return value
        if t is float:
            return self.number(value)
        return value  # int, bool, None

    def object_in_place(self, value: dict[str, Any]) -> dict[str, Any]:
        """The common case, no ignore/id paths: :meth:`obj` inlined, rewriting in place."""
        times = self.times
        drop_none = self.drop_none
        min_len = self.min_len
        volatile = self.volatile
        for key in sorted(value):
            item = value[key]
            if volatile is not None and key in volatile and self.is_volatile(key, value):
                value[key] = self.scalar_id(item)
                continue
            t = type(item)
            if t is str:
                if (
                    times is not None
                    and (key in times or key.endswith("_at"))
                    and is_iso_time(item)
                ):
                    value[key] = self.placeholder("time", item)
                elif len(item) >= min_len:
                    new = self.string(item)
                    if new is not item:
                        value[key] = new
            elif t is dict:
                self.object_in_place(item)
            elif t is list:
                self.normalize(item, ())
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

    def object_with_paths(
        self, value: dict[str, Any], states: tuple[PathNode, ...]
    ) -> dict[str, Any]:
        """An object while ignore/id paths are live: follow the path trie key by key."""
        out: dict[str, Any] = {}
        for key in sorted(value):
            item = value[key]
            if item is None and self.drop_none:
                continue
            sub = next_nodes(states, key)
            if sub:
                if any(n.drop for n in sub):
                    continue
                if any(n.ident for n in sub):
                    out[key] = self.scalar_id(item)
                    continue
            if self.volatile is not None and self.is_volatile(key, value):
                out[key] = self.scalar_id(item)
                continue
            if (
                self.times is not None
                and (key in self.times or key.endswith("_at"))
                and looks_like_time(item)
            ):
                out[key] = self.placeholder("time", item)
                continue
            out[key] = self.normalize(item, sub)
        return out

    def list_with_paths(self, value: list[Any], states: tuple[PathNode, ...]) -> list[Any]:
        out = []
        for i, item in enumerate(value):
            sub = next_nodes(states, i)
            if sub:
                if any(n.drop for n in sub):
                    continue
                if any(n.ident for n in sub):
                    out.append(self.scalar_id(item))
                    continue
            out.append(self.normalize(item, sub))
        return out
