"""``python -m redtrail.cli``: the ``redtrail`` command."""

import sys

from redtrail.cli.main import main

sys.exit(main())
