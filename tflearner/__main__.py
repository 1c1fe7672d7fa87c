"""``python -m tflearner``: the README's main job (see :mod:`tflearner.demo`)."""

import sys

from .demo import main

sys.exit(main())
