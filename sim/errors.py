"""Errors a user can meet. The CLI prints them as one line and exits with the code they carry."""


class InputError(Exception):
    """Bad user input: the message names the file, the key or row, and what was expected.
    Exit code 2; nothing is written."""

    exit_code = 2


class CannotWrite(InputError):
    """The output cannot be written now (disk full, a folder turned read-only): exit code 3.
    What was finished before is kept, and the same command goes on from there."""

    exit_code = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (SIGINT): finished work is kept; exit code 143."""
