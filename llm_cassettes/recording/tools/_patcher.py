"""The ``llm_tools`` fixture: record callables the test does not own as tools.

``llm_tools.patch("package.module.function")`` or ``llm_tools.patch(obj,
"attribute")`` replaces the callable, where the code under test looks it up (as
``unittest.mock.patch`` does), with a recorded tool; the fixture undoes every
patch after the test.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from ._decorator import tool
from ._encoding import type_label

__all__ = ["ToolPatcher"]


class ToolPatcher:
    """What the ``llm_tools`` fixture gives a test: record callables it does not own.

    ``patch("package.module.function")`` or ``patch(obj, "attribute")`` replaces
    the callable with a recorded tool, where the code under test looks it up (as
    with ``unittest.mock.patch``); :meth:`undo` (run after the test) puts it back.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any, bool]] = []

    def patch(
        self,
        target: str | object,
        attribute: str | None = None,
        *,
        name: str | None = None,
        types: Iterable[type] = (),
        ignore: Iterable[str] = (),
    ) -> Callable[..., Any]:
        """Make ``target`` (dotted path) or ``target.attribute`` a recorded tool; returns it.

        The tool name defaults to the attribute's name.
        """
        owner, attribute = _resolve_target(target, attribute)
        try:
            static = inspect.getattr_static(owner, attribute)
        except AttributeError:
            raise AttributeError(
                f"llm_tools.patch: {_describe(owner)} has no attribute {attribute!r}"
            ) from None
        options: dict[str, Any] = {"name": name or attribute, "types": types, "ignore": ignore}
        replacement: Any
        if isinstance(owner, type) and isinstance(static, (staticmethod, classmethod)):
            replacement = type(static)(tool(**options)(static.__func__))
        else:
            original = getattr(owner, attribute)
            if not callable(original):
                raise TypeError(
                    f"llm_tools.patch: {_describe(owner)}.{attribute} is not callable "
                    f"(it is a {type_label(original)})"
                )
            replacement = tool(**options)(original)
        own = _has_own(owner, attribute)
        self._undo.append((owner, attribute, static if own else None, own))
        setattr(owner, attribute, replacement)
        return getattr(owner, attribute)  # type: ignore[no-any-return]

    def undo(self) -> None:
        """Put every patched callable back, last first."""
        while self._undo:
            owner, attribute, original, own = self._undo.pop()
            if own:
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)


def _resolve_target(target: str | object, attribute: str | None) -> tuple[Any, str]:
    if not isinstance(target, str):
        if not attribute:
            raise TypeError(
                "llm_tools.patch(obj, 'attribute'): name the attribute to patch on "
                f"{_describe(target)}"
            )
        return target, attribute
    if attribute is not None:
        return importlib.import_module(target), attribute
    parts = target.split(".")
    if len(parts) < 2:
        raise ValueError(f"llm_tools.patch({target!r}): expected 'package.module.function'")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            owner: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # not a module: try a shorter prefix
            raise
        for part in parts[cut:-1]:
            if not hasattr(owner, part):
                raise AttributeError(f"llm_tools.patch({target!r}): {module_name} has no {part!r}")
            owner = getattr(owner, part)
        return owner, parts[-1]
    raise ModuleNotFoundError(f"llm_tools.patch({target!r}): no importable module in this path")


def _has_own(owner: Any, attribute: str) -> bool:
    try:
        return attribute in vars(owner)
    except TypeError:  # no __dict__ (slots): setattr will tell
        return True


def _describe(obj: Any) -> str:
    return getattr(obj, "__name__", None) or repr(obj)
