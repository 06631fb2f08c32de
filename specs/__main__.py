"""``python -m convspec`` (``python -m specs`` in a checkout): the command line, specs/cli.py."""

import sys

from .cli import main

sys.exit(main())
