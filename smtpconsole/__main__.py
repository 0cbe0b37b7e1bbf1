"""Run the console with ``python -m smtpconsole``."""

from smtpconsole.cli import entry

entry()
