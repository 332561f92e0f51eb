"""A provider is one module: what it declares reaches matching, scrubbing, provenance,
the type allowlist and the review commands, with nothing else to change."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from llm_cassettes import providers
from llm_cassettes.format import Provenance, sdk_of
from llm_cassettes.matching import canonicalize
from llm_cassettes.providers import _registry
from llm_cassettes.scrub import REDACTED, Scrubber


@pytest.fixture
def registry() -> Iterator[None]:
    """The registry as it is now, restored after the test (registration is global)."""
    saved = (
        list(_registry._PROVIDERS),
        list(_registry._ENDPOINTS),
        list(_registry.TYPE_ALLOWLIST),
        set(_registry.UNVALIDATED_TYPES),
    )
    yield
    _registry._PROVIDERS[:], _registry._ENDPOINTS[:] = saved[0], saved[1]
    _registry.TYPE_ALLOWLIST[:] = saved[2]
    _registry.UNVALIDATED_TYPES.clear()
    _registry.UNVALIDATED_TYPES.update(saved[3])
    _registry._aggregate.cache_clear()
    _registry._find_cached.cache_clear()


class AcmeReader(providers.ConversationReader):
    prompt_fields = ("prompt",)

    def kind_of(self, method: str, path: str) -> str | None:
        return "acme" if path.endswith("/acme/generate") else None

    def read_request(self, exchange: Any, body: dict[str, Any]) -> None:
        exchange.messages = [providers.Message("user", str(body.get("prompt", "")))]

    def read_body(self, exchange: Any, value: Any) -> None:
        exchange.answer = [providers.Message("assistant", str(value.get("text", "")))]


ACME = providers.Provider(
    name="acme",
    type_modules=("acme_sdk.types.",),
    endpoints=(providers.EndpointTypes("POST", r"acme/generate", body="acme_sdk.types.Reply"),),
    id_prefixes=("acmeid",),
    secret_headers=frozenset({"acme-account"}),
    secret_query_params=frozenset({"acme_sig"}),
    volatile_fields={"nonce": lambda holder: "prompt" in holder},
    model_state_fields={"signature": lambda holder: holder.get("type") == "acme_reasoning"},
    model_in_path=re.compile(r"/engines/(?P<model>[^/]+)/acme/generate$"),
    volatile_headers=frozenset({"acme-trace"}),
    volatile_header_prefixes=("acme-quota-",),
    sdk_agents={"Acme/Python": "acme-sdk"},
    reader=AcmeReader(),
)


def test_what_a_provider_declares_reaches_every_part(registry: None) -> None:
    def body(run_id: str, nonce: str = "n1") -> str:
        return json.dumps({"prompt": "hi", "run": run_id, "nonce": nonce})

    reasoning = {"type": "acme_reasoning", "signature": "opaque-model-state-0123456789"}
    assert Scrubber().value(reasoning)["signature"] == REDACTED
    assert body("x", "n1") != body("x", "n2")
    assert (
        canonicalize(body("x", "n1"), "application/json").key
        != canonicalize(body("x", "n2"), "application/json").key
    )

    assert (
        canonicalize(body("acmeid_Ab3dEf9hIj"), "application/json").key
        != canonicalize(body("acmeid_Zz9yXw8vUt"), "application/json").key
    )
    signed = "https://api.acme.test/v2?acme_sig=s1gn4ture&q=1"
    assert Scrubber().url(signed) == signed
    providers.register_provider(ACME)

    # matching: its ids are volatile
    assert (
        canonicalize(body("acmeid_Ab3dEf9hIj"), "application/json").key
        == canonicalize(body("acmeid_Zz9yXw8vUt"), "application/json").key
    )
    # matching: its volatile fields do not count
    assert (
        canonicalize(body("x", "n1"), "application/json").key
        == canonicalize(body("x", "n2"), "application/json").key
    )
    # scrubbing: its model state is not a secret
    assert Scrubber().value(reasoning) == reasoning
    # scrubbing: its account header is a secret, its per-call headers are dropped
    headers = {"acme-account": "acct-0123456789", "acme-trace": "t1", "acme-quota-left": "9"}
    assert Scrubber().headers({**headers, "accept": "*/*"}) == {
        "accept": "*/*",
        "acme-account": REDACTED,
    }
    assert Scrubber().url(signed) == f"https://api.acme.test/v2?acme_sig={REDACTED}&q=1"
    # provenance: its SDK is named
    assert sdk_of({"User-Agent": "Acme/Python 1.2.3"}) == ("acme-sdk", "1.2.3")
    assert Provenance.of([({"user-agent": "Acme/Python 1.2.3"}, None)]).sdk == {"acme-sdk": "1.2.3"}
    uri = "https://api.acme.test/v2/engines/acme-large/acme/generate"
    assert Provenance.of([({}, "{}", uri)]).models == {"acme-large"}
    # types: a cassette may name its SDK's types, its endpoints are typed
    assert providers.is_allowed_type("acme_sdk.types.Reply")
    endpoint = providers.find_endpoint("POST", "/v2/acme/generate")
    assert endpoint is not None and endpoint.body == ("acme_sdk.types.Reply",)
    # review: its reader reads its traffic
    reader, kind = providers.conversation_reader("POST", "/v2/acme/generate")
    assert (reader, kind) == (ACME.reader, "acme")


def test_review_reads_a_provider_s_traffic_with_its_reader(registry: None) -> None:
    from llm_cassettes.cli.review._transcript import transcript_of

    providers.register_provider(ACME)
    cassette = {
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.acme.test/v2/acme/generate",
                    "headers": {"content-type": ["application/json"]},
                    "body": json.dumps({"prompt": "How many experts?"}),
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["application/json"]},
                    "body": {"string": json.dumps({"text": "128"})},
                },
            }
        ]
    }
    (exchange,) = transcript_of(cassette).exchanges
    assert exchange.kind == "acme" and exchange.prompt_fields == ("prompt",)
    assert [(m.role, m.content) for m in exchange.messages] == [("user", "How many experts?")]
    assert [(m.role, m.content) for m in exchange.answer] == [("assistant", "128")]


def test_the_built_in_providers_keep_their_knowledge_in_their_modules() -> None:
    from llm_cassettes.providers import anthropic, gemini, llama_stack, openai

    assert providers.BUILT_IN == (
        openai.PROVIDER,
        anthropic.PROVIDER,
        gemini.PROVIDER,
        llama_stack.PROVIDER,
    )
    assert providers.TYPE_ALLOWLIST[:5] == [
        "openai.types.",
        "anthropic.types.",
        "google.genai.types.",
        "llama_stack_client.types.",
        "llama_stack.apis.",
    ]
    assert {"call", "resp", "toolu", "srvtoolu"} <= set(providers.id_prefixes())
    assert {"openai-organization", "anthropic-organization-id"} <= providers.secret_headers()
    assert "x-goog-api-key" in providers.secret_headers()
    assert "key" in providers.secret_query_params()
    # a request no provider claims is read as OpenAI traffic (the protocol others speak)
    reader, kind = providers.conversation_reader("POST", "/api/generate")
    assert reader is openai.PROVIDER.reader and kind == "http"
