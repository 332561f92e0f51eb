"""A typed payload: ``{__type__: <dotted class name>, __data__: <its data>}``.

The one shape in which a cassette says what a value is: a response body or
stream event the SDK parses into a model, a tool's result, a llama-stack
recording's objects. Readers that want the data only (``show``, ``diff``)
strip the wrappers with :func:`untyped`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DATA_KEY", "TYPE_KEY", "is_typed", "typed", "untyped"]

TYPE_KEY = "__type__"
DATA_KEY = "__data__"


def typed(name: str, data: Any) -> dict[str, Any]:
    """The stored form of ``data`` as an instance of the class ``name``."""
    return {TYPE_KEY: name, DATA_KEY: data}


def is_typed(value: Any) -> bool:
    """Whether ``value`` is a typed payload (a mapping with both keys)."""
    return isinstance(value, Mapping) and TYPE_KEY in value and DATA_KEY in value


def untyped(value: Any) -> Any:
    """``value`` with every typed wrapper replaced by its data (for readers)."""
    if isinstance(value, Mapping):
        if is_typed(value):
            return untyped(value[DATA_KEY])
        return {key: untyped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untyped(item) for item in value]
    return value
