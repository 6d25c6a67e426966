"""nncalc: neural-network arithmetic, step by step, as a person writes it by hand."""

__version__ = "0.1.0"
