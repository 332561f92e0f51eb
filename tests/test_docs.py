"""The README and docs/ say only what is true of the package: links lead somewhere, code
examples import what exists, and everything users are told to import or catch is public.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import llm_cassettes
from llm_cassettes.recording import LLM_OPTIONS
from tests._support import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: Modules that examples use as the reader's own code.
EXAMPLE_MODULES = {"my_app"}

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
_DOTTED = re.compile(r"\bllm_cassettes(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: This repository's files (``tests/test_agent.py`` in example output is the reader's own).
_SOURCE_PATH = re.compile(r"\b(?:llm_cassettes|benchmarks|tests/\w+)/[\w/.\-]*\.py\b")
_CAUGHT = re.compile(r"`([A-Z][A-Za-z]*(?:Error|Warning|Miss))`")


def ids(path: Path) -> str:
    return str(path.relative_to(REPO))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def resolve(dotted: str) -> Any:
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("doc", DOCS, ids=ids)
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {ids(path)}")
    assert not broken, f"{ids(doc)}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=ids)
def test_code_examples_import_what_exists(doc: Path) -> None:
    missing = []
    for language, code in _FENCE.findall(doc.read_text(encoding="utf-8")):
        if language != "python":
            continue
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                names = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "", alias.name) for alias in node.names]
            else:
                continue
            for module, name in names:
                if module.partition(".")[0] in EXAMPLE_MODULES:
                    continue
                try:
                    found = importlib.import_module(module)
                    if name is not None:
                        getattr(found, name)
                except (ImportError, AttributeError) as exc:
                    missing.append(f"{module} {name or ''}: {exc}")
                if module == "llm_cassettes" and name not in llm_cassettes.__all__:
                    missing.append(f"{name} is imported from llm_cassettes but not in __all__")
    assert not missing, f"{ids(doc)}: " + "; ".join(missing)


@pytest.mark.parametrize("doc", DOCS, ids=ids)
def test_names_and_files_the_docs_mention_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = []
    for dotted in set(_DOTTED.findall(text)):
        try:
            resolve(dotted)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{dotted}: {exc}")
    for source in set(_SOURCE_PATH.findall(text)):
        if not (REPO / source).is_file():
            missing.append(f"{source}: no such file")
    assert not missing, f"{ids(doc)}: " + "; ".join(missing)


def test_every_error_the_docs_name_can_be_imported_from_the_package() -> None:
    """What users are told to catch is public (vcrpy's and Python's own excepted)."""
    named = {name for doc in DOCS for name in _CAUGHT.findall(doc.read_text(encoding="utf-8"))}
    upstream = {"CannotOverwriteExistingCassetteException"}
    ours = {name for name in named if not hasattr(builtins, name) and name not in upstream}
    assert ours, "the docs name the errors users catch"
    assert ours <= set(llm_cassettes.__all__), sorted(ours - set(llm_cassettes.__all__))


def test_the_public_api_is_importable_and_documented() -> None:
    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    for name in llm_cassettes.__all__:
        assert getattr(llm_cassettes, name) is not None
        assert f"`{name}" in text or f"import {name}" in text or f"{name}(" in text, name
    from llm_cassettes.migrate import import_llama_stack, upgrade  # the documented module

    assert callable(import_llama_stack) and callable(upgrade)


def test_the_options_table_lists_every_option() -> None:
    table = (REPO / "docs" / "options.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`)? \|", table, re.MULTILINE))
    names = {name for pair in documented for name in pair if name}
    assert names == set(LLM_OPTIONS)
