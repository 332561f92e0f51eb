"""llama-stack: its client's and server's types, and its client in provenance.

Its server speaks the OpenAI API (read by :mod:`.openai`); recordings made by
its own recorder are imported by :mod:`llm_cassettes.migrate`, and their
tool results are typed with its classes.
"""

from __future__ import annotations

from ._registry import Provider

__all__ = ["PROVIDER"]

PROVIDER = Provider(
    name="llama-stack",
    type_modules=("llama_stack_client.types.", "llama_stack.apis."),
    sdk_agents={
        "LlamaStackClient/Python": "llama-stack-client",
        "AsyncLlamaStackClient/Python": "llama-stack-client",
    },
)
