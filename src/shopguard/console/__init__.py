"""The web console at ``/console`` (see docs/console.md)."""

from shopguard.console.app import Console, build_console, install_console

__all__ = ["Console", "build_console", "install_console"]
