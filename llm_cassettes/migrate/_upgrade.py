"""Plain vcrpy / pytest-recording cassettes rewritten in place in the typed format."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .._errors import CassetteFormatError
from ..format import (
    CassetteSerializer,
    Provenance,
    cassette_files,
    declare_matching,
    provenance_entry,
    with_provenance_entry,
    without_matching_marker,
    write_atomic,
)
from ._summary import Summary, kind_of

__all__ = ["upgrade"]


def upgrade(
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    serializer: CassetteSerializer | None = None,
) -> Summary:
    """Rewrite cassettes in place in the typed format; a file already typed stays byte-identical.

    Reading goes through the same serializer that replays cassettes, so what
    is written is exactly what recording that traffic would have written, and
    a cassette it cannot read is never touched (it is reported as failed).

    A plain vcrpy cassette keeps vcrpy's matching (``matching: legacy`` in its
    provenance), so a suite that passed still passes and stale recordings are
    reported; ``strict`` switches it (and any upgraded one) to body matching.
    """
    serializer = serializer or CassetteSerializer()
    summary = Summary("upgrade --strict" if strict else "upgrade")
    for found in cassette_files(paths):
        path = found.path
        where = str(path)
        try:
            if found.error is not None:
                raise CassetteFormatError(found.error)
            text = found.text or ""
            data = _with_provenance(serializer.deserialize(text, source=where), strict=strict)
            new_text = serializer.serialize(data)
        except CassetteFormatError as exc:
            summary.failed.append((where, f"left untouched: {str(exc).removeprefix(where + ': ')}"))
            continue
        summary.files_read += 1
        for item in data["interactions"]:
            stored = serializer.encode_interaction(item["request"], item["response"])
            summary.interactions[kind_of(stored)] += 1
        if new_text == text:
            summary.unchanged.append(path)
            continue
        write_atomic(path, new_text)
        summary.written.append(path)
    return summary


def _with_provenance(data: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """The cassette dict with its provenance: how it is matched, which SDKs and models.

    A cassette without provenance was recorded by plain vcrpy: its SDKs come from
    the recorded ``User-Agent`` headers (dropped from the file as volatile).
    """
    metadata = dict(data.get("metadata") or {})
    info = provenance_entry(metadata)
    if not isinstance(info, dict):
        requests = [item["request"] for item in data["interactions"]]
        found = Provenance.of((r.get("headers"), r.get("body"), r.get("uri")) for r in requests)
        info = declare_matching(found.fresh(imported_from="vcrpy"), legacy=True)
    if strict:  # every interaction matched on its body: no marker says otherwise
        info = declare_matching(info, legacy=False)
        data = {
            **data,
            "interactions": [
                {**item, "response": without_matching_marker(item["response"])}
                for item in data["interactions"]
            ],
        }
    return {**data, "metadata": with_provenance_entry(metadata, info)}
