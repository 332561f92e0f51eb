"""llama-stack recordings in, one cassette per test ID out, merged with what is there."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from .._errors import CassetteFormatError
from .._wire import JSONTooDeep, loads_json
from ..format import (
    LEGACY,
    CassetteSerializer,
    Provenance,
    declare_matching,
    file_matching,
    find_files,
    matched_on_body,
    provenance_entry,
    read_text,
    with_provenance_entry,
    write_atomic,
)
from ..pytest_plugin import module_cassette_dir, safe_stem
from . import _llama_stack
from ._summary import Summary, identity, kind_of

__all__ = ["SHARED_CASSETTE", "cassette_path_for", "import_llama_stack"]

#: Where recordings without a test ID go, relative to the output directory.
SHARED_CASSETTE = "llama-stack-shared.yaml"


def cassette_path_for(test_id: str, out: Path) -> Path:
    """The cassette of a pytest node ID under ``out``, by the plugin's own rule.

    ``tests/a/test_b.py::TestC::test_d[x]`` → ``out/tests/a/test_b/TestC.test_d[x].yaml``
    (names made safe and hashed exactly as the pytest plugin's naming does), so
    with ``llm_cassettes_dir = "<out>"`` the test with that ID finds it.
    """
    bracket = test_id.find("[")
    head, param = (test_id, "") if bracket < 0 else (test_id[:bracket], test_id[bracket:])
    file_part, *names = head.split("::")
    if not names or not file_part.endswith(".py"):
        raise ValueError(f"test_id {test_id!r} is not a pytest node ID (path.py::test_name)")
    relative = PurePosixPath(file_part)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"test_id {test_id!r}: the test path must be relative, inside the suite")
    module_dir = module_cassette_dir(out, "", out / relative)
    return module_dir / f"{safe_stem('.'.join(names) + param)}.yaml"


def import_llama_stack(
    sources: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    shared: str = SHARED_CASSETTE,
    serializer: CassetteSerializer | None = None,
) -> Summary:
    """Import llama-stack recordings into one cassette per test ID under ``out``.

    An existing cassette is merged with, not replaced: interactions already in
    it are kept and not added twice, so importing again changes nothing. A
    cassette that cannot be read is left alone and reported as failed.
    """
    serializer = serializer or CassetteSerializer()
    out_dir = Path(out)
    summary = Summary("import-llama-stack")
    groups: dict[Path, list[dict[str, Any]]] = {}
    no_test_id = 0
    corrected = 0
    for found in find_files(sources, (".json",)):
        path, explicit = found.path, found.explicit
        where = str(path)
        try:
            recording = loads_json(read_text(path))
        except CassetteFormatError as exc:
            summary.failed.append((where, str(exc).removeprefix(f"{where}: ")))
            continue
        except JSONTooDeep as exc:
            summary.failed.append((where, f"{exc}; llama-stack recordings never are"))
            continue
        except ValueError as exc:
            summary.failed.append((where, f"not valid JSON ({exc})"))
            continue
        summary.files_read += 1
        if not explicit and not _llama_stack.is_recording(recording):
            summary.skipped.append((where, "not a llama-stack recording (no request/response)"))
            continue
        try:
            converted = _llama_stack.convert(recording, where)
            if converted.test_id is None:
                target = out_dir / shared
                no_test_id += 1
            else:
                target = cassette_path_for(converted.test_id, out_dir)
        except _llama_stack.SkipRecording as exc:
            summary.skipped.append((where, str(exc)))
            continue
        except (_llama_stack.RecordingError, ValueError) as exc:
            message = str(exc)
            summary.failed.append((where, message.removeprefix(f"{where}: ")))
            continue
        summary.clients[converted.client] += 1
        corrected += converted.corrected_endpoint is not None
        groups.setdefault(target, []).append(converted.interaction)
    for target, interactions in sorted(groups.items()):
        _write_merged(target, interactions, serializer, summary)
    if corrected:
        summary.notes.append(
            f"{corrected} chat completion(s) recorded under /v1/completions (the body has "
            "'messages', the answer is a ChatCompletion): imported at /chat/completions, "
            "where the SDK sends them"
        )
    if no_test_id:
        summary.notes.append(
            f"{no_test_id} recording(s) had no test_id: they went to the shared cassette "
            f"{out_dir / shared} (use it as an extra cassette: "
            f'@pytest.mark.vcr("{out_dir / shared}"))'
        )
    return summary


def _write_merged(
    target: Path,
    interactions: list[dict[str, Any]],
    serializer: CassetteSerializer,
    summary: Summary,
) -> None:
    existing: list[dict[str, Any]] = []
    old_text = None
    metadata: dict[str, Any] = {}
    if target.exists():
        try:
            old_text = read_text(target)
            old = serializer.deserialize(old_text, source=str(target))
        except CassetteFormatError as exc:
            reason = str(exc).removeprefix(f"{target}: ")
            summary.failed.append((str(target), f"existing cassette left untouched: {reason}"))
            return
        existing, metadata = old["interactions"], dict(old.get("metadata") or {})
    # An upgraded vcrpy cassette keeps its matching and the imported interactions say
    # theirs. (One without any provenance is taken for an earlier import.)
    info = provenance_entry(metadata)
    legacy = isinstance(info, dict) and file_matching(metadata) == LEGACY
    if legacy:
        interactions = [
            {**item, "response": matched_on_body(item["response"])} for item in interactions
        ]
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate([*existing, *interactions]):
        stored = serializer.encode_interaction(item["request"], item["response"])
        if index >= len(existing):
            summary.interactions[kind_of(stored)] += 1  # every imported one, new or already there
        key = identity(stored)
        if key not in seen:
            seen.add(key)
            merged.append(item)
    # llama-stack's recorder matched on a hash of the body: so do these cassettes.
    found = Provenance.of(
        (i["request"].get("headers"), i["request"].get("body"), i["request"].get("uri"))
        for i in merged
    )
    if isinstance(info, dict):
        info = found.added_to(info)
        info.pop("last_recorded", None)  # nothing was recorded today
    else:
        info = found.fresh(imported_from="llama-stack")
    if legacy:
        info = declare_matching(info, legacy=True)
    text = serializer.serialize(
        {"interactions": merged, "metadata": with_provenance_entry(metadata, info)}
    )
    if text == old_text:
        summary.unchanged.append(target)
        return
    write_atomic(target, text)
    summary.written.append(target)
