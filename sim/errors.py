"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""


class InputError(Exception):
    """Bad user input: the message names the file, the key or row, and what was expected."""
