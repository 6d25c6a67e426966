"""``python -m nncalc`` and the ``nncalc`` console script start here."""

import sys


def run() -> None:
    """Run the command line; Ctrl-C at any moment, even while modules are still loading,
    ends quietly with 130 as a shell reports it, never with a traceback."""
    try:
        from nncalc.cli import main

        main()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    run()
