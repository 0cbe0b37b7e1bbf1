"""Run the console with ``python -m smtpconsole``."""

import sys

from smtpconsole.cli import main

sys.exit(main())
