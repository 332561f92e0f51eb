"""Reviewing cassettes in pull requests: ``show``, ``check`` and ``diff``.

A reviewer needs to see what the model was asked and answered, to know that
nothing secret or stale is committed, and what a re-recording changed.

* ``_transcript``: a cassette as a conversation (providers read their own traffic);
* ``_render``: transcripts for a terminal or a pull-request comment (Markdown);
* ``_show``, ``_check``, ``_diff``: one module per command, its options and its work;
* ``_git``: the cassettes changed since a revision, for ``diff --git``;
* ``_collect``: the pytest plugin ``check --orphans`` runs to learn which cassettes
  the collected tests use.
"""

from ._check import add_check_command, check_file, check_text, secret_rules
from ._diff import add_diff_command
from ._show import add_show_command

__all__ = [
    "add_check_command",
    "add_diff_command",
    "add_show_command",
    "check_file",
    "check_text",
    "secret_rules",
]
