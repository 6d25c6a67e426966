"""``python -m nncalc`` and the ``nncalc`` console script start here."""

import os
import signal
import sys


def _stop_while_loading(signum, frame) -> None:
    """Ctrl-C before any command has started: nothing is open or half-written, so just stop."""
    os._exit(130)


def run() -> None:
    """Run the command line; Ctrl-C at any moment, even while modules are still loading,
    ends quietly with 130 as a shell reports it, never with a traceback.

    While modules load, a KeyboardInterrupt could surface inside the import machinery's own
    locks, where Python can only print it; so until the command line is loaded, Ctrl-C ends
    the process at once. From then on it is an ordinary KeyboardInterrupt, which the command
    line turns into exit 130 after closing what it had open.
    """
    previous = signal.signal(signal.SIGINT, _stop_while_loading)
    try:
        from nncalc.cli import main
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    run()
