"""Practice SMTP server on 127.0.0.1 that behaves like a strict provider, and lessons for it."""
