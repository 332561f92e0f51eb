"""The commands ``import-llama-stack`` and ``upgrade``, over :mod:`llm_cassettes.migrate`."""

from __future__ import annotations

import argparse

from ..migrate import SHARED_CASSETTE, Summary, import_llama_stack, upgrade
from ._common import Subparsers, add_command

__all__ = ["add_import_command", "add_upgrade_command"]


def add_import_command(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "import-llama-stack",
        summary="import llama-stack API recordings as cassettes, one per test ID",
        description=(
            "Read llama-stack recording files (directories are walked for *.json) and write "
            "one cassette per test_id under --out, at the path the pytest plugin uses with "
            "llm_cassettes_dir = <out>. Existing cassettes are merged with, never replaced."
        ),
        examples="""
            llm-cassettes import-llama-stack tests/integration --out cassettes
            llm-cassettes import-llama-stack rec1.json rec2.json --out cassettes --shared shared.yaml
            """,
        exits="exit codes: 0 all imported, 1 a file could not be read or written",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="recording files or dirs")
    parser.add_argument("--out", required=True, metavar="DIR", help="cassette tree root")
    parser.add_argument(
        "--shared",
        default=SHARED_CASSETTE,
        metavar="NAME",
        help=f"cassette for recordings without a test_id, under DIR (default {SHARED_CASSETTE})",
    )
    parser.set_defaults(handler=run_import)


def add_upgrade_command(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "upgrade",
        summary="rewrite plain vcrpy cassettes in place in the typed format",
        description=(
            "Rewrite vcrpy / pytest-recording YAML cassettes (files, or directories walked "
            "for *.yaml / *.yml) in the typed, scrubbed format. They keep vcrpy's matching "
            "(method and URL, in recorded order; 'matching: legacy' in their metadata), so "
            "a passing suite keeps passing and stale recordings are reported; --strict "
            "switches them to body matching. Idempotent; a cassette that cannot be read is "
            "left untouched and reported."
        ),
        examples="""
            llm-cassettes upgrade tests/cassettes
            llm-cassettes upgrade tests/cassettes/test_chat/test_answer.yaml
            llm-cassettes upgrade --strict tests/cassettes
            """,
        exits="exit codes: 0 all upgraded or already typed, 1 a cassette could not be read",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or dirs")
    parser.add_argument(
        "--strict",
        action="store_true",
        help=(
            "also switch them to body matching (stale recordings then fail, as with "
            "llm_cassettes_strict); without it they keep vcrpy's method-and-URL matching"
        ),
    )
    parser.set_defaults(handler=run_upgrade)


def run_import(args: argparse.Namespace) -> int:
    return _report(import_llama_stack(args.sources, args.out, shared=args.shared))


def run_upgrade(args: argparse.Namespace) -> int:
    return _report(upgrade(args.paths, strict=args.strict))


def _report(summary: Summary) -> int:
    print(summary.render())
    return 0 if summary.ok else 1
