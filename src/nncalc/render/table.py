"""Kept only for the command line's imports: the console and progress bars now live in
:mod:`nncalc.notation.console`, and every page is written by :mod:`nncalc.notation`.

Nothing else imports this module; it goes once ``nncalc.cli`` imports from the new place.
"""

from __future__ import annotations

from nncalc.notation.console import make_console, progress_bytes, progress_callback

__all__ = ["make_console", "progress_bytes", "progress_callback"]
