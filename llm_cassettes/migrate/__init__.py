"""Bring existing recordings along: ``import-llama-stack`` and ``upgrade``.

Teams adopt a recorder when the recordings they already have keep working.
Two sources matter:

* llama-stack's API recordings (one JSON file per request hash, responses
  already typed): :func:`import_llama_stack` writes one cassette per test ID,
  at the path the pytest plugin derives from that ID, so the tests with those
  IDs find them;
* plain vcrpy / pytest-recording YAML cassettes (bodies as escaped strings):
  :func:`upgrade` rewrites them in place in the typed, scrubbed format, still
  matched the way vcrpy matched them (``matching: legacy``) unless ``strict``.

Both return a :class:`Summary` and never overwrite a file they could not read.
Both write provenance (``metadata.llm_cassettes``): where the recordings came
from, and which SDKs and models they used.
"""

from ._importer import SHARED_CASSETTE, cassette_path_for, import_llama_stack
from ._summary import Summary
from ._upgrade import upgrade

__all__ = ["SHARED_CASSETTE", "Summary", "cassette_path_for", "import_llama_stack", "upgrade"]
