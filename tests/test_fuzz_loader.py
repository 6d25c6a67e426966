"""The loader's fuzz target (fuzz/fuzz_loader.py), run briefly with hypothesis, and its findings.

CI has no atheris: here hypothesis feeds the same target (``check``: the bytes as text to
``parse_network``, then as a file to ``load_network``) random bytes, random text, soups of
YAML and nncalc tokens, and byte-level mutations of the shipped networks. Known bugs are
passed over there (``skip_known``); each has a strict xfail regression below, with the input
that found it. A fixed bug makes its xfail pass: then drop the marker and its label in
``fuzz_loader.known_bug``. fuzz/README.md tells how findings become tests here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncalc.errors import InputError, Location, Problem
from tests.conftest import CONFIGS, ROOT


def _fuzz_target():
    name = "nncalc_fuzz_loader"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / "fuzz_loader.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fuzz = _fuzz_target()

settings.register_profile(
    "nncalc-fuzz",
    database=None,
    derandomize=True,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = settings.get_profile("nncalc-fuzz")

SEEDS = sorted(p.read_bytes() for p in CONFIGS.glob("*.yaml"))
TOKENS = [t.encode("latin-1") for t in fuzz.DICTIONARY] + [b"\xff", b"\xc3", b"\xc3\xa9", b"\x00", b"\x07", b"\r"]


@st.composite
def mutated_seeds(draw) -> bytes:
    """A shipped network file with a few bytes inserted, deleted or overwritten."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    rnd = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(1, 8))):
        i = rnd.randrange(len(data) + 1)
        choice = rnd.random()
        if choice < 0.3:
            data[i:i] = rnd.choice(TOKENS)
        elif choice < 0.6:
            del data[i : i + rnd.randrange(1, 16)]
        elif i < len(data):
            data[i] = rnd.randrange(256)
    return bytes(data)


FUZZ_INPUTS = st.one_of(
    st.binary(max_size=256),
    st.text(max_size=128).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    st.lists(st.sampled_from(TOKENS), max_size=48).map(b"".join),
    mutated_seeds(),
)


@settings(PROFILE, max_examples=int(os.environ.get("NNCALC_FUZZ_EXAMPLES", "250")))
@given(FUZZ_INPUTS)
def test_the_fuzz_target_briefly(tmp_path, data):
    """What the fuzzer checks, for a few hundred inputs: InputError only, located inside the text."""
    with fuzz.time_limit(10):
        fuzz.check(data, tmp_path / "network.yaml", skip_known=True)


# == the harness can fail ====================================================================


def test_the_target_reports_a_foreign_exception(tmp_path, monkeypatch):
    def broken(text, source="<network>"):
        raise KeyError("layers")

    monkeypatch.setattr(fuzz, "parse_network", broken)
    with pytest.raises(KeyError):
        fuzz.check(b"inputs: 1\n", tmp_path / "network.yaml")


@pytest.mark.parametrize(
    "location",
    [
        None,
        Location("elsewhere", 1, 1),
        Location("<fuzz>", 3, 1),
        Location("<fuzz>", 1, 12),
        Location("<fuzz>", None, 2),
    ],
    ids=["no location", "another source", "past the last line", "past the line's end", "column without line"],
)
def test_the_target_reports_a_problem_out_of_place(location):
    error = InputError([Problem("a mistake", location)])
    with pytest.raises(fuzz.Finding):
        fuzz.check_error(error, "inputs: 1\nlayers", "<fuzz>")


def test_the_target_accepts_a_problem_in_place():
    text = "inputs: 1\nlayers"
    for line, column in [(1, 1), (1, 10), (2, 7), (None, None)]:
        fuzz.check_error(InputError([Problem("a mistake", Location("<fuzz>", line, column))]), text, "<fuzz>")


def test_a_hang_is_cut_short():
    with pytest.raises(fuzz.Hang), fuzz.time_limit(0.2):
        while True:
            pass


# == inputs that keep the contract, kept as regressions ======================================

KEPT = {
    "empty": b"",
    "only a BOM": b"\xef\xbb\xbf",
    "BOM then not UTF-8": b"\xef\xbb\xbfinputs: 1\n\xff\n",
    "not UTF-8 on line 2": b"inputs: 1\nname: \xc3\x28\n",
    "NUL first": b"\x00inputs: 1",
    "deep flow nesting": b"inputs: 1\nlayers: " + b"[" * 5000,
    "deep block nesting": b"- " * 5000,
    "many duplicate keys": b"inputs: 1\n" * 2000,
    "a tab indentation": b"inputs: 1\nlayers:\n\t- weights: 1\n",
    "two documents": b"inputs: 1\n---\ninputs: 2\n",
    "alias and anchor": b"inputs: &n 1\nlayers: [{weights: *n}]\n",
    "CR line breaks": b"inputs: 1\rlayers:\r  - weights: [x]\r",
    "neurons past the limit": b"inputs: 1\nlayers:\n  - neurons: 99999999999999999999\n    weights: 1\n",
    "an exponent past a float": b"inputs: 1\nlayers:\n  - weights: 1e99999999999999999999\n",
    # Findings fixed in 3c8b28f, found by the runs here: these raised OverflowError or ValueError.
    "a fraction past a float": b"inputs: 1\nlayers:\n  - weights: " + b"1" * 400 + b"/1\n",
    "a 5000-digit count": b"inputs: " + b"1" * 5000 + b"\nlayers: [{weights: 1}]\n",
    "a count past an index": b"inputs: 99999999999999999999\nlayers: [{weights: 1}]\n",
    "a 5000-digit denominator": b"inputs: 1\nlayers: [{weights: 1/" + b"3" * 5000 + b"}]\n",
    "a 5000-digit numerator": b"inputs: 1\nlayers: [{weights: " + b"3" * 5000 + b"/7}]\n",
    # Findings fixed since: a control character after non-ASCII text was located by libyaml's
    # byte offset, and a syntax error at the end of a text without a final line break was put
    # on the line after the last one.
    "reader offset after é": b"name: \xc3\xa9\x07\n",
    "reader offset, minimised by libFuzzer": b"\xff\x00",
    "reader offset, emoji on line 1": b"name: " + "😀".encode() * 12 + b"\n\x07\ninputs: 1\n",
    "end of stream, open flow sequence": b"inputs: 1\nlayers:\n  - weights: [0.5",
    "end of stream, open flow mapping": b"inputs: 1\nlayers:\n  - {weights: 1",
}


@pytest.mark.parametrize("data", list(KEPT.values()), ids=list(KEPT))
def test_kept_inputs(tmp_path, data):
    with fuzz.time_limit(10):
        fuzz.check(data, tmp_path / "network.yaml")


# == findings: each a strict xfail until the bug is fixed ====================================
#
# Found by the atheris run and by the runs above (with skip_known off), minimised by hand.

FINDINGS: dict[str, tuple[bytes, str]] = {}  # none open; add ("input", "known_bug label") pairs here
REASONS: dict[str, str] = {}  # known_bug label -> the bug, for each open finding


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(data, marks=pytest.mark.xfail(strict=True, reason=REASONS[label]))
        for data, label in FINDINGS.values()
    ],
    ids=list(FINDINGS),
)
def test_findings(tmp_path, data):
    with fuzz.time_limit(10):
        fuzz.check(data, tmp_path / "network.yaml")


@pytest.mark.parametrize("data, label", list(FINDINGS.values()), ids=list(FINDINGS))
def test_each_finding_is_the_known_bug_it_is_filed_under(tmp_path, data, label):
    """So skip_known passes over exactly the bugs pinned above, and nothing new."""
    text = data.decode("utf-8", errors="replace")
    try:
        fuzz.check_text(text)
        fuzz.check_file(data, tmp_path / "network.yaml")
    except Exception as error:
        assert fuzz.known_bug(error, text) == label, error
    else:
        pytest.fail("the input no longer fails: the bug is fixed; remove the finding and its label")


# == the atheris script itself ===============================================================


def test_the_atheris_script_runs(tmp_path):
    """With atheris installed, a few hundred runs over a copy of the shipped networks."""
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    shutil.copytree(CONFIGS, corpus)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "fuzz_loader.py"), "-runs=300", "-seed=1", str(corpus)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "NNCALC_FUZZ_SKIP_KNOWN": "1"},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Done 300 runs" in completed.stderr
