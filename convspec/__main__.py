"""``python -m convspec`` (``python -m convspec`` in a checkout): the command line, convspec/cli.py."""

import sys

from convspec.cli import main

sys.exit(main())
