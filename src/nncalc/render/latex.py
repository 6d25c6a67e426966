"""LaTeX derivations: each layer as an ``align*`` block, ``z`` and ``a`` per neuron, as on paper.

Names from the file are escaped for text mode and shown as ``z_{\\text{h1}}``; numbers keep
their written form (``1/3`` becomes ``\\tfrac{1}{3}``, ``1e-3`` becomes ``1 \\times 10^{-3}``).
The Markdown renderer reuses :func:`z_latex` and :func:`a_latex` for its inline math.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.render.derivation import MAX_TERMS, NeuronSteps, TextNumbers, layer_steps
from nncalc.render.numbers import show

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",  # so a fragment also reads right in a document left in OT1
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LIGATURE_STARTS = "-`',!?"  # --, ``, '', ,, !` and ?` would become one glyph

# What pdflatex's utf8 input with T1/TS1 fonts typesets; other characters stop it with an error.
_UNSUPPORTED_LATIN = {0x126, 0x127, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167, 0x17F}
_PUNCTUATION = set("–—‘’“”†‡•…‰‹›€™←↑→↓№℃")
_GREEK_NAMES = (
    r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi \pi \rho "
    r"\sigma \varsigma \tau \upsilon \varphi \chi \psi \omega \Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma "
    r"\Upsilon \Phi \Psi \Omega"
)
_GREEK = dict(zip("αβγδεζηθικλμνξπρσςτυφχψωΓΔΘΛΞΠΣΥΦΨΩ", _GREEK_NAMES.split(" "), strict=True))
_SYMBOLS = {"−": "-", "ο": "o", "∑": r"\ensuremath{\Sigma}", "′": "'"}

LATEX_RELATION = {"=": "=", "≈": r"\approx"}  # a step's shown result: exactly, or nearly, from its shown numbers
_NUMBER = re.compile(r"(?P<sign>[+-]?)(?:(?P<p>\d+)/(?P<q>\d+)|(?P<m>(?:\d+(?:\.\d*)?|\.\d+))(?:[eE](?P<e>[+-]?\d+))?)")
_NON_FINITE = {"inf": r"\infty", "infinity": r"\infty", "nan": r"\mathrm{NaN}"}


def escape_text(text: str) -> str:
    """``text`` as LaTeX text mode typesets it literally: specials escaped, no ligatures, no stray Unicode.

    Characters pdflatex cannot typeset become Greek math letters where they are Greek, else ``U+XXXX``.
    """
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif code < 0x20 or code == 0x7F or ch in "\u2028\u2029":
            out.append(" ")
        elif code < 0x7F:
            following = text[i + 1 : i + 2]
            ligature = ch in _LIGATURE_STARTS and following and (following == ch or (ch in "!?" and following == "`"))
            out.append(ch + "{}" if ligature else ch)
        elif (0xA0 <= code <= 0x17F and code not in _UNSUPPORTED_LATIN) or ch in _PUNCTUATION:
            out.append(ch)
        elif ch in _GREEK:
            out.append(rf"\ensuremath{{{_GREEK[ch]}}}")
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
        else:
            out.append(rf"\texttt{{U+{code:04X}}}")
    return "".join(out)


def name_math(name: str) -> str:
    """A name from the file inside math mode: ``\\text{h\\_1}``."""
    return rf"\text{{{escape_text(name)}}}"


def number_latex(text: str) -> str:
    """A number's text in math mode: ``-\\tfrac{1}{2}``, ``1.5 \\times 10^{-3}``, ``\\infty``; a leading ``+`` drops."""
    written = text.strip()
    if written.lstrip("+-").lower() in _NON_FINITE:
        body = _NON_FINITE[written.lstrip("+-").lower()]
        return "-" + body if written.startswith("-") and body == r"\infty" else body
    match = _NUMBER.fullmatch(written)
    if match is None:
        return name_math(written)
    sign = "-" if match["sign"] == "-" else ""
    if match["p"] is not None:
        return rf"{sign}\tfrac{{{match['p']}}}{{{match['q']}}}"
    if match["e"] is not None:
        return rf"{sign}{match['m']} \times 10^{{{int(match['e'])}}}"
    return sign + match["m"]


def _paren(latex: str) -> str:
    """A negative number, or one in powers of ten, in parentheses where it follows an operator."""
    return f"({latex})" if latex.startswith("-") or r"\times" in latex else latex


def _signed(term: str, first: bool) -> str:
    if first:
        return term
    if term.startswith("-"):
        return f" - {term[1:]}"
    return f" + {term}"


def z_latex(step: NeuronSteps, symbol: str = "z", align: bool = False) -> str:
    """``z = 0.15 \\cdot 0.1 + 0.4 = 0.415`` (``z &= …`` with ``align``), as ``z_text`` writes it."""
    if len(step.terms) > MAX_TERMS:
        body = r"\sum_{i} w_{i} x_{i}" + (" + b" if step.bias is not None else "")
    else:
        parts = [
            _signed(rf"{number_latex(w)} \cdot {_paren(number_latex(x))}", k == 0)
            for k, (w, x) in enumerate(step.terms)
        ]
        if step.bias is not None:
            parts.append(_signed(number_latex(step.bias), False))
        body = "".join(parts)
    return f"{symbol} {'&' if align else ''}= {body} {LATEX_RELATION[step.z_is]} {number_latex(step.z)}"


def a_latex(step: NeuronSteps, symbol: str = "a", align: bool = False) -> str:
    """``a = \\sigma(0.415) = \\frac{1}{1 + e^{-0.415}} = 0.6023``, as ``a_text`` writes it."""
    z = number_latex(step.z)
    formula = step.activation.latex(z, TextNumbers(step.layer_z, number_latex))  # read only by softmax
    a = number_latex(step.a)
    eq = "&=" if align else "="
    if formula == a:
        return f"{symbol} {eq} {a}"
    return f"{symbol} {eq} {formula} {LATEX_RELATION[step.a_is]} {a}"


def _assignments(names: Sequence[str], values: Sequence[str]) -> str:
    return ", ".join(f"${name_math(n)} = {number_latex(v)}$" for n, v in zip(names, values, strict=True))


PREAMBLE = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}% scalable fonts where installed
\usepackage{amsmath}
\allowdisplaybreaks
\begin{document}
"""


def write_latex(
    stream: TextIO,
    network: Network,
    trace: Trace,
    input_texts: Sequence[Sequence[str]] | None,
    precision: int = 4,
    standalone: bool = False,
) -> None:
    """Every sample's forward pass as LaTeX: headings, one ``align*`` per layer, then the output.

    Without ``standalone`` the result is a fragment for a document that loads amsmath;
    with it, a whole document that pdflatex compiles.
    """
    p = precision
    samples = trace.inputs.shape[0]
    if standalone:
        stream.write(PREAMBLE)
    if network.name:
        stream.write(rf"\section*{{{escape_text(network.name)}}}" + "\n")
    for s in range(samples):
        texts = tuple(input_texts[s]) if input_texts is not None else None
        shown = texts or tuple(show(v, p) for v in trace.inputs[s])
        label = f"sample {s + 1} of {samples}" if samples > 1 else "input"
        stream.write(f"\n\\subsection*{{{label}: {_assignments(network.inputs, shown)}}}\n")
        for index, layer in enumerate(network.layers):
            title = rf"{escape_text(network.layer_label(index))} $\cdot$ {escape_text(layer.activation.describe())}"
            stream.write(f"\n\\subsubsection*{{{title}}}\n\\begin{{align*}}\n")
            lines = []
            for step in layer_steps(network, trace, index, s, texts, p):
                name = name_math(step.neuron)
                lines.append(z_latex(step, f"z_{{{name}}}", align=True))
                lines.append(a_latex(step, f"a_{{{name}}}", align=True))
            stream.write(" \\\\\n".join(lines) + "\n\\end{align*}\n")
        outputs = [show(v, p) for v in trace.output[s]]
        stream.write(f"\n\\noindent output: {_assignments(network.outputs, outputs)}\n")
    if standalone:
        stream.write("\n\\end{document}\n")
