"""YAML dialect of cassettes: safe to load, deterministic and reviewable to dump."""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml makes both directions several times faster
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: Strings longer than this (or with a newline) are written as block scalars.
BLOCK_THRESHOLD = 80


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
    """Block scalars for long text, insertion order kept, nothing Python-specific."""


def _represent_str(dumper: Dumper, value: str) -> yaml.Node:
    # PyYAML falls back to a quoted style by itself when a block scalar cannot
    # hold the string exactly (trailing spaces, control characters).
    if "\n" in value or len(value) > BLOCK_THRESHOLD:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(str, _represent_str)


def load(text: str) -> Any:
    return yaml.load(text, Loader=Loader)


def dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,  # never fold a line: diffs stay one line per change
        default_flow_style=False,
    )
