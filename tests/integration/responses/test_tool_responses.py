"""The seed: the llama-stack recording this project grew from, replayed with the real SDK.

llama-stack recorded this second turn of a ``knowledge_search`` conversation
with gpt-4o (streamed) under this very test ID. ``llm-cassettes
import-llama-stack`` turned that recording into
``cassettes/tests/integration/responses/test_tool_responses/
test_response_sequential_file_search[...]-e280e4116f.yaml``, the path the
plugin derives from the ID, so the plain ``@pytest.mark.vcr`` test below finds
it and replays it offline. Re-import with::

    llm-cassettes import-llama-stack tests/data/llama_stack/seed --out cassettes
"""

from __future__ import annotations

import openai
import pytest

FILE_ID = "file-5217982280"


def knowledge_search_result(call_id: str, query: str, score: str) -> dict[str, object]:
    """The tool message llama-stack's file_search built from one retrieved chunk."""
    return {
        "role": "tool",
        "tool_call_id": call_id,
        "content": [
            {
                "type": "text",
                "text": "knowledge_search tool found 1 chunks:\nBEGIN of knowledge_search tool results.\n",
            },
            {
                "type": "text",
                "text": f"[1] document_id: {FILE_ID}, score: {score}, attributes: "
                f"{{'filename': 'test_sequential_file_search.txt', 'document_id': '{FILE_ID}', "
                f"'token_count': 19.0, 'metadata_token_count': 11.0}} (cite as <|{FILE_ID}|>)\n"
                "The Llama 4 Maverick model has 128 experts in its mixture of experts "
                "architecture.\n",
            },
            {"type": "text", "text": "END of knowledge_search tool results.\n"},
            {
                "type": "text",
                "text": "The above results were retrieved to help answer the user's query: "
                f'"{query}". Use them as supporting information only in answering this query. '
                "Cite sources immediately at the end of sentences before punctuation, using "
                "`<|file-id|>` format (e.g., 'This is a fact <|file-Cn3MSNn72ENTiiq11Qda4A|>.'). "
                "Do not add extra punctuation. Use only the file IDs provided (do not invent new "
                "ones).\n",
            },
        ],
    }


def knowledge_search_call(call_id: str, query: str) -> dict[str, object]:
    """The assistant turn that asked for the search."""
    arguments = '{"query":"' + query + '"}'
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "index": 0,
                "id": call_id,
                "type": "function",
                "function": {"name": "knowledge_search", "arguments": arguments},
            }
        ],
    }


KNOWLEDGE_SEARCH = {
    "type": "function",
    "function": {
        "name": "knowledge_search",
        "description": "Search for information in a database.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "description": (
                        "The query to search for. Can be a natural language sentence or keywords."
                    ),
                }
            },
            "required": ["query"],
        },
    },
}


@pytest.mark.vcr
@pytest.mark.parametrize(
    "model",
    [
        pytest.param(
            "gpt-4o",
            id="client_with_models-txt=openai/gpt-4o:emb=openai/text-embedding-3-small:dim=1536",
        )
    ],
)
def test_response_sequential_file_search(model: str) -> None:
    client = openai.OpenAI(
        base_url="https://api.openai.com/v1", api_key="sk-test-not-a-real-key", max_retries=0
    )
    first, second = (
        "Llama 4 Maverick model number of experts",
        "Llama 4 Maverick model architecture",
    )
    stream = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "user", "content": "How many experts does the Llama 4 Maverick model have?"},
            knowledge_search_call("call_zS2WxgXWetjnlPt2MzH9Asrc", first),
            knowledge_search_result("call_zS2WxgXWetjnlPt2MzH9Asrc", first, "2.57802841833685"),
            {
                "role": "assistant",
                "content": "The Llama 4 Maverick model has 128 experts in its mixture of experts "
                f"architecture <|{FILE_ID}|>.",
            },
            {"role": "user", "content": "Can you tell me more about the architecture?"},
            knowledge_search_call("call_65UIUP8qaZGeNNTjOTONwYKj", second),
            knowledge_search_result("call_65UIUP8qaZGeNNTjOTONwYKj", second, "1.9325686555844606"),
        ],
        tools=[KNOWLEDGE_SEARCH],
        stream=True,
    )
    chunks = list(stream)
    answer = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)

    assert answer.startswith("The search did not return detailed information specific to the")
    assert "it has 128 experts in its mixture of experts architecture" in answer
    assert f"<|{FILE_ID}|>" in answer  # the citation the system prompt asked for
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert {chunk.model for chunk in chunks} == {"gpt-4o-2024-08-06"}
