"""Tool values as cassette data: arguments as plain JSON, outcomes typed, and back.

Arguments are stored as what a reader expects and matching needs: plain JSON
(a model as its fields, an enum as its value). Results and raised exceptions
are stored so that replay gives the same type back: JSON as it is; pydantic
models, dataclasses and enums as typed payloads; tuples, bytes and dicts with
keys that are not strings under the builtin tags of the tool record format.
A cassette never makes us import an arbitrary name: a ``__type__`` is only
resolved from the type allowlist, the module that defines the tool, and the
classes (and their modules) passed as ``types=``.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..._errors import ToolRecordError, ToolReplayError
from ...format import BYTES_TAG, DATA_KEY, DICT_TAG, ERROR, TUPLE_TAG, TYPE_KEY, typed
from ...providers import TYPE_ALLOWLIST, import_installed, is_allowed_type, type_name

__all__ = ["ToolValues", "type_label"]


class ToolValues:
    """How one tool's values become cassette data and back.

    ``name`` is the tool's, for error messages; ``types`` are the result classes
    defined outside ``module`` (the tool's own) that replay may rebuild.
    """

    def __init__(self, name: str, types: Iterable[type], module: str | None) -> None:
        self.name = name
        self.types: dict[str, type] = {}
        for cls in types:
            if not isinstance(cls, type):
                raise TypeError(f"tool {self.name!r}: types= takes classes, not {cls!r}")
            self.types[type_name(cls)] = cls
        self.modules = {m for m in [module, *(c.__module__ for c in self.types.values())] if m}

    def plain(self, value: Any, where: str) -> Any:
        """An argument as plain JSON: what a reader expects to see, and what matching needs."""
        if value is None or isinstance(value, (bool, int, float, str)) and not _is_enum(value):
            return value
        if isinstance(value, enum.Enum):
            return self.plain(value.value, where)
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if not isinstance(key, (str, int)):
                    raise self._record_error(f"argument {where!r}", f"has a {type_label(key)} key")
                out[str(key)] = self.plain(item, f"{where}.{key}")
            return out
        if isinstance(value, (list, tuple)):
            return [self.plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            items = [self.plain(item, f"{where}[*]") for item in value]
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        if _is_model(value):
            return self._dump_model(value, f"argument {where!r}")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: self.plain(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
            }
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return base64.b64encode(value).decode("ascii")
        if hasattr(value, "isoformat"):  # datetime, date, time
            return value.isoformat()
        if type(value).__name__ in ("UUID", "Decimal") or hasattr(value, "__fspath__"):
            return str(value)
        raise self._record_error(
            f"argument {where!r}",
            f"is a {type_label(value)}, which has no JSON form; "
            f"pass ignore=[{where.split('.')[0]!r}]"
            " to leave it out of the cassette",
        )

    def encode(self, value: Any, where: str) -> Any:
        """A result as YAML-ready data that :meth:`decode` turns back into the same type."""
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, enum.Enum):
            return typed(type_name(type(value)), self.encode(value.value, where))
        for base in (bool, int, float, str):  # a subclass: stored as its JSON base type
            if isinstance(value, base):
                return base(value)
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return typed(
                TUPLE_TAG, [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
            )
        if isinstance(value, dict):
            if TYPE_KEY not in value and all(isinstance(key, str) for key in value):
                return {key: self.encode(item, f"{where}.{key}") for key, item in value.items()}
            return typed(
                DICT_TAG,
                [
                    [self.encode(key, f"{where}.<key>"), self.encode(item, f"{where}.{key}")]
                    for key, item in value.items()
                ],
            )
        if isinstance(value, bytes):
            return typed(BYTES_TAG, base64.b64encode(value).decode("ascii"))
        if _is_model(value):
            return typed(type_name(type(value)), self._dump_model(value, where))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            data = {
                f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
                if f.init
            }
            return typed(type_name(type(value)), data)
        raise self._record_error(
            where,
            f"is a {type_label(value)}; a tool result must be JSON values, pydantic models, "
            "dataclasses, enums, tuples or bytes",
        )

    def _dump_model(self, model: Any, where: str) -> Any:
        try:
            return model.model_dump(mode="json", by_alias=True, round_trip=True)
        except Exception as exc:  # pydantic's PydanticSerializationError
            for field in type(model).model_fields:
                try:
                    model.model_dump(mode="json", include={field}, round_trip=True)
                except (ValueError, TypeError):  # PydanticSerializationError is a ValueError
                    where = f"{where}.{field}"
                    break
            raise self._record_error(where, f"cannot be serialized ({exc})") from exc

    def encode_error(self, exc: BaseException) -> dict[str, Any]:
        stored: dict[str, Any] = {TYPE_KEY: type_name(type(exc)), "message": str(exc)}
        args = list(exc.args)
        if args != [str(exc)] and _is_json(args):
            stored["args"] = args  # rebuilt with these, so str() gives the same message
        return stored

    def _record_error(self, where: str, problem: str) -> ToolRecordError:
        return ToolRecordError(f"tool {self.name!r}: cannot record {where}: it {problem}")

    def decode(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self.decode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if TYPE_KEY not in value:
            return {key: self.decode(item, f"{where}.{key}") for key, item in value.items()}
        name, data = value[TYPE_KEY], value.get(DATA_KEY)
        if name == TUPLE_TAG:
            return tuple(self.decode(data, where))
        if name == BYTES_TAG:
            return base64.b64decode(data)
        if name == DICT_TAG:
            return {self.decode(k, where): self.decode(v, f"{where}.{k}") for k, v in data}
        cls = self.resolve(name, where)
        try:
            if _is_model_class(cls):
                return cls.model_validate(data)  # type: ignore[attr-defined]
            if issubclass(cls, enum.Enum):
                return cls(self.decode(data, where))
            fields = {k: self.decode(v, f"{where}.{k}") for k, v in data.items()}
            return cls(**fields)
        except Exception as exc:
            raise ToolReplayError(
                f"tool {self.name!r}: {where}: the recorded {name} no longer builds ({exc}); "
                "re-record the test"
            ) from exc

    def resolve(self, name: Any, where: str, *, exception: bool = False) -> type:
        """The class a stored ``__type__`` names, imported only from allowed modules."""
        cls = self._lookup(name, exception)
        if cls is None:
            allowed = ", ".join([*sorted(self.modules), *TYPE_ALLOWLIST])
            raise ToolReplayError(
                f"tool {self.name!r}: {where}: __type__ {name!r} may not be imported from a "
                f"cassette (allowed: {allowed}); pass the class in types=[...]",
                type_name=name if isinstance(name, str) else None,
            )
        return cls

    def _lookup(self, name: Any, exception: bool) -> type | None:
        if not isinstance(name, str):
            return None
        wanted = _is_exception_class if exception else _is_value_class
        if name in self.types:
            cls = self.types[name]
            return cls if wanted(cls) else None
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            allowed = module_name in self.modules or is_allowed_type(name)
            if exception and module_name == "builtins":
                allowed = True
            if not allowed:
                continue
            try:
                if module_name in self.modules or module_name == "builtins":
                    found: Any = importlib.import_module(module_name)
                else:  # named only by the cassette: from an installed distribution only
                    found = import_installed(module_name)
            except ImportError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute, None)
            if isinstance(found, type) and wanted(found):
                return found
        return None

    def rebuild_error(self, stored: Any) -> BaseException:
        if not isinstance(stored, Mapping):
            return ToolReplayError(f"tool {self.name!r}: {ERROR} should be a mapping")
        name, message = stored.get(TYPE_KEY), str(stored.get("message", ""))
        try:
            cls = self.resolve(name, ERROR, exception=True)
            args = stored.get("args")
            exc = cls(*args) if isinstance(args, list) else cls(message)
        except Exception:  # noqa: BLE001 - any constructor may refuse: fall back, never crash
            return ToolReplayError(
                f"tool {self.name!r} raised {name}: {message} (replayed; that exception type "
                "cannot be rebuilt here, pass it in types=[...] to get it back)",
                type_name=name if isinstance(name, str) else None,
                message=message,
            )
        if hasattr(exc, "add_note"):
            exc.add_note(f"(replayed from the cassette: tool {self.name!r})")
        return exc  # type: ignore[no-any-return]


def type_label(value: Any) -> str:
    """A value's type as a message names it (``socket``, ``my_app.Client``)."""
    return type_name(type(value)).removeprefix("builtins.")


def _is_enum(value: Any) -> bool:
    return isinstance(value, enum.Enum)


def _is_model(value: Any) -> bool:
    return _is_model_class(type(value))


def _is_model_class(cls: type) -> bool:
    # Checked without importing pydantic when no pydantic class is involved.
    return any(
        base.__module__.startswith("pydantic") and base.__name__ == "BaseModel"
        for base in cls.__mro__
    )


def _is_value_class(cls: type) -> bool:
    return _is_model_class(cls) or dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)


def _is_exception_class(cls: type) -> bool:
    return issubclass(cls, Exception)


def _is_json(value: Any) -> bool:
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False
