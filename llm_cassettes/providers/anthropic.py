"""Anthropic: what this library knows of it so far.

Its SDK types may be named in cassettes, its per-call ids are normalized when
matching, its account and rate-limit headers are scrubbed and dropped, and its
SDK is named in provenance. Its endpoints are typed only where a user
registers them (``register_endpoint``), and its traffic is read as OpenAI's in
``show`` and ``diff``.
"""

from __future__ import annotations

from ._registry import Provider

__all__ = ["PROVIDER"]

PROVIDER = Provider(
    name="anthropic",
    type_modules=("anthropic.types.",),
    id_prefixes=("toolu", "msg"),
    secret_headers=frozenset({"anthropic-organization-id"}),
    volatile_header_prefixes=("anthropic-ratelimit-",),
    sdk_agents={"Anthropic/Python": "anthropic", "AsyncAnthropic/Python": "anthropic"},
)
