"""The stream both streaming benchmarks serve: chat completion chunks, as chunked SSE."""

from __future__ import annotations

from typing import Any


def chat_chunk(i: int) -> dict[str, Any]:
    """The ``i``-th chunk of a streamed chat completion (the first carries the role)."""
    return {
        "id": "chatcmpl-bench0001",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_bench",
        "choices": [
            {
                "index": 0,
                "delta": {"content": f" word{i}"} if i else {"role": "assistant"},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }


def sse_frame(payload: str) -> bytes:
    """One event carrying ``payload``, as one chunk of a chunked transfer encoding."""
    data = f"data: {payload}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(data), data)
