"""Notations: each writes a ``nncalc.document.Document`` in its own way, and computes nothing.

``write_document`` is the one place that picks the writer for a format; a new notation is
one module with one writer, named here. Each writer's module is imported only when used.
"""

from __future__ import annotations

from typing import TextIO

from nncalc.document import Document

DOCUMENT_FORMATS = ("table", "markdown", "latex", "html")


def write_document(document: Document, fmt: str, stream: TextIO, standalone: bool = False) -> None:
    """Write ``document`` to ``stream`` as ``fmt`` (one of ``DOCUMENT_FORMATS``).

    ``standalone`` makes LaTeX a complete document for pdflatex and HTML a complete page.
    """
    if fmt == "table":
        from nncalc.notation.terminal import write_terminal

        write_terminal(document, stream)
    elif fmt == "markdown":
        from nncalc.notation.markdown import write_markdown

        write_markdown(document, stream)
    elif fmt == "latex":
        from nncalc.notation.latex import write_latex

        write_latex(document, stream, standalone=standalone)
    elif fmt == "html":
        from nncalc.notation.html import write_html

        write_html(document, stream, standalone=standalone)
    else:
        raise ValueError(f"no notation {fmt!r}")
