"""A separate process that records into a cassette in a loop (run by the reliability tests).

Usage: ``python -m tests.reliability._worker BASE_URL CASSETTE NAME ROUNDS [PAUSE]``.
Each round opens the cassette in ``new_episodes`` (loading it), asks the fake
service one new question, waits ``PAUSE`` seconds (so other workers load and
save meanwhile) and closes it (saving). It prints ``round <n>`` after each save.
"""

from __future__ import annotations

import sys
import time

import openai

from llm_cassettes import use_cassette


def main(base_url: str, cassette: str, name: str, rounds: int, pause: float = 0.0) -> None:
    client = openai.OpenAI(
        base_url=base_url, api_key="sk-test-WORKERKEY0123456789abcdef", max_retries=0
    )
    for number in range(rounds):
        with use_cassette(cassette, record_mode="new_episodes"):
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": f"{name}-{number}"}]
            )
            time.sleep(pause)
        print(f"round {number}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1], args[2], int(args[3]), float(args[4]) if len(args) > 4 else 0.0)
