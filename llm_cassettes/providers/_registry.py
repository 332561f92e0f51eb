"""The providers this library knows, and the knowledge the other parts ask of them.

A provider module (``openai.py``, ``anthropic.py`` ...) declares one
:class:`Provider`; :func:`register_provider` adds it here. The rest of the
package asks this registry, never a provider module: the serializer which SDK
type parses an endpoint (:func:`find_endpoint`), the loader which type modules
a cassette may name (:data:`TYPE_ALLOWLIST`), matching which ids are volatile
(:func:`id_prefixes`), scrubbing which headers are secret or noise, provenance
which SDK sent a request, and the review commands how to read a request and
its response as a conversation (:func:`conversation_reader`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ._conversation import ConversationReader

__all__ = [
    "TYPE_ALLOWLIST",
    "UNVALIDATED_TYPES",
    "Endpoint",
    "EndpointTypes",
    "FieldTest",
    "Provider",
    "conversation_reader",
    "find_endpoint",
    "id_prefixes",
    "is_model_state",
    "model_in_path",
    "register_endpoint",
    "register_provider",
    "registered_providers",
    "sdk_of_agent",
    "secret_headers",
    "secret_query_params",
    "timestamp_fields",
    "volatile_fields",
    "volatile_header_prefixes",
    "volatile_headers",
]


#: A dotted SDK type name, or several tried in order (the first that accepts a payload).
TypeNames = str | tuple[str, ...] | None
#: Whether a field is the kind a provider declares, given the JSON object holding it.
FieldTest = Callable[[Mapping[str, Any]], bool]


class EndpointTypes(NamedTuple):
    """One endpoint as a provider declares it: the dotted names of the SDK types that
    parse its JSON body, one stream event, and each item of a list page's ``data``.

    Each may name several types, tried in order: a stream whose ``error`` event is not
    a member of the event union (Anthropic's), a path two providers share (``models``).
    """

    method: str
    path: str  # a regex, searched at the end of the URL path (see register_endpoint)
    body: TypeNames = None
    event: TypeNames = None
    items: TypeNames = None


@dataclass(frozen=True)
class Endpoint:
    """How one endpoint's bodies are typed: every registered row that matches it, merged.

    ``body`` and ``event`` are dotted names of the SDK types (classes or
    discriminated unions) that may parse a JSON body and one stream event, in
    the order they are tried (the latest registered row first); ``items`` name
    the types of each element of a list page's ``data``.
    """

    method: str
    path: re.Pattern[str]
    body: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provider:
    """Everything this library knows about one model API, declared in the provider's module."""

    name: str
    #: module prefixes of its SDK's types (``openai.types.``): a cassette's ``__type__``
    #: may only name classes under these, and each is imported only if installed
    type_modules: tuple[str, ...] = ()
    #: its endpoints and the SDK types of their bodies and stream events
    endpoints: tuple[EndpointTypes, ...] = ()
    #: types whose wire form the SDK post-processes before building the model, so
    #: validating the stored payload would cry wolf (base64 embeddings)
    unvalidated_types: frozenset[str] = frozenset()
    #: prefixes of the ids its API or SDK generates per call (``call_``, ``resp_``):
    #: replaced by placeholders when matching (the suffix rule is matching's)
    id_prefixes: tuple[str, ...] = ()
    #: request fields whose whole value changes on every recording, whatever it looks
    #: like: field name → whether it is one in the object that holds it (Gemini's
    #: function-call ``id``, a thinking block's ``signature``). Replaced by placeholders
    #: when matching, so ``diff`` ignores them too.
    volatile_fields: Mapping[str, FieldTest] = field(default_factory=dict)
    #: object keys whose epoch or ISO-8601 value is a timestamp (beyond ``*_at``,
    #: ``created`` ...): replaced by placeholders when matching
    timestamp_fields: frozenset[str] = frozenset()
    #: headers that carry credentials or identify the account, whatever their name says
    secret_headers: frozenset[str] = frozenset()
    #: query parameters that carry credentials, whatever their name says
    secret_query_params: frozenset[str] = frozenset()
    #: fields whose secret-sounding name names model output or state the API needs back,
    #: never a credential: field name (lower case) → whether it is one in the object that
    #: holds it (an Anthropic thinking block's ``signature``, a logprobs entry's ``token``)
    model_state_fields: Mapping[str, FieldTest] = field(default_factory=dict)
    #: headers that change on every call and tell a reviewer nothing (names, prefixes)
    volatile_headers: frozenset[str] = frozenset()
    volatile_header_prefixes: tuple[str, ...] = ()
    #: ``User-Agent`` products of its SDKs (``OpenAI/Python``) → the distribution
    #: provenance names (``openai``)
    sdk_agents: Mapping[str, str] = field(default_factory=dict)
    #: where the model is named when the request body does not name it: a regex whose
    #: group ``model`` finds it in the URL path (Gemini's ``/models/<model>:generate…``)
    model_in_path: re.Pattern[str] | None = None
    #: how its requests and responses read as a conversation in ``show`` and ``diff``
    reader: ConversationReader | None = None
    #: its reader also reads requests no provider claims: the protocol others speak
    reads_unclaimed: bool = False


_PROVIDERS: list[Provider] = []
_ENDPOINTS: list[Endpoint] = []

#: Module prefixes a cassette's ``__type__`` may name: the registered providers' type
#: modules. Loading a cassette never imports anything else, so a hostile cassette
#: cannot make us import arbitrary code.
TYPE_ALLOWLIST: list[str] = []

#: Types whose stored payload is not validated against the installed SDK (see
#: :attr:`Provider.unvalidated_types`).
UNVALIDATED_TYPES: set[str] = set()


def register_provider(provider: Provider) -> None:
    """Add a provider's knowledge to what every part of the package asks."""
    _PROVIDERS.append(provider)
    TYPE_ALLOWLIST.extend(m for m in provider.type_modules if m not in TYPE_ALLOWLIST)
    UNVALIDATED_TYPES.update(provider.unvalidated_types)
    for row in provider.endpoints:
        register_endpoint(row.method, row.path, body=row.body, event=row.event, items=row.items)
    _aggregate.cache_clear()
    _find_cached.cache_clear()


def registered_providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


def register_endpoint(
    method: str,
    path_regex: str,
    *,
    body: TypeNames = None,
    event: TypeNames = None,
    items: TypeNames = None,
) -> None:
    """Teach the serializer the SDK types of an endpoint.

    ``path_regex`` is searched at the end of the URL path, so one row serves
    ``/v1/chat/completions``, proxies and Azure deployments alike. Each type may be a
    dotted name or a tuple of them. Later rows are tried first; a payload none of a
    row's types accepts is offered to the earlier rows.
    """
    pattern = re.compile(rf"(?:^|/){path_regex}/?$")
    row = Endpoint(method.upper(), pattern, _names(body), _names(event), _names(items))
    _ENDPOINTS.insert(0, row)
    _find_cached.cache_clear()


def _names(types: TypeNames) -> tuple[str, ...]:
    if types is None:
        return ()
    return (types,) if isinstance(types, str) else tuple(types)


def find_endpoint(method: str, path: str) -> Endpoint | None:
    """The types of a request's endpoint (every matching row merged), or None for
    endpoints we know nothing of."""
    return _find_cached(method.upper(), path)


@lru_cache(maxsize=1024)
def _find_cached(method: str, path: str) -> Endpoint | None:
    rows = [e for e in _ENDPOINTS if e.method == method and e.path.search(path)]
    if len(rows) <= 1:
        return rows[0] if rows else None

    def merged(kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for row in rows for name in getattr(row, kind)))

    return Endpoint(method, rows[0].path, merged("body"), merged("event"), merged("items"))


# ------------------------------------------------------------ what the others ask --
class _Knowledge(NamedTuple):
    id_prefixes: tuple[str, ...]
    volatile_fields: tuple[tuple[str, tuple[FieldTest, ...]], ...]
    timestamp_fields: frozenset[str]
    model_state_fields: dict[str, tuple[FieldTest, ...]]
    secret_headers: frozenset[str]
    secret_query_params: frozenset[str]
    volatile_headers: frozenset[str]
    volatile_header_prefixes: tuple[str, ...]
    sdk_agents: dict[str, str]


@lru_cache(maxsize=1)
def _aggregate() -> _Knowledge:
    id_prefixes: dict[str, None] = {}  # ordered and unique
    prefixes: dict[str, None] = {}
    agents: dict[str, str] = {}
    volatile: dict[str, tuple[FieldTest, ...]] = {}
    state: dict[str, tuple[FieldTest, ...]] = {}
    for provider in _PROVIDERS:
        id_prefixes.update(dict.fromkeys(provider.id_prefixes))
        prefixes.update(dict.fromkeys(provider.volatile_header_prefixes))
        agents.update(provider.sdk_agents)
        for name, test in provider.volatile_fields.items():
            volatile[name] = volatile.get(name, ()) + (test,)
        for name, test in provider.model_state_fields.items():
            state[name.lower()] = state.get(name.lower(), ()) + (test,)
    return _Knowledge(
        tuple(id_prefixes),
        tuple(volatile.items()),
        frozenset().union(*(p.timestamp_fields for p in _PROVIDERS)),
        state,
        frozenset().union(*(p.secret_headers for p in _PROVIDERS)),
        frozenset().union(*(p.secret_query_params for p in _PROVIDERS)),
        frozenset().union(*(p.volatile_headers for p in _PROVIDERS)),
        tuple(prefixes),
        agents,
    )


def id_prefixes() -> tuple[str, ...]:
    """Prefixes of the ids providers generate per call (matching normalizes them)."""
    return _aggregate().id_prefixes


def volatile_fields() -> tuple[tuple[str, tuple[FieldTest, ...]], ...]:
    """Request fields that change on every recording: (name, tests of the object holding
    it) pairs, hashable so that matching can cache what it compiles from them."""
    return _aggregate().volatile_fields


def timestamp_fields() -> frozenset[str]:
    """Object keys the providers use for timestamps, beyond matching's own."""
    return _aggregate().timestamp_fields


def is_model_state(name: str, holder: Mapping[str, Any]) -> bool:
    """Whether field ``name`` of the object ``holder`` is model output or state the API
    needs back (a thinking block's ``signature``), although its name sounds secret."""
    tests = _aggregate().model_state_fields.get(name.lower())
    return bool(tests) and any(test(holder) for test in tests)


def secret_headers() -> frozenset[str]:
    """Lower-case names of the providers' credential and account headers."""
    return _aggregate().secret_headers


def secret_query_params() -> frozenset[str]:
    """Lower-case names of the providers' credential query parameters."""
    return _aggregate().secret_query_params


def volatile_headers() -> frozenset[str]:
    """Lower-case names of the providers' per-call headers."""
    return _aggregate().volatile_headers


def volatile_header_prefixes() -> tuple[str, ...]:
    return _aggregate().volatile_header_prefixes


def sdk_of_agent(product: str) -> str | None:
    """The distribution of the SDK whose ``User-Agent`` product is ``product``, if known."""
    return _aggregate().sdk_agents.get(product)


def model_in_path(path: str) -> str | None:
    """The model a request's URL path names, for APIs that put it there (Gemini's)."""
    for provider in _PROVIDERS:
        found = provider.model_in_path.search(path) if provider.model_in_path else None
        if found:
            return found.group("model")
    return None


def conversation_reader(method: str, path: str) -> tuple[ConversationReader, str]:
    """The reader of a request and the ``kind`` it gives it.

    The first provider whose reader claims the endpoint reads it; a request no
    provider claims is read by the reader of the provider marked
    ``reads_unclaimed``, as ``http``.
    """
    fallback: ConversationReader = ConversationReader()
    for provider in _PROVIDERS:
        if provider.reader is None:
            continue
        kind = provider.reader.kind_of(method, path)
        if kind is not None:
            return provider.reader, kind
        if provider.reads_unclaimed:
            fallback = provider.reader
    return fallback, "http"
