"""``python -m llm_cassettes``: the same as the ``llm-cassettes`` command."""

import os
import sys

# ``python -m`` puts the current directory first on sys.path (unless -P). Reviewing a
# checkout's cassettes must not import the checkout's code: a directory called
# ``anthropic/`` there would shadow the SDK (``providers.import_installed`` refuses it too).
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from .cli import main  # after the path is made safe

sys.exit(main())
