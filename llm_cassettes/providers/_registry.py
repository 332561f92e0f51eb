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
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from ._conversation import ConversationReader

__all__ = [
    "TYPE_ALLOWLIST",
    "UNVALIDATED_TYPES",
    "Endpoint",
    "EndpointTypes",
    "Provider",
    "conversation_reader",
    "find_endpoint",
    "id_prefixes",
    "register_endpoint",
    "register_provider",
    "registered_providers",
    "sdk_of_agent",
    "secret_headers",
    "secret_query_params",
    "volatile_header_prefixes",
    "volatile_headers",
]


class EndpointTypes(NamedTuple):
    """One endpoint as a provider declares it: the dotted names of the SDK types that
    parse its JSON body, one stream event, and each item of a list page's ``data``."""

    method: str
    path: str  # a regex, searched at the end of the URL path (see register_endpoint)
    body: str | None = None
    event: str | None = None
    items: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """How one endpoint's bodies are typed (a registered :class:`EndpointTypes`).

    ``body`` and ``event`` are dotted names of the SDK type (a class or a
    discriminated union) that parses a JSON body and one stream event; ``items``
    names the type of each element of a list page's ``data``.
    """

    method: str
    path: re.Pattern[str]
    body: str | None = None
    event: str | None = None
    items: str | None = None


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
    #: headers that carry credentials or identify the account, whatever their name says
    secret_headers: frozenset[str] = frozenset()
    #: query parameters that carry credentials, whatever their name says
    secret_query_params: frozenset[str] = frozenset()
    #: headers that change on every call and tell a reviewer nothing (names, prefixes)
    volatile_headers: frozenset[str] = frozenset()
    volatile_header_prefixes: tuple[str, ...] = ()
    #: ``User-Agent`` products of its SDKs (``OpenAI/Python``) → the distribution
    #: provenance names (``openai``)
    sdk_agents: Mapping[str, str] = field(default_factory=dict)
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


def registered_providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


def register_endpoint(
    method: str,
    path_regex: str,
    *,
    body: str | None = None,
    event: str | None = None,
    items: str | None = None,
) -> None:
    """Teach the serializer the SDK types of an endpoint.

    ``path_regex`` is searched at the end of the URL path, so one row serves
    ``/v1/chat/completions``, proxies and Azure deployments alike. Later rows win.
    """
    pattern = re.compile(rf"(?:^|/){path_regex}/?$")
    _ENDPOINTS.insert(0, Endpoint(method.upper(), pattern, body, event, items))
    _find_cached.cache_clear()


def find_endpoint(method: str, path: str) -> Endpoint | None:
    """The endpoint row for a request, or None for endpoints we know nothing of."""
    return _find_cached(method.upper(), path)


@lru_cache(maxsize=1024)
def _find_cached(method: str, path: str) -> Endpoint | None:
    for endpoint in _ENDPOINTS:
        if endpoint.method == method and endpoint.path.search(path):
            return endpoint
    return None


# ------------------------------------------------------------ what the others ask --
class _Knowledge(NamedTuple):
    id_prefixes: tuple[str, ...]
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
    for provider in _PROVIDERS:
        id_prefixes.update(dict.fromkeys(provider.id_prefixes))
        prefixes.update(dict.fromkeys(provider.volatile_header_prefixes))
        agents.update(provider.sdk_agents)
    return _Knowledge(
        tuple(id_prefixes),
        frozenset().union(*(p.secret_headers for p in _PROVIDERS)),
        frozenset().union(*(p.secret_query_params for p in _PROVIDERS)),
        frozenset().union(*(p.volatile_headers for p in _PROVIDERS)),
        tuple(prefixes),
        agents,
    )


def id_prefixes() -> tuple[str, ...]:
    """Prefixes of the ids providers generate per call (matching normalizes them)."""
    return _aggregate().id_prefixes


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
