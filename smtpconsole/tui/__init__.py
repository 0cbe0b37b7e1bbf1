"""Textual front end: ``smtpconsole.tui.app.run`` opens the console on a live session."""
