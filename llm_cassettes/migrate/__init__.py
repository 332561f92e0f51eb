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

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .._errors import CassetteFormatError
from .._wire import _bounded_json as _json
from ..format._files import cassette_files, find, read_text
from ..format._persister import write_atomic
from ..format._provenance import (
    BODY,
    LEGACY,
    MATCHING_KEY,
    PROVENANCE_KEY,
    Provenance,
    file_matching,
)
from ..format._serializer import TYPE_KEY, CassetteSerializer
from ..pytest_plugin import _naming as naming
from . import _llama_stack

__all__ = [
    "SHARED_CASSETTE",
    "Summary",
    "cassette_path_for",
    "import_llama_stack",
    "register",
    "upgrade",
]

#: Where recordings without a test ID go, relative to the output directory.
SHARED_CASSETTE = "llama-stack-shared.yaml"


@dataclass
class Summary:
    """What a migration did, for people (``render``) and for tests (the fields)."""

    action: str
    files_read: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    interactions: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def render(self) -> str:
        head = (
            f"{self.action}: {self.files_read} file(s) read, "
            f"{len(self.written)} cassette(s) written, {len(self.unchanged)} unchanged"
        )
        lines = [head]
        if self.interactions:
            lines.append("interactions by type:")
            lines += [f"  {count:5d}  {name}" for name, count in sorted(self.interactions.items())]
        if self.clients:
            lines.append(
                "recordings by client: "
                + ", ".join(f"{name} {count}" for name, count in sorted(self.clients.items()))
            )
        for label, items in (("skipped", self.skipped), ("FAILED", self.failed)):
            if items:
                lines.append(f"{label} ({len(items)}):")
                lines += [f"  {where}: {why}" for where, why in items]
        lines += self.notes
        return "\n".join(lines)


# ------------------------------------------------------------------- naming --
def cassette_path_for(test_id: str, out: Path) -> Path:
    """The cassette of a pytest node ID under ``out``, by the plugin's own rule.

    ``tests/a/test_b.py::TestC::test_d[x]`` → ``out/tests/a/test_b/TestC.test_d[x].yaml``
    (names made safe and hashed exactly as :mod:`llm_cassettes.naming` does), so
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
    module_dir = naming.module_cassette_dir(out, "", out / relative)
    return module_dir / f"{naming.safe_stem('.'.join(names) + param)}.yaml"


# --------------------------------------------------------------- describing --
def _kind(stored: Mapping[str, Any]) -> str:
    """A short label for an interaction as stored, for "interactions by type"."""
    request, response = stored["request"], stored["response"]
    if not isinstance(response, Mapping) or "status" not in response:
        return f"tool call ({request.get('method')} {request.get('uri')})"
    status = response.get("status") or {}
    code = int(status.get("code", 200)) if isinstance(status, Mapping) else 200
    body = response.get("body")
    if not isinstance(body, Mapping):
        return "empty body"
    prefix = "" if 200 <= code < 300 else f"error {code}: "
    if "sse" in body:
        stream = body["sse"]
        name = stream.get(TYPE_KEY) if isinstance(stream, Mapping) else None
        if not name and isinstance(stream, Mapping):
            names = {e.get(TYPE_KEY) for e in stream.get("events", []) if isinstance(e, Mapping)}
            name = "events of " + ", ".join(sorted(n.rsplit(".", 1)[-1] for n in names if n))
        return prefix + f"stream of {_short(name) if name else 'untyped events'}"
    if "json" in body:
        value = body["json"]
        if isinstance(value, Mapping) and TYPE_KEY in value:
            return prefix + _short(value[TYPE_KEY])
        items = value.get("data") if isinstance(value, Mapping) else None
        if (
            isinstance(items, list)
            and items
            and all(isinstance(i, Mapping) and TYPE_KEY in i for i in items)
        ):
            return prefix + f"list of {_short(items[0][TYPE_KEY])}"
        return prefix + "untyped JSON"
    return prefix + "text/bytes"


def _short(name: str) -> str:
    return name if name.startswith("events of") else name.rsplit(".", 1)[-1]


def _identity(stored: Mapping[str, Any]) -> str:
    return json.dumps(stored, sort_keys=True, default=repr)


# ---------------------------------------------------------------- importing --
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
    for found in find(sources, (".json",)):
        path, explicit = found.path, found.explicit
        where = str(path)
        try:
            recording = _json.loads(read_text(path))
        except CassetteFormatError as exc:
            summary.failed.append((where, str(exc).removeprefix(f"{where}: ")))
            continue
        except _json.TooDeep as exc:
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
    info = metadata.get(PROVENANCE_KEY)
    legacy = isinstance(info, dict) and file_matching(metadata) == LEGACY
    if legacy:
        interactions = [
            {**item, "response": {**item["response"], MATCHING_KEY: BODY}} for item in interactions
        ]
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate([*existing, *interactions]):
        stored = serializer.encode_interaction(item["request"], item["response"])
        if index >= len(existing):
            summary.interactions[_kind(stored)] += 1  # every imported one, new or already there
        key = _identity(stored)
        if key not in seen:
            seen.add(key)
            merged.append(item)
    # llama-stack's recorder matched on a hash of the body: so do these cassettes.
    found = Provenance.of((i["request"].get("headers"), i["request"].get("body")) for i in merged)
    if isinstance(info, dict):
        info = found.added_to(info)
        info.pop("last_recorded", None)  # nothing was recorded today
    else:
        info = found.fresh(imported_from="llama-stack")
    if legacy:
        info[MATCHING_KEY] = LEGACY
    text = serializer.serialize(
        {"interactions": merged, "metadata": {**metadata, PROVENANCE_KEY: info}}
    )
    if text == old_text:
        summary.unchanged.append(target)
        return
    write_atomic(target, text)
    summary.written.append(target)


# ---------------------------------------------------------------- upgrading --
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
            summary.interactions[_kind(stored)] += 1
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
    info = metadata.get(PROVENANCE_KEY)
    if not isinstance(info, dict):
        requests = [item["request"] for item in data["interactions"]]
        found = Provenance.of((r.get("headers"), r.get("body")) for r in requests)
        info = found.fresh(imported_from="vcrpy")
        info[MATCHING_KEY] = LEGACY
    if strict:  # every interaction matched on its body: no marker says otherwise
        info = {k: v for k, v in info.items() if k != MATCHING_KEY}
        data = {
            **data,
            "interactions": [
                {**item, "response": _without_marker(item["response"])}
                for item in data["interactions"]
            ],
        }
    return {**data, "metadata": {**metadata, PROVENANCE_KEY: info}}


def _without_marker(response: Any) -> Any:
    if isinstance(response, Mapping) and MATCHING_KEY in response:
        return {k: v for k, v in response.items() if k != MATCHING_KEY}
    return response


# ---------------------------------------------------------------------- CLI --
def register(subparsers: Any) -> None:
    """Add ``import-llama-stack`` and ``upgrade`` to the ``llm-cassettes`` command."""
    importer = subparsers.add_parser(
        "import-llama-stack",
        help="import llama-stack API recordings as cassettes, one per test ID",
        description=(
            "Read llama-stack recording files (directories are walked for *.json) and write "
            "one cassette per test_id under --out, at the path the pytest plugin uses with "
            "llm_cassettes_dir = <out>. Existing cassettes are merged with, never replaced."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  llm-cassettes import-llama-stack tests/integration --out cassettes\n"
            "  llm-cassettes import-llama-stack rec1.json rec2.json --out cassettes "
            "--shared shared.yaml\n\n"
            "exit codes: 0 all imported, 1 a file could not be read or written"
        ),
    )
    importer.add_argument("sources", nargs="+", metavar="SRC", help="recording files or dirs")
    importer.add_argument("--out", required=True, metavar="DIR", help="cassette tree root")
    importer.add_argument(
        "--shared",
        default=SHARED_CASSETTE,
        metavar="NAME",
        help=f"cassette for recordings without a test_id, under DIR (default {SHARED_CASSETTE})",
    )
    importer.set_defaults(handler=_run_import)

    upgrader = subparsers.add_parser(
        "upgrade",
        help="rewrite plain vcrpy cassettes in place in the typed format",
        description=(
            "Rewrite vcrpy / pytest-recording YAML cassettes (files, or directories walked "
            "for *.yaml / *.yml) in the typed, scrubbed format. They keep vcrpy's matching "
            "(method and URL, in recorded order; 'matching: legacy' in their metadata), so "
            "a passing suite keeps passing and stale recordings are reported; --strict "
            "switches them to body matching. Idempotent; a cassette that cannot be read is "
            "left untouched and reported."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  llm-cassettes upgrade tests/cassettes\n"
            "  llm-cassettes upgrade tests/cassettes/test_chat/test_answer.yaml\n"
            "  llm-cassettes upgrade --strict tests/cassettes\n\n"
            "exit codes: 0 all upgraded or already typed, 1 a cassette could not be read"
        ),
    )
    upgrader.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or dirs")
    upgrader.add_argument(
        "--strict",
        action="store_true",
        help=(
            "also switch them to body matching (stale recordings then fail, as with "
            "llm_cassettes_strict); without it they keep vcrpy's method-and-URL matching"
        ),
    )
    upgrader.set_defaults(handler=_run_upgrade)


def _report(summary: Summary) -> int:
    print(summary.render())
    return 0 if summary.ok else 1


def _run_import(args: argparse.Namespace) -> int:
    return _report(import_llama_stack(args.sources, args.out, shared=args.shared))


def _run_upgrade(args: argparse.Namespace) -> int:
    return _report(upgrade(args.paths, strict=args.strict))
