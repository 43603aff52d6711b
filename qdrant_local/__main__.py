"""``python -m qdrant_local COMMAND``: the same as the ``qdrant-local`` console script."""

import sys

from .cli import main

sys.exit(main())
