"""``python -m llm_cassettes``: the same as the ``llm-cassettes`` command."""

import sys

from .cli import main

sys.exit(main())
