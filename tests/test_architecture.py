"""The package's layout rules, checked on every module (see docs/architecture.md).

* a part imports another part only through its interface (its ``__init__``), never
  one of its private modules;
* parts import only the parts below them, so the dependencies have no cycle;
* only ``_compat.py`` names vcrpy's and pytest-recording's private names (and no module an SDK's).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import llm_cassettes

PACKAGE = Path(llm_cassettes.__file__).parent

#: The parts, lowest first. A part may import the parts before it (and itself).
LAYERS: list[set[str]] = [
    {"_errors", "_lazy", "_compat", "_wire", "_ini"},
    {"providers"},
    {"scrub", "matching"},
    {"format"},
    {"recording"},
    {"pytest_plugin"},
    {"migrate"},
    {"cli"},
    {"__init__", "__main__"},
]
LAYER = {part: index for index, parts in enumerate(LAYERS) for part in parts}

#: Private names of vcrpy and pytest-recording the package relies on (and of the SDKs).
UPSTREAM_PRIVATE = re.compile(
    r"_CassetteContextDecorator__finish|_patch_generator|\b_use_cassette\b|__class__ =|"
    r"\._match_on\b|_before_record_request|_played_interactions|\._load\(|def _load\b|"
    r"\b_new_interactions|\b_rerecorded_interactions|\._from_dict|\._to_dict|"
    r"_deserialize_headers|\b_normalized_(?:uri|path)|MAX_FILENAME_LEN|"
    r"(?:openai|anthropic|google\.genai)\._\w|"
    r"\._persist\(|def _persist\b|\._loaded_count|\._metadata\b|self\._path\b|"
    r"self\._persister\b|# compat:"
)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement of ``path`` names (relative imports resolved),
    with ``from X import y`` also as ``X.y`` (y may be a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "llm_cassettes":  # from llm_cassettes import x: only x counts
                found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, target) for line, target in found if target.startswith("llm_cassettes")]


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_parts_import_each_other_through_their_interfaces_in_layer_order(path: Path) -> None:
    here = part_of(module_name(path))
    if path.name == "__main__.py":
        here = "__main__"
    problems = []
    for line, target in imported(path):
        there = part_of(target)
        if there == here or there not in LAYER:
            continue
        inner = target.split(".")[2:]
        if any(piece.startswith("_") for piece in inner):
            problems.append(f"line {line}: {target} is private to {there} (use its __init__)")
        if LAYER[there] > LAYER[here]:
            problems.append(f"line {line}: {here} imports {there}, a part above it")
    assert not problems, f"{path.relative_to(PACKAGE)}:\n" + "\n".join(problems)


def test_only_the_compat_module_names_upstream_private_names() -> None:
    found = []
    for path in modules():
        if path.name == "_compat.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if UPSTREAM_PRIVATE.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not found, "upstream private names outside _compat.py:\n" + "\n".join(found)
