"""Forks recording processes for the SIGKILL test (run by ``test_crash.py``).

Usage: ``python -m tests.reliability._crash_worker BASE_URL CASSETTE PAD``, then
one line ``next`` on stdin per child. The libraries are imported once, here,
so each forked child starts recording at once instead of after a second of
imports: the test can afford many kills.

A child records forever into CASSETTE (``new_episodes``, one question per
save, each padded with PAD characters so that saves take a while) and prints
``pid <pid>`` when it starts, ``dead <exit code>`` once reaped, and ``saving`` when a save creates its temporary
file (seen through a Python audit hook, not by changing the code under test). The
hook also pauses briefly before each step of a save, see :func:`_stretch_saves`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import openai

from llm_cassettes import use_cassette

#: The steps of an atomic save, as audit events: temporary file created, opened for
#: writing, given its mode, renamed into place.
_SAVE_STEPS = {"tempfile.mkstemp", "open", "os.chmod", "os.rename"}
_saving = False


def _stretch_saves(event: str, args: tuple[Any, ...]) -> None:
    """Announce each save and pause a little before each of its steps.

    Saves take a millisecond; the pauses make the window between any two steps
    wide enough that a kill at a random moment often falls inside it, so the
    test covers every point of the save, not only the moments around it.
    """
    global _saving
    if event == "tempfile.mkstemp":
        _saving = True
        os.write(1, b"saving\n")
    if _saving and event in _SAVE_STEPS and (event != "open" or isinstance(args[0], int)):
        time.sleep(0.015)
    if event == "os.rename":
        _saving = False


def _record_forever(base_url: str, cassette: str, child: int, pad: int) -> None:
    sys.addaudithook(_stretch_saves)
    client = openai.OpenAI(
        base_url=base_url, api_key="sk-test-CRASHKEY0123456789abc", max_retries=0
    )
    number = 0
    while True:
        with use_cassette(cassette, record_mode="new_episodes"):
            text = f"{child}-{number} " + "x" * pad
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": text}]
            )
        number += 1


def main(base_url: str, cassette: str, pad: int) -> None:
    for child, line in enumerate(sys.stdin):
        if line.strip() != "next":
            continue
        pid = os.fork()
        if pid == 0:
            try:
                _record_forever(base_url, cassette, child, pad)
            finally:
                os._exit(1)
        os.write(1, f"pid {pid}\n".encode())
        _, status = os.waitpid(pid, 0)  # until the test kills it
        os.write(1, f"dead {os.waitstatus_to_exitcode(status)}\n".encode())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
