"""Headless subcommands of the ``medstation`` command line (one module each)."""
