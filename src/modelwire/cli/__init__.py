"""The ``modelwire`` command line (typer + rich)."""
