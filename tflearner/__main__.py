"""``python -m tflearner [options]``: ``tflearner demo`` (see :mod:`tflearner.cli`)."""

import sys

from .demo import main

sys.exit(main())
