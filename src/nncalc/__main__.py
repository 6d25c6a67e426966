"""Allow ``python -m nncalc``."""

from nncalc.cli import main

if __name__ == "__main__":
    main()
