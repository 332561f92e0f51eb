"""Which SDK classes a cassette may name, and importing them safely.

A cassette names classes (``__type__``) and is data a pull request can
change, so the names it may use are limited to the providers' SDK type
modules (:data:`~llm_cassettes.providers.TYPE_ALLOWLIST`), and even those are
imported only from installed distributions: reviewing a checkout's cassettes
never runs the checkout's code.
"""

from __future__ import annotations

import csv
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from types import ModuleType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ._registry import TYPE_ALLOWLIST, UNVALIDATED_TYPES

__all__ = [
    "NotInstalledError",
    "TypeNotAllowedError",
    "concrete_type",
    "import_installed",
    "is_allowed_type",
    "resolve_type",
    "type_name",
]


class TypeNotAllowedError(ValueError):
    """A cassette names a ``__type__`` outside :data:`TYPE_ALLOWLIST` (or not a model)."""


def is_allowed_type(dotted: str) -> bool:
    """Whether a dotted name is inside the allowlist (only then may a cassette import it)."""
    return any(dotted.startswith(prefix) for prefix in TYPE_ALLOWLIST)


class NotInstalledError(ImportError):
    """A module a cassette names is not provided by an installed distribution (a
    directory in the current checkout shadows the SDK, or the SDK is missing)."""


def import_installed(module_name: str) -> ModuleType:
    """Import a module only if an installed distribution provides its package.

    A cassette names modules (``__type__``), and reviewing a pull request's
    cassettes must not run code the pull request adds: a directory called
    ``anthropic/`` in the checkout, found first because ``python -m`` puts the
    current directory on ``sys.path``, is refused (:class:`NotInstalledError`)
    before any of its code runs. Editable installs count as installed.
    """
    top = module_name.partition(".")[0]
    key = (top, os.getcwd(), tuple(sys.path))
    reason = _REFUSALS.get(key, "")
    if reason == "":
        if len(_REFUSALS) > 256:  # sys.path changed many times (in-process pytester runs)
            _REFUSALS.clear()
        reason = _REFUSALS[key] = _refusal(module_name) or None
    if reason:
        raise NotInstalledError(reason, name=module_name)
    return importlib.import_module(module_name)


_REFUSALS: dict[tuple[str, str, tuple[str, ...]], str | None] = {}


def _origin(module_name: str) -> str | None:
    """The file of the first regular package on the way to ``module_name``, found without
    running any of it (namespace packages such as ``google`` are looked through)."""
    parts = module_name.split(".")
    loaded = sys.modules.get(parts[0])
    spec = loaded.__spec__ if loaded is not None else importlib.util.find_spec(parts[0])
    for depth in range(1, len(parts) + 1):
        if spec is None:
            return None
        if spec.origin and spec.has_location:
            return os.path.realpath(spec.origin)
        locations = list(spec.submodule_search_locations or [])
        if depth == len(parts) or not locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), locations)
    return None


def _refusal(module_name: str) -> str | None:
    """Why ``module_name`` must not be imported, or None when a distribution provides it."""
    top = module_name.partition(".")[0]
    try:
        origin = _origin(module_name)
    except (ImportError, ValueError) as exc:
        return f"{top} cannot be found ({exc})"
    if origin is None:
        return f"{top} is not installed"
    cwd = os.getcwd()
    # Metadata found through the current directory proves nothing: a checkout can
    # carry a fake ``*.egg-info`` as easily as a fake package.
    path = [p for p in sys.path if p and os.path.realpath(p) != os.path.realpath(cwd)]
    candidates = list(importlib.metadata.distributions(name=top, path=path))
    if not any(_provides(dist, top, origin) for dist in candidates):
        names = importlib.metadata.packages_distributions().get(top, [])
        candidates = [
            dist
            for name in names
            for dist in importlib.metadata.distributions(name=name, path=path)
        ]
        if not any(_provides(dist, top, origin) for dist in candidates):
            return (
                f"{origin} is not part of an installed distribution (a directory named "
                f"{top!r} here shadows it?); not imported"
            )
    return None


def _provides(dist: importlib.metadata.Distribution, top: str, origin: str) -> bool:
    """Whether ``dist`` installed the file ``origin`` (or, editable, holds it in its tree)."""
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        direct = {}
    if isinstance(direct, dict) and (direct.get("dir_info") or {}).get("editable"):
        url = str(direct.get("url", ""))
        if url.startswith("file://"):
            tree = os.path.realpath(url2pathname(urlsplit(url).path))
            if origin.startswith(tree + os.sep):
                return True
    name = os.path.basename(origin)
    for file in _installed_files(dist, top, name):
        if (
            file.parts
            and file.parts[0] in (top, f"{top}.py")
            and file.name == name
            and os.path.realpath(dist.locate_file(file)) == origin
        ):
            return True
    return False


def _installed_files(
    dist: importlib.metadata.Distribution, top: str, name: str
) -> Iterable[importlib.metadata.PackagePath]:
    """The files ``dist`` lists that could be ``top``'s file called ``name``.

    ``dist.files`` builds a path object for every row of the RECORD (4,000 for the openai
    SDK: 35 ms, paid on the first cassette of every run); only rows under ``top`` that
    mention ``name`` can match, so only those are built, as ``files`` builds them.
    """
    record = dist.read_text("RECORD")
    if record is None:  # an egg-info install: the list comes from elsewhere
        return dist.files or ()
    prefixes = (f"{top}/", f"{top}.py,", '"')  # a quoted row: csv reads it
    rows = csv.reader(
        line for line in record.splitlines() if line.startswith(prefixes) and name in line
    )
    files = []
    for row in rows:
        if row:
            file = importlib.metadata.PackagePath(row[0])
            file.dist = dist
            files.append(file)
    return files


@lru_cache(maxsize=512)
def _import_dotted(dotted: str) -> Any:
    """Import ``pkg.module.Name`` (or a name re-exported by a package), from installed
    distributions only (see :func:`import_installed`)."""
    module_name, _, attr = dotted.rpartition(".")
    module = import_installed(module_name)
    return getattr(module, attr)


def resolve_type(dotted: str) -> type:
    """The pydantic class a stored ``__type__`` names, imported only if allowlisted.

    Raises :class:`TypeNotAllowedError` for a name outside the allowlist or for
    something that is not a pydantic model, and ImportError/AttributeError when
    the installed SDK no longer has it (callers turn that into a drift warning).
    """
    if not isinstance(dotted, str) or not is_allowed_type(dotted):
        raise TypeNotAllowedError(
            f"__type__ {dotted!r} is outside the allowlist ({', '.join(TYPE_ALLOWLIST)})"
        )
    cls = _import_dotted(dotted)
    from pydantic import BaseModel

    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise TypeNotAllowedError(f"__type__ {dotted!r} is not a pydantic model class")
    return cls


def type_name(cls: type) -> str:
    """The dotted name stored in ``__type__`` for a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


_ConcreteTyper = Callable[[Any], "str | None"]


def _accepts(cls: type, value: Any) -> bool:
    """Whether the installed SDK's model accepts the payload: only then is it labelled."""
    if type_name(cls) in UNVALIDATED_TYPES:
        return True
    try:
        cls.model_validate(value)  # type: ignore[attr-defined]
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return False
    return True


def _members(union: Any) -> tuple[list[type], str]:
    """The model classes of a (possibly ``Annotated``, possibly nested) union, and the field
    that tells them apart: the SDKs name it in the annotation (openai's
    ``PropertyInfo(discriminator=...)``, anthropic's ``UnionDiscriminator(...)``), else
    ``type``, the field every provider's events and blocks carry."""
    field = "type"
    if get_origin(union) is Annotated:
        union, *metadata = get_args(union)
        for item in metadata:
            named = getattr(item, "discriminator", None) or getattr(item, "field_name", None)
            if isinstance(named, str):
                field = named
    classes: list[type] = []
    for member in get_args(union) if get_origin(union) in _UNIONS else ():
        if isinstance(member, type) and hasattr(member, "model_fields"):
            classes.append(member)
        elif get_origin(member) in _UNIONS or get_origin(member) is Annotated:
            classes.extend(_members(member)[0])
    return classes, field


_UNIONS = (Union, types.UnionType)


def _union_typer(union: Any) -> _ConcreteTyper | None:
    """The member of a discriminated union the SDK builds for a payload, found by the
    discriminator's ``Literal`` values (public typing introspection, no SDK internals)."""
    classes, field = _members(union)
    if not classes:
        return None
    by_value: dict[Any, list[type]] = {}
    for cls in classes:
        info = cls.model_fields.get(field)  # type: ignore[attr-defined]
        annotation = getattr(info, "annotation", None)
        if get_origin(annotation) is Literal:
            for literal in get_args(annotation):
                by_value.setdefault(literal, []).append(cls)

    def concrete(value: Any) -> str | None:
        candidates = by_value.get(value.get(field), classes)
        for cls in candidates:
            if _accepts(cls, value):
                return type_name(cls)
        return None

    return concrete


@lru_cache(maxsize=256)
def _concrete_typer(dotted: str) -> _ConcreteTyper | None:
    """A function giving the concrete class name for a value of type ``dotted``.

    A discriminated union (the Responses or Messages stream events) resolves to
    the member the SDK itself would build, so the stored ``__type__`` is the
    concrete class. A payload the model does not accept (an error body, another
    provider's shape) gets no type rather than a wrong one.
    """
    try:
        target = _import_dotted(dotted)
    except (ImportError, AttributeError):
        return None
    if isinstance(target, type):
        name = type_name(target)
        return lambda value: name if _accepts(target, value) else None
    return _union_typer(target)


def concrete_type(dotted: str | Sequence[str] | None, value: Any) -> str | None:
    """The ``__type__`` to store for ``value`` parsed as ``dotted`` (or as the first of
    several types that accepts it), if any."""
    if not dotted or not isinstance(value, dict):
        return None
    for name in (dotted,) if isinstance(dotted, str) else dotted:
        typer = _concrete_typer(name)
        if typer is None:
            continue
        try:
            found = typer(value)
        except (ValueError, TypeError, KeyError, AttributeError):  # the SDK cannot build it
            found = None
        if found:
            return found
    return None
