"""The HTML notation: well-formed pages, the hand-worked numbers, MathML, escaping, and a real browser.

Documents are built by hand as the worked-solution builders shape them. Expected numbers are
worked by hand (checked against the math module below), never taken from nncalc's output.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nncalc.document import Column, Document, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Call, Chain, Derivative, Edge, Frac, Name, Neg, Num, Power, Product, Sigma, Sum, Word
from nncalc.notation.html import MathMLWriter, html_fragment, write_html

M = "{http://www.w3.org/1998/Math/MathML}"
CHROMIUM = shutil.which("chromium")
PDFTOTEXT = shutil.which("pdftotext")

# The course chain, worked by hand: x = 0.1; h1: w = 0.15, b = 0.4; o1: w = 0.45, b = 0.65.
Z1 = 0.15 * 0.1 + 0.4  # 0.415
A1 = 1 / (1 + math.exp(-Z1))  # 0.60228…
Z2 = 0.45 * A1 + 0.65  # 0.92102…
A2 = 1 / (1 + math.exp(-Z2))  # 0.71525…
HAND = ("0.1", "0.15", "0.4", "0.415", "0.6023", "0.45", "0.65", "0.9210", "0.7153")


def sigmoid_chain(z: Num, a: Num, last: str) -> Chain:
    """``a = σ(z) = 1 / (1 + e^−z) ≈ a``."""
    return Chain(
        (Name("a"), Call("σ", (z,)), Frac(Num(1.0), Sum((Num(1.0), Power(Name("e"), Neg(z))))), a),
        ("=", "=", last),
    )


def z_chain(w: str, x: Num, b: str, z: Num) -> Chain:
    """``z = w × x + b = z``."""
    return Chain((Name("z"), Sum((Product((Num(float(w), w), x), sign="×"), Num(float(b), b))), z), ("=", "="))


def forward_document(name: str = "tiny chain", neuron: str = "h1") -> Document:
    """The forward page of the course chain, as the builders shape it."""
    x = Num(0.1, "0.1")
    layer1 = (
        Heading(3, ("layer 1 (hidden) · sigmoid",)),
        Table((Column(("neuron",), numeric=False), Column(("z",)), Column(("a",))), ((neuron, Num(Z1), Num(A1)),)),
        Steps((Step((z_chain("0.15", x, "0.4", Num(Z1)), sigmoid_chain(Num(Z1), Num(A1), "=")), label=neuron),)),
    )
    # σ(0.9210) = 0.715246 shows as 0.7152, not 0.7153: the shown step only nearly gives a.
    layer2 = (
        Heading(3, ("layer 2 (output) · sigmoid",)),
        Table((Column(("neuron",), numeric=False), Column(("z",)), Column(("a",))), (("o1", Num(Z2), Num(A2)),)),
        Steps((Step((z_chain("0.45", Num(A1), "0.65", Num(Z2)), sigmoid_chain(Num(Z2), Num(A2), "≈")), label="o1"),)),
    )
    return Document(
        name,
        (
            Heading(1, (name,)),
            Heading(2, ("input: ", Chain((Name("x1"), x), ("=",)))),
            *layer1,
            *layer2,
            Note((Chain((Name("o1"), Num(A2)), ("=",)),), kind="output", lead="output:"),
        ),
    )


def grade_document() -> Document:
    """A grading page: one right value, one wrong, the wrong one worked out."""
    columns = (Column(("neuron",), False), Column(("",), False), Column(("yours",)), Column(("expected",)))
    rows = (
        ("h1", "z", Num(0.415), Num(Z1), Styled("✓ right", "right")),
        ("o1", "a", Num(0.7152), Num(A2), Styled("✗ wrong", "wrong")),
    )
    return Document(
        "tiny chain",
        (
            Heading(1, ("tiny chain",)),
            Heading(2, ("grading answers.txt for input ", Chain((Name("x1"), Num(0.1, "0.1")), ("=",)))),
            Heading(3, ("layer 2 (output) · sigmoid",)),
            Table((*columns, Column(("mark",), False)), rows),
            Note((Chain((Name("a", "o1"), Num(0.7152)), ("=",)),), kind="wrong", lead="first wrong value:"),
            Steps((Step((sigmoid_chain(Num(Z2), Num(A2), "≈"),), after=(", not 0.7152",)),)),
            Note(("3 right, 1 wrong",)),
        ),
    )


def fragment_tree(document: Document) -> ET.Element:
    """The fragment parsed as XML: it must be well-formed to parse at all."""
    return ET.fromstring(html_fragment(document))


def page(document: Document) -> str:
    out = io.StringIO()
    write_html(document, out, standalone=True)
    return out.getvalue()


def math_of(node) -> ET.Element:
    """One expression or chain as MathML, parsed (a ``<math>`` root around what the writer gives)."""
    writer = MathMLWriter(4)
    body = writer.chain(node) if isinstance(node, Chain) else writer.write(node)
    return ET.fromstring(writer.math(body))


def texts(element: ET.Element, tag: str) -> list[str]:
    """The text of every ``tag`` element under ``element`` (MathML tags by their local name)."""
    return ["".join(e.itertext()) for e in element.iter() if e.tag in (tag, M + tag)]


def relations(math: ET.Element) -> list[str]:
    """The relation signs of a chain: the ``<mo>`` of =, ≈ or ← directly under ``<math>``."""
    return [e.text for e in math if e.tag == M + "mo" and e.text in ("=", "≈", "←")]


class StrictParser(HTMLParser):
    """An HTML parser that fails on any unclosed, stray or misnested tag; collects the text pieces."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.pieces: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.doctype = ""

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1] != "style" and data.strip():
            self.pieces.append(data.strip())


def parsed(markup: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(markup)
    parser.close()
    assert parser.open == [], f"left open: {parser.open}"
    return parser


# -- the hand-worked values ---------------------------------------------------------------------


def test_the_hand_worked_values_are_the_chains_values():
    assert f"{Z1:.3f}" == "0.415"
    assert f"{A1:.4f}" == "0.6023"
    assert f"{Z2:.4f}" == "0.9210"
    assert f"{A2:.4f}" == "0.7153"
    # σ(0.9210) from the shown z is 0.71525 rounded down: the o1 chain says ≈
    assert f"{1 / (1 + math.exp(-0.9210)):.4f}" == "0.7152"


# -- structure ----------------------------------------------------------------------------------


def test_the_fragment_is_one_well_formed_div_with_its_own_scoped_style():
    root = fragment_tree(forward_document())
    assert root.tag == "div" and root.get("class") == "nncalc"
    style = root.find("style")
    assert style is not None
    selectors = [rule.split("{")[0] for rule in style.text.strip().splitlines()]
    assert all(part.strip().startswith(".nncalc") for s in selectors for part in s.split(","))
    assert root.find(".//script") is None


def test_the_standalone_page_is_a_complete_well_formed_document():
    markup = page(forward_document())
    parser = parsed(markup)
    assert parser.doctype.lower() == "doctype html"
    tags = dict(parser.tags)
    assert tags["html"]["lang"] == "en"
    assert any(tag == "meta" and attrs.get("charset") == "utf-8" for tag, attrs in parser.tags)
    assert re.search(r"<title>tiny chain</title>", markup)
    assert '<div class="nncalc">' in markup


def test_a_page_without_a_title_still_has_one_and_an_empty_heading_writes_nothing():
    document = Document("", (Heading(1, ("",)), Note(("hello",))))
    markup = page(document)
    assert "<title>nncalc</title>" in markup
    assert "<h1" not in markup


def test_headings_take_their_level_and_a_class():
    root = fragment_tree(forward_document())
    assert "".join(root.find("h1").itertext()) == "tiny chain"
    assert root.find("h1").get("class")
    h2 = root.find("h2")
    assert h2.get("class") and h2.text == "input: "
    assert texts(h2, "mi") == ["x1"] and texts(h2, "mn") == ["0.1"]
    assert [h.text for h in root.findall("h3")] == ["layer 1 (hidden) · sigmoid", "layer 2 (output) · sigmoid"]


def test_every_number_the_document_holds_appears_in_the_page():
    pieces = parsed(page(forward_document())).pieces
    for number in HAND:
        assert number in pieces, number


def test_tables_have_a_header_and_right_aligned_numeric_columns():
    root = fragment_tree(forward_document())
    table = root.find("table")
    assert [th.text for th in table.find("thead").iter("th")] == ["neuron", "z", "a"]
    assert [th.get("class") for th in table.iter("th")] == [None, "num", "num"]
    (row,) = table.find("tbody").findall("tr")
    assert [td.text for td in row] == ["h1", "0.415", "0.6023"]
    assert [td.get("class") for td in row] == [None, "num", "num"]


def test_table_numbers_are_shown_at_the_documents_precision_with_an_ascii_hyphen():
    table = Table((Column(("v",)),), ((Num(A1),), (Num(-0.5),), (Num(1.234e-05),)))
    root = fragment_tree(Document("t", (table,), precision=2))
    assert [td.text for td in root.iter("td")] == ["0.60", "-0.5", "1.2e-05"]


def test_table_cells_may_be_formulas_and_styled_words():
    root = fragment_tree(grade_document())
    rows = root.find("table").find("tbody").findall("tr")
    spans = [row[-1].find("span") for row in rows]
    assert [(s.get("class"), s.text) for s in spans] == [("right", "✓ right"), ("wrong", "✗ wrong")]
    formula = Table((Column(("w",), False),), ((Edge("w", "h1", "o1"),),))
    cell = fragment_tree(Document("t", (formula,))).find(".//td")
    assert texts(cell, "mi") == ["w", "h1", "o1"]


def test_a_labelled_step_writes_its_label_then_its_chains_one_under_another():
    root = fragment_tree(forward_document())
    steps = root.find("ul")
    assert steps.get("class") == "steps"
    (item,) = steps.findall("li")
    label, chains = list(item)
    assert label.text == "h1" and label.get("class") == "label"
    lines = [line.find(M + "math") for line in chains]
    assert [texts(m, "mn") for m in lines] == [["0.15", "0.1", "0.4", "0.415"], ["0.415", "1", "1", "0.415", "0.6023"]]


def test_an_unlabelled_step_writes_its_chains_on_one_line_and_its_after_text_last():
    update = Chain(
        (Name("w", mark="prime"), Sum((Num(0.4, "0.40"), Neg(Product((Num(0.5), Num(0.0822)))))), Num(0.3589)),
        ("=", "="),
    )
    grad = Chain((Derivative(Name("L"), Edge("w", "h1", "o1")), Product((Name("δ", "o1"), Name("a", "h1")))), ("=",))
    document = Document("t", (Steps((Step((grad, update), after=(", done",)),)),))
    item = fragment_tree(document).find(".//li")
    (line,) = list(item)
    assert len(line.findall(f".//{M}math")) == 2
    assert "".join(line.itertext()).endswith(", done")
    assert "".join(line.itertext()).index("0.3589") < "".join(line.itertext()).index(", done")


def test_the_grade_steps_after_text_follows_the_chain():
    item = fragment_tree(grade_document()).find(".//li")
    words = "".join(item.itertext())
    assert words.endswith("0.7153, not 0.7152")


def test_a_note_is_a_paragraph_of_its_kind_with_its_lead_first():
    root = fragment_tree(grade_document())
    notes = root.findall("p")
    assert [n.get("class") for n in notes] == ["note wrong", "note info"]
    first = notes[0]
    assert first[0].tag == "strong" and first[0].text == "first wrong value:"
    assert texts(first, "mn") == ["0.7152"]
    assert "".join(notes[1].itertext()) == "3 right, 1 wrong"


def test_an_unknown_kind_falls_back_to_a_known_class():
    root = fragment_tree(Document("t", (Note(("x",), kind='x" onclick="y'), Note((Styled("s", "bogus"),)))))
    assert [n.get("class") for n in root.findall("p")] == ["note info", "note info"]
    assert root.find(".//span").get("class") == "strong"


# -- MathML -------------------------------------------------------------------------------------


def test_a_chain_says_approximately_exactly_where_the_chain_does():
    root = fragment_tree(forward_document())
    maths = [line.find(M + "math") for line in root.iter("div") if line.find(M + "math") is not None]
    assert [relations(m) for m in maths] == [["=", "="], ["=", "=", "="], ["=", "="], ["=", "=", "≈"]]
    assert "≈" not in html_fragment(Document("t", (Steps((Step((z_chain("0.15", Num(0.1), "0.4", Num(Z1)),)),)),)))


def test_inline_chains_are_inline_maths_and_step_chains_are_drawn_full_size():
    root = fragment_tree(forward_document())
    heading_math = root.find("h2").find(M + "math")
    assert heading_math.get("display") == "inline" and heading_math.get("displaystyle") is None
    step_math = root.find(".//li").find(f".//{M}math")
    assert step_math.get("displaystyle") == "true"


def test_a_negative_number_is_a_minus_sign_and_its_number_in_parentheses_after_an_operator():
    number, times, group = math_of(Product((Num(0.4), Num(-0.5))))
    assert (number.tag, number.text, times.text) == (M + "mn", "0.4", "·")
    opening, negative, closing = group
    assert (opening.text, closing.text) == ("(", ")")
    assert [(e.tag, e.text) for e in negative] == [(M + "mo", "−"), (M + "mn", "0.5")]
    first = math_of(Sum((Num(-0.5), Num(1.0))))
    assert texts(first, "mo") == ["−", "+"] and "(" not in texts(first, "mo")


def test_no_ascii_hyphen_is_written_as_a_minus_in_maths():
    document = grade_document()
    maths = fragment_tree(document).iter(M + "math")
    for m in maths:
        for part in texts(m, "mn") + texts(m, "mo"):
            assert "-" not in part


def test_subtraction_and_negation_use_the_minus_sign():
    root = math_of(Sum((Num(1.0), Neg(Num(0.5)))))
    assert texts(root, "mo") == ["−"]
    root = math_of(Power(Name("e"), Neg(Num(0.415, "0.415"))))
    (power,) = list(root)
    assert power.tag == M + "msup"
    base, exponent = list(power)
    assert texts(base, "mi") == ["e"] and texts(exponent, "mo") == ["−"] and texts(exponent, "mn") == ["0.415"]


def test_a_number_in_scientific_notation_is_written_as_a_power_of_ten():
    root = math_of(Num(1.234e-05))
    assert texts(root, "mn") == ["1.234", "10", "5"]
    assert texts(root, "mo") == ["×", "−"]
    assert root.find(f".//{M}msup") is not None
    product = math_of(Product((Num(0.5), Num(1.234e-05))))
    assert texts(product, "mo")[:2] == ["·", "("]


def test_every_kind_of_node_has_its_mathml_element():
    fraction = math_of(Frac(Num(1.0), Sum((Num(1.0), Power(Name("e"), Neg(Num(0.4)))))))
    assert fraction[0].tag == M + "mfrac"
    assert math_of(Call("sqrt", (Num(2.0),))).find(M + "msqrt") is not None
    call = math_of(Call("σ", (Num(0.415, "0.415"),)))
    assert texts(call, "mi") == ["σ"] and texts(call, "mo") == ["(", ")"]
    assert texts(math_of(Call("max", (Num(0.0), Name("z")))), "mo") == ["(", ",", ")"]
    assert texts(math_of(Word("otherwise")), "mtext") == ["\u00a0otherwise\u00a0"]
    subscript = math_of(Name("a", "o1"))
    assert subscript[0].tag == M + "msub" and texts(subscript, "mi") == ["a", "o1"]
    primed = math_of(Name("w", "h1", mark="prime"))
    assert primed[0].tag == M + "msub" and texts(primed[0][0], "mi") == ["w"] and texts(primed[0][0], "mo") == ["′"]
    assert texts(primed[0][1], "mi") == ["h1"]
    assert math_of(Name("m", mark="hat")).find(M + "mover") is not None
    edge = math_of(Edge("w", "h1", "o1"))
    assert texts(edge, "mo") == ["→"]
    derivative = math_of(Derivative(Name("L"), Name("b")))
    assert derivative[0].tag == M + "mfrac" and texts(derivative, "mi") == ["∂", "L", "∂", "b"]
    sigma = math_of(Sigma("i", Product((Name("w", "i"), Name("x", "i")))))
    assert texts(sigma, "mo")[0] == "∑"
    update = math_of(Chain((Name("w"), Num(0.3589)), ("←",)))
    assert relations(update) == ["←"]


# -- escaping -----------------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script>&"


def hostile_document() -> Document:
    """A document whose every word from a file tries to be markup."""
    return Document(
        HOSTILE,
        (
            Heading(1, (HOSTILE,)),
            Table((Column((HOSTILE,), False),), ((HOSTILE,), (Styled(HOSTILE, "right"),), (Name(HOSTILE),))),
            Steps((Step((Chain((Name("z", HOSTILE), Num(1.0, HOSTILE)), ("=",)),), label=HOSTILE, after=(HOSTILE,)),)),
            Note((HOSTILE,), lead=HOSTILE),
        ),
    )


@pytest.mark.parametrize("standalone", [False, True])
def test_markup_in_a_name_is_escaped_everywhere(standalone):
    out = io.StringIO()
    write_html(hostile_document(), out, standalone=standalone)
    markup = out.getvalue()
    assert "<script" not in markup.lower()
    assert markup.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;") == 11 + standalone
    pieces = parsed(markup).pieces
    assert pieces.count(HOSTILE) == 11 + standalone


def test_control_characters_from_a_file_are_made_visible():
    name = "h\x1b]0;pwned\x07\u202e1"
    document = Document(name, (Heading(1, (name,)), Table((Column(("n",), False),), ((name,),)), Note((Name(name),))))
    out = io.StringIO()
    write_html(document, out, standalone=True)
    markup = out.getvalue()
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", markup)
    shown = "h␛]0;pwned␇<U+202E>1"
    assert parsed(markup).pieces.count(shown) == 4  # title, heading, cell, formula


# -- nothing fetched ----------------------------------------------------------------------------


def test_a_standalone_page_refers_to_nothing_outside_itself():
    markup = page(forward_document()) + page(grade_document())
    assert markup.count('xmlns="http://www.w3.org/1998/Math/MathML"') > 0
    rest = markup.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "").lower()
    for reference in ("http://", "https://", "src=", "href=", "url(", "@import", "<script", "<link", "//"):
        assert reference not in rest, reference
    assert "default-src 'none'" in markup  # and the page forbids itself any fetch


# -- a real browser -----------------------------------------------------------------------------


def run_chromium(page_path: Path, work: Path, output: str) -> None:
    """Render ``page_path`` headless with a fresh profile; kill the whole browser after 60 s."""
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-pdf-header-footer",
        f"--user-data-dir={work / 'profile'}",
        output,
        page_path.as_uri(),
    ]
    env = {**os.environ, "HOME": str(work), "XDG_CONFIG_HOME": str(work), "XDG_CACHE_HOME": str(work)}
    with open(work / "chromium.log", "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=log, env=env, start_new_session=True)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail("chromium did not finish within 60 s")
        finally:
            with contextlib.suppress(ProcessLookupError):  # any helper process the browser left behind
                os.killpg(process.pid, signal.SIGKILL)
    log_text = (work / "chromium.log").read_text(errors="replace")
    assert process.returncode == 0, log_text[-2000:]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package: chromium)")
@pytest.mark.parametrize(
    ("document", "expected"),
    [(forward_document(), HAND), (grade_document(), ("0.1", "0.415", "0.7152", "0.7153", "0.9210"))],
    ids=["forward", "grade"],
)
def test_chromium_prints_the_standalone_page_with_every_value(tmp_path, document, expected):
    page_path = tmp_path / "page.html"
    page_path.write_text(page(document), encoding="utf-8")
    pdf = tmp_path / "page.pdf"
    run_chromium(page_path, tmp_path, f"--print-to-pdf={pdf}")
    assert pdf.read_bytes().startswith(b"%PDF-")
    if PDFTOTEXT is None:
        pytest.skip("pdftotext is not installed (Debian package: poppler-utils); the PDF was made")
    done = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True)
    words = done.stdout
    for number in expected:
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", words), (number, words)
    assert "tiny chain" in words


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package: chromium)")
def test_backward_as_a_standalone_page_prints_in_a_browser_with_every_value(tmp_path, nncalc):
    """nncalc backward ... -o step.html --standalone: opened in headless Chromium with nothing fetched,
    the printed page holds the classic example's values (worked by hand in its tutorial)."""
    from tests.conftest import CONFIGS

    page_path = tmp_path / "step.html"
    args = ["backward", CONFIGS / "classic-2-2-2.yaml", "-i", "0.05,0.10", "-t", "0.01,0.99", "-o", page_path]
    assert nncalc(*args, "--standalone").code == 0
    pdf = tmp_path / "step.pdf"
    run_chromium(page_path, tmp_path, f"--print-to-pdf={pdf}")
    if PDFTOTEXT is None:
        pytest.skip("pdftotext is not installed (Debian package: poppler-utils); the PDF was made")
    words = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    for number in ("0.3775", "0.5933", "1.1059", "0.7514", "0.2984", "0.1385", "0.0822", "0.3589", "0.5308"):
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", words), (number, words[:3000])
