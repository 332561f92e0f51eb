"""Every variant starts from compiled bytecode, as an installed package does.

pip compiles a wheel's modules when it installs it, so vcrpy and pytest-recording come
with their ``.pyc`` files. An editable install, a revision exported onto ``PYTHONPATH``,
or any environment with ``PYTHONDONTWRITEBYTECODE=1`` (this workplace sets it) leaves
llm_cassettes to be compiled from source in every fresh process: 30-40 ms that are a cost
of how the benchmark found the package, not of the package.
"""

from __future__ import annotations

import compileall
from pathlib import Path


def compile_package(directory: Path) -> None:
    """Write the bytecode of every module under ``directory``, as pip does on install."""
    if not compileall.compile_dir(str(directory), quiet=1):
        raise SystemExit(f"could not compile {directory}")
