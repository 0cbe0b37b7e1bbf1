"""Screens of the console: main, connect, certificate, composer, AUTH challenge and help."""
