"""Package attributes imported on first use (PEP 562).

The pytest plugin is loaded before pytest-recording registers ``vcr.matchers``
for assertion rewriting, so nothing the plugin imports at load may import
vcrpy: the packages it goes through (``llm_cassettes``, ``recording``) name
their vcrpy-backed attributes here and import them when first asked.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name imported from its module in
    ``where`` (relative to ``package``) when first asked for."""

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name], package), name)
            # Kept on the package: the next lookup (a hook runs per test) is a plain one.
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
