"""smtpconsole: an interactive terminal SMTP console.

The package root contains the version only, so importing it loads no UI toolkit.
"""

__version__ = "0.1.0"
