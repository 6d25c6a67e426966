"""Network diagrams: DOT and Mermaid text parsed back, and Graphviz's own reading and drawing of it.

Expected weights, biases and activations are copied from the network files by hand; expected z
and a come from a plain per-neuron computation here, never from nncalc's engine or the diagram.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest

from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.loader import load_network, parse_network
from nncalc.render import diagram
from nncalc.render.diagram import render_graphviz, to_dot, to_mermaid
from nncalc.render.numbers import show
from tests.conftest import CONFIGS

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed (apt-get install graphviz)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


# -- what each network should show, written out from its file ------------------------------------


@dataclass
class Expected:
    """A network as its file writes it: columns of names, weights by (source, target), biases."""

    columns: list[list[str]]  # inputs first, then each layer's neurons
    weights: dict[tuple[str, str], str]  # (source name, target name) -> weight text as written
    biases: dict[str, str]
    activations: dict[str, str]  # neuron -> activation as described
    functions: list  # per layer: z list -> a list (independent of nncalc)

    def values(self, x: list[float]) -> dict[str, tuple[float, float]]:
        """Each neuron's (z, a) for inputs ``x``, computed plainly neuron by neuron."""
        out = {}
        previous = dict(zip(self.columns[0], x, strict=True))
        for names, function in zip(self.columns[1:], self.functions, strict=True):
            zs = [
                sum(_number(self.weights[(s, n)]) * v for s, v in previous.items()) + _number(self.biases[n])
                for n in names
            ]
            a_s = function(zs)
            out.update({n: (z, a) for n, z, a in zip(names, zs, a_s, strict=True)})
            previous = dict(zip(names, a_s, strict=True))
        return out


def _number(text: str) -> float:
    if "/" in text:
        top, bottom = text.split("/")
        return float(top) / float(bottom)
    return float(text)


def _each(f):
    return lambda zs: [f(z) for z in zs]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _softmax(zs: list[float]) -> list[float]:
    m = max(zs)
    e = [math.exp(z - m) for z in zs]
    return [v / sum(e) for v in e]


CLASSIC = Expected(
    columns=[["i1", "i2"], ["h1", "h2"], ["o1", "o2"]],
    weights={
        ("i1", "h1"): "0.15",
        ("i2", "h1"): "0.20",
        ("i1", "h2"): "0.25",
        ("i2", "h2"): "0.30",
        ("h1", "o1"): "0.40",
        ("h2", "o1"): "0.45",
        ("h1", "o2"): "0.50",
        ("h2", "o2"): "0.55",
    },
    biases={"h1": "0.35", "h2": "0.35", "o1": "0.60", "o2": "0.60"},
    activations=dict.fromkeys(["h1", "h2", "o1", "o2"], "sigmoid"),
    functions=[_each(_sigmoid), _each(_sigmoid)],
)

KERAS = Expected(  # the file gives a kernel (one row per input): x1 -> h1 is kernel[0][0], x1 -> h2 kernel[0][1]
    columns=[["x1", "x2", "x3"], ["h1", "h2"], ["cat", "dog", "bird"]],
    weights={
        ("x1", "h1"): "0.2",
        ("x1", "h2"): "-0.5",
        ("x2", "h1"): "0.1",
        ("x2", "h2"): "0.4",
        ("x3", "h1"): "-0.3",
        ("x3", "h2"): "0.25",
        ("h1", "cat"): "1.0",
        ("h2", "cat"): "-1.0",
        ("h1", "dog"): "0.5",
        ("h2", "dog"): "0.5",
        ("h1", "bird"): "-1/2",
        ("h2", "bird"): "3/4",
    },
    biases={"h1": "0.1", "h2": "-0.1", "cat": "0", "dog": "0.1", "bird": "-0.1"},
    activations={
        "h1": "leaky_relu(negative_slope=0.3)",
        "h2": "leaky_relu(negative_slope=0.3)",
        "cat": "softmax",
        "dog": "softmax",
        "bird": "softmax",
    },
    functions=[_each(lambda z: z if z > 0 else 0.3 * z), _softmax],
)

AWKWARD_YAML = r"""
name: 'odd "names" \ <b>{x}</b> & #35; `tick`'
inputs: ['a"b', '<x>', 'back\slash\N', '&amp;']
layers:
  - name: '{y} "layer" <1>'
    neurons: ['{y}', 'n\n', 'c#quot;d', 'end']
    weights:
      - [0.1, 0.2, 0.3, 0.4]
      - [-1, -2, -3, -4]
      - [1/3, 2/3, 1, 4/3]
      - [1e-1, 2e-1, 3e-1, 4e-1]
    biases: [0.5, -0.5, 1/4, 0]
    activation: tanh
  - name: 'out|put'
    neurons: ['o "1"', 'x--o', '%%']
    weights:
      - [1, 2, 3, 4]
      - [0.5, -0.5, 0.25, -0.25]
      - [2, 0, -2, 1/8]
    biases: 0.1
    activation: identity
"""

_IN = ['a"b', "<x>", "back\\slash\\N", "&amp;"]
_HID = ["{y}", "n\\n", "c#quot;d", "end"]
_OUT = ['o "1"', "x--o", "%%"]
_W1 = [
    ["0.1", "0.2", "0.3", "0.4"],
    ["-1", "-2", "-3", "-4"],
    ["1/3", "2/3", "1", "4/3"],
    ["1e-1", "2e-1", "3e-1", "4e-1"],
]
_W2 = [["1", "2", "3", "4"], ["0.5", "-0.5", "0.25", "-0.25"], ["2", "0", "-2", "1/8"]]
AWKWARD = Expected(
    columns=[_IN, _HID, _OUT],
    weights={
        **{(s, t): _W1[j][i] for j, t in enumerate(_HID) for i, s in enumerate(_IN)},
        **{(s, t): _W2[j][i] for j, t in enumerate(_OUT) for i, s in enumerate(_HID)},
    },
    biases={**dict(zip(_HID, ["0.5", "-0.5", "1/4", "0"], strict=True)), **dict.fromkeys(_OUT, "0.1")},
    activations={**dict.fromkeys(_HID, "tanh"), **dict.fromkeys(_OUT, "identity")},
    functions=[_each(math.tanh), _each(lambda z: z)],
)

CASES = {
    "classic": (lambda: load_network(CONFIGS / "classic-2-2-2.yaml"), CLASSIC, [[0.05, 0.10], [1.0, -1.0]]),
    "keras": (lambda: load_network(CONFIGS / "keras-kernel.yaml"), KERAS, [[0.3, 0.3, 0.3], [1.0, -2.0, 0.5]]),
    "awkward": (lambda: parse_network(AWKWARD_YAML), AWKWARD, [[0.05, 0.10, -1.0, 2.0], [-0.5, 0.25, 1.5, -2.0]]),
}


def expected_labels(expected: Expected, x: list[float] | None, precision: int = 4) -> dict[str, list[str]]:
    """Every node's label lines, keyed by the neuron's (or input's) name."""
    labels = {}
    for i, name in enumerate(expected.columns[0]):
        labels[name] = [name if x is None else f"{name} = {show(x[i], precision)}"]
    values = expected.values(x) if x is not None else {}
    for names in expected.columns[1:]:
        for name in names:
            lines = [name, f"b = {expected.biases[name]}", expected.activations[name]]
            if x is not None:
                z, a = values[name]
                lines.append(f"z = {show(z, precision)}, a = {show(a, precision)}")
            labels[name] = lines
    return labels


def build(case: str, sample: int | None):
    """The network, what it should show, and (with a sample) the trace and that sample's inputs."""
    make, expected, batch = CASES[case]
    network = make()
    if sample is None:
        return network, expected, None, None
    return network, expected, forward(network, np.array(batch)), batch[sample]


# -- a small DOT reader, independent of the code under test -----------------------------------------

_DOT_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(->)|([A-Za-z_][A-Za-z_0-9]*|-?[0-9.]+)|([{}\[\];,=]))', re.S)


def _dot_unquote(token: str) -> str:
    """What Graphviz shows for a quoted DOT label: escapes, then HTML entities."""
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({'"': '"', "\\": "\\", "n": "\n", "l": "\n", "r": "\n"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return html.unescape("".join(out))


def _dot_tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        assert m, f"unreadable DOT at {text[pos : pos + 40]!r}"
        tokens.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return tokens


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]]  # id -> attributes (label unescaped)
    edges: list[tuple[str, str, dict[str, str]]]
    subgraphs: list[tuple[str, list[str], dict[str, str]]]  # name, node ids in order, its own attributes


def parse_dot(text: str) -> Dot:
    """Read the statements of a digraph: nodes, edges (chains split), subgraphs and their rank."""
    tokens = _dot_tokens(text)
    assert tokens[:3] == ["digraph", "network", "{"]
    assert tokens[-1] == "}"
    nodes, edges, subgraphs, stack = {}, [], [], []
    i = 3

    def value(tok: str) -> str:
        return _dot_unquote(tok) if tok.startswith('"') else tok

    def attributes(i: int) -> tuple[dict[str, str], int]:
        attrs = {}
        assert tokens[i] == "["
        i += 1
        while tokens[i] != "]":
            key, eq, val = tokens[i : i + 3]
            assert eq == "=", tokens[i : i + 3]
            attrs[key] = value(val)
            i += 3
            if tokens[i] == ",":
                i += 1
        return attrs, i + 1

    while i < len(tokens) - 1:
        tok = tokens[i]
        if tok == "subgraph":
            assert tokens[i + 2] == "{"
            subgraphs.append((tokens[i + 1], [], {}))
            stack.append(subgraphs[-1])
            i += 3
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok in ("graph", "node", "edge"):
            _, i = attributes(i + 1)
            i += tokens[i] == ";"
        elif tokens[i + 1] == "=":  # a subgraph's own attribute, e.g. rank=same
            stack[-1][2][tok] = value(tokens[i + 2])
            i += 3 + (tokens[i + 3] == ";")
        else:
            chain = [value(tok)]
            i += 1
            while tokens[i] == "->":
                chain.append(value(tokens[i + 1]))
                i += 2
            attrs = {}
            if tokens[i] == "[":
                attrs, i = attributes(i)
            assert tokens[i] == ";", f"statement not closed near {tokens[i - 3 : i + 2]}"
            i += 1
            if len(chain) == 1:
                assert chain[0] not in nodes, f"node {chain[0]} declared twice"
                nodes[chain[0]] = attrs
                if stack:
                    stack[-1][1].append(chain[0])
            else:
                edges.extend((a, b, attrs) for a, b in itertools.pairwise(chain))
    assert not stack
    return Dot(nodes, edges, subgraphs)


def by_name(labels_of_ids: dict[str, list[str]]) -> dict[str, str]:
    """Node id for each neuron name: the first line of its label (names are unique in the tests)."""
    names = {}
    for node_id, lines in labels_of_ids.items():
        name = lines[0].split(" = ")[0] if len(lines) == 1 else lines[0]
        assert name not in names, f"two nodes are called {name!r}"
        names[name] = node_id
    return names


def check_picture(expected, sample_x, labels, edges, columns, precision=4):
    """Same checks for any notation: labels per neuron, weight per edge, one column per layer in order."""
    want = expected_labels(expected, sample_x, precision)
    ids = by_name({k: v for k, v in labels.items() if k in {n for col in columns for n in col}})
    assert set(ids) == set(want)
    for name, lines in want.items():
        assert labels[ids[name]] == lines, name
    names_of = {node_id: name for name, node_id in ids.items()}
    got_edges = {}
    for source, target, label in edges:
        key = (names_of[source], names_of[target])
        assert key not in got_edges, f"edge {key} drawn twice"
        got_edges[key] = label
    assert got_edges == expected.weights
    assert [[names_of[node_id] for node_id in column] for column in columns] == expected.columns


# -- DOT --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sample", [None, 0, 1])
def test_dot_holds_every_weight_bias_activation_and_value(case, sample):
    """Each edge runs from the right source to the right target with its weight as written; each
    neuron shows its name, bias, activation and (with a trace) z and a of the chosen sample."""
    network, expected, trace, x = build(case, sample)
    dot = to_dot(network, trace, sample=sample or 0)
    check_picture(expected, x, *dot_picture(dot))
    assert "rankdir=LR" in dot


def dot_picture(dot: str):
    """Labels by node id, visible edges, and the neurons of each rank=same subgraph, in order."""
    parsed = parse_dot(dot)
    labels = {node_id: attrs["label"].split("\n") for node_id, attrs in parsed.nodes.items()}
    visible = [(s, t, attrs["label"]) for s, t, attrs in parsed.edges if attrs.get("style") != "invis"]
    neuron_ids = set(by_name({k: v for k, v in labels.items() if parsed.nodes[k].get("shape") != "plaintext"}).values())
    columns = []
    for _name, members, attrs in parsed.subgraphs:
        assert attrs.get("rank") == "same"
        columns.append([m for m in members if m in neuron_ids])
    assert all(m in {n for col in columns for n in col} for m in neuron_ids), "a node outside the columns"
    return labels, visible, columns


def test_dot_spot_values_of_the_classic_example():
    """The worked example's numbers: z_h1 = 0.3775, a_h1 = 0.5933, out_o1 = 0.7514, out_o2 = 0.7729."""
    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    dot = to_dot(network, forward(network, np.array([[0.05, 0.10]])))
    labels = {attrs["label"] for attrs in parse_dot(dot).nodes.values()}
    assert "h1\nb = 0.35\nsigmoid\nz = 0.3775, a = 0.5933" in labels
    assert "h2\nb = 0.35\nsigmoid\nz = 0.3925, a = 0.5969" in labels
    assert "o1\nb = 0.60\nsigmoid\nz = 1.1059, a = 0.7514" in labels
    assert "o2\nb = 0.60\nsigmoid\nz = 1.2249, a = 0.7729" in labels
    assert "i1 = 0.05" in labels and "i2 = 0.1" in labels


def test_precision_is_passed_to_the_numbers():
    """With precision 2 every z, a and input value is shown as show(v, 2) would."""
    network, expected, trace, x = build("keras", 1)
    _, labels, edges, columns = parse_mermaid(to_mermaid(network, trace, sample=1, precision=2))
    check_picture(expected, x, labels, edges, columns, precision=2)
    check_picture(expected, x, *dot_picture(to_dot(network, trace, sample=1, precision=2)), precision=2)


def test_dot_escapes_awkward_names_literally():
    """Quotes, backslashes, <, >, braces and & reach the picture as written (no \\N, no entities)."""
    dot = to_dot(parse_network(AWKWARD_YAML))
    assert r'label="a\"b"' in dot
    assert r'label="back\\slash\\N"' in dot
    assert 'label="&amp;amp;"' in dot
    title = re.search(r'graph \[.*label=("(?:[^"\\]|\\.)*")', dot)
    assert title and _dot_unquote(title.group(1)) == 'odd "names" \\ <b>{x}</b> & #35; `tick`'


def test_a_trace_of_another_sample_count_or_network_is_refused():
    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    trace = forward(network, np.array([[0.05, 0.10], [1, 2]]))
    for make in (to_dot, to_mermaid):
        with pytest.raises(InputError, match="sample 3"):
            make(network, trace, sample=2)
        with pytest.raises(InputError):
            make(network, trace, sample=-1)
        other = load_network(CONFIGS / "keras-kernel.yaml")
        with pytest.raises(ValueError):
            make(other, trace)


# -- Mermaid ----------------------------------------------------------------------------------------

_MM_NODE = re.compile(r'^    ([A-Za-z][A-Za-z0-9_]*)\["([^"]*)"\]$')
_MM_EDGE = re.compile(r'^  ([A-Za-z][A-Za-z0-9_]*) -- "([^"]*)" --> ([A-Za-z][A-Za-z0-9_]*)$')
_MM_SUBGRAPH = re.compile(r'^  subgraph ([A-Za-z][A-Za-z0-9_]*) \["([^"]*)"\]$')


def _mermaid_unescape(label: str) -> str:
    """What Mermaid shows: <br/> breaks lines, #name; and #123; are entity codes."""
    assert "<" not in label.replace("<br/>", ""), label
    assert ">" not in label.replace("<br/>", ""), label
    assert "&" not in label and "`" not in label, label
    assert re.sub(r"#\w+;", "", label).count("#") == 0, label  # every # starts an entity code
    text = label.replace("<br/>", "\n")
    return re.sub(r"#(\w+);", lambda m: html.unescape(f"&#{m[1]};" if m[1].isdigit() else f"&{m[1]};"), text)


def parse_mermaid(text: str):
    lines = text.splitlines()
    title = None
    if lines[0] == "---":
        end = lines.index("---", 1)
        header = lines[1:end]
        assert len(header) == 1 and header[0].startswith("title: ")
        title = json.loads(header[0][len("title: ") :])
        lines = lines[end + 1 :]
    assert lines[0] == "flowchart LR"
    labels, edges, columns, current = {}, [], [], None
    for line in lines[1:]:
        if m := _MM_SUBGRAPH.match(line):
            assert current is None, "nested subgraph"
            current = []
            columns.append(current)
        elif line == "  end":
            current = None
        elif m := _MM_NODE.match(line):
            assert current is not None, "node outside a subgraph"
            assert m[1] not in labels and m[1].lower() != "end"
            labels[m[1]] = _mermaid_unescape(m[2]).split("\n")
            current.append(m[1])
        elif m := _MM_EDGE.match(line):
            edges.append((m[1], m[3], _mermaid_unescape(m[2])))
        else:
            raise AssertionError(f"unexpected Mermaid line {line!r}")
    return title, labels, edges, columns


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sample", [None, 0, 1])
def test_mermaid_holds_every_weight_bias_activation_and_value(case, sample):
    network, expected, trace, x = build(case, sample)
    title, labels, edges, columns = parse_mermaid(to_mermaid(network, trace, sample=sample or 0))
    assert title == network.name
    check_picture(expected, x, labels, edges, columns)


def test_mermaid_escapes_awkward_names():
    text = to_mermaid(parse_network(AWKWARD_YAML))
    assert '["a#quot;b"]' in text
    assert '["#lt;x#gt;"]' in text
    assert '["#amp;amp;"]' in text
    assert '["c#35;quot;d<br/>' in text  # a name that looks like an entity code stays text
    assert "title: " + json.dumps('odd "names" \\ <b>{x}</b> & #35; `tick`', ensure_ascii=False) in text


# -- Graphviz reads and draws it --------------------------------------------------------------------


def _graphviz_json(dot: str) -> dict:
    done = subprocess.run(["dot", "-Tjson"], input=dot.encode(), capture_output=True, timeout=60, check=True)
    return json.loads(done.stdout)


@needs_dot
@pytest.mark.parametrize("case", CASES)
def test_graphviz_reads_the_same_edges_and_lines_up_the_columns(case):
    """Graphviz's own parse has each weight on the right edge, and its layout puts each layer in
    one column, inputs leftmost, layers left to right in order."""
    network, expected, trace, x = build(case, 1)
    laid_out = _graphviz_json(to_dot(network, trace, sample=1))
    objects = {o["_gvid"]: o for o in laid_out["objects"] if "nodes" not in o}  # subgraphs list their nodes
    shown = {o["name"]: _dot_unquote('"' + o["label"] + '"').split("\n") for o in objects.values()}
    headings = {o["name"] for o in objects.values() if o.get("shape") == "plaintext"}
    ids = by_name({k: v for k, v in shown.items() if k not in headings})
    names_of = {v: k for k, v in ids.items()}
    edges = {
        (names_of[objects[e["tail"]]["name"]], names_of[objects[e["head"]]["name"]]): e["label"]
        for e in laid_out["edges"]
        if e.get("style") != "invis"
    }
    assert edges == expected.weights
    want = expected_labels(expected, x)
    assert {name: shown[ids[name]] for name in want} == want
    xs = [{float(objects_by_name(objects)[ids[n]]["pos"].split(",")[0]) for n in column} for column in expected.columns]
    assert all(len(column) == 1 for column in xs), f"a layer is not in one column: {xs}"
    assert [next(iter(c)) for c in xs] == sorted(next(iter(c)) for c in xs)
    ranks = [o for o in laid_out["objects"] if "nodes" in o]
    assert all(o["rank"] == "same" for o in ranks)
    columns = [[names_of[objects[n]["name"]] for n in o["nodes"] if objects[n]["name"] in names_of] for o in ranks]
    assert columns == expected.columns


def objects_by_name(objects: dict) -> dict:
    return {o["name"]: o for o in objects.values()}


def _svg_groups(svg: bytes, kind: str) -> dict[str, list[str]]:
    """Graphviz's SVG: each node or edge is a <g class=...> with a <title> and its <text> lines.

    Nodes drawn without an outline (the column headings) are left out.
    """
    root = ET.fromstring(svg)
    groups = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == kind and (kind != "node" or g.find(f"{SVG}ellipse") is not None):
            title = g.find(f"{SVG}title").text
            groups[title] = [t.text or "" for t in g.iter(f"{SVG}text")]
    return groups


@needs_dot
@pytest.mark.parametrize("case", CASES)
def test_svg_shows_every_weight_and_value_as_text(case):
    network, expected, trace, x = build(case, 0)
    svg = render_graphviz(to_dot(network, trace), "svg")
    assert svg.lstrip().startswith(b"<?xml") or svg.lstrip().startswith(b"<svg")
    nodes = _svg_groups(svg, "node")
    want = expected_labels(expected, x)
    ids = by_name(nodes)
    assert {name: nodes[ids[name]] for name in want} == want
    edge_texts = {}
    for title, texts in _svg_groups(svg, "edge").items():
        source, target = title.split("->")
        if texts:  # the invisible links that order the picture have none
            names_of = {v: k for k, v in ids.items()}
            edge_texts[(names_of[source], names_of[target])] = texts
    assert edge_texts == {key: [label] for key, label in expected.weights.items()}
    all_text = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    if network.name:
        assert network.name in all_text
    for k in range(1, len(network.layers) + 1):
        assert network.layer_label(k - 1) in all_text


@needs_dot
def test_png_is_a_png():
    network = load_network(CONFIGS / "keras-kernel.yaml")
    png = render_graphviz(to_dot(network, forward(network, np.array([[1.0, -2.0, 0.5]]))), "png")
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 300 and height > 200


@needs_dot
def test_graphviz_error_is_reported_with_its_message():
    with pytest.raises(InputError, match=r"^Graphviz could not draw the diagram: .*syntax error"):
        render_graphviz("digraph { a -> ; }", "svg")


def test_unknown_format_is_refused():
    with pytest.raises(InputError, match="'pdf'"):
        render_graphviz("digraph {}", "pdf")


def test_missing_dot_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError) as caught:
        render_graphviz(to_dot(load_network(CONFIGS / "classic-2-2-2.yaml")), "svg")
    assert str(caught.value) == (
        "Graphviz is not installed (the 'dot' program); install it, e.g. 'apt-get install graphviz', "
        "or use --format dot or mermaid"
    )


def _fake_dot(monkeypatch, tmp_path, script: str) -> None:
    """Make a Python script the only dot on the PATH (this test's Python runs it, so it needs no tools)."""
    program = tmp_path / "dot"
    program.write_text(f"#!{sys.executable}\nimport sys, time\n{script}", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_the_first_error_line_of_dot_is_reported(monkeypatch, tmp_path):
    _fake_dot(monkeypatch, tmp_path, "sys.stdin.read()\nsys.exit('Warning: a font is missing\\nError: boom')\n")
    with pytest.raises(InputError, match=r"^Graphviz could not draw the diagram: Error: boom$"):
        render_graphviz("digraph {}", "svg")


def test_dot_gets_the_text_and_the_format(monkeypatch, tmp_path):
    _fake_dot(monkeypatch, tmp_path, "sys.stdout.write('|'.join(sys.argv[1:]) + '|' + sys.stdin.read())\n")
    assert render_graphviz("digraph { a -> b; }", "png") == b"-Tpng|digraph { a -> b; }"


def test_a_hung_dot_times_out(monkeypatch, tmp_path):
    _fake_dot(monkeypatch, tmp_path, "time.sleep(30)\n")
    monkeypatch.setattr(diagram, "GRAPHVIZ_TIMEOUT", 0.5)
    with pytest.raises(InputError, match="did not finish"):
        render_graphviz("digraph {}", "svg")
