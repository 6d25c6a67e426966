"""Hostile input to the newest features: convolution exercises, the library's paths, conv answer sheets.

Each test is an attack an adversarial user can make and the refusal the project promises
for it: located ``error:`` lines and exit 2 on the command line (never a traceback), an
``NncalcError`` with a clear message from the library. The expected messages are written
here from what the input gets wrong, not pasted from the code's output.
"""

from __future__ import annotations

import pytest

from tests.conftest import CONFIGS


def refused(result, code: int = 2) -> list[str]:
    """The error lines of a run that must end with ``code`` and no traceback."""
    assert result.code == code, (result.code, result.out[:500], result.err[:2000])
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.err[:2000]
    return lines


# -- nncalc new --image … --layers conv:… ------------------------------------------------------


def test_a_range_of_more_values_than_a_float_counts_is_still_drawn_from(nncalc):
    """[0, 1e308) to 6 decimals holds 10^314 numbers, more than a float can count: the draw
    must not overflow (it did, with a traceback); every value lies in the range."""
    result = nncalc("new", "--inputs", "1", "--layers", "1", "--range", "0,1e308", "--decimals", "6", "--seed", "3")
    assert result.code == 0, result.err
    from nncalc.loader import parse_network

    net = parse_network(result.out)
    values = [*net.layers[0].weights.ravel(), *net.layers[0].biases]
    assert all(0 <= v < 1e308 for v in values)
    assert max(values) > 1e300  # drawn over the whole range, not near 0


@pytest.mark.parametrize(
    ("token", "field"),
    [("conv:3:stride=1:stride=2", "stride"), ("maxpool:2:padding=0:padding=1", "padding")],
)
def test_a_layer_setting_given_twice_is_refused_not_overridden(nncalc, token, field):
    """conv:3:stride=1:stride=2 asks for two strides; taking the last silently writes an exercise
    that is not the one asked for."""
    lines = refused(nncalc("new", "--image", "6x6", "--layers", f"{token},1"))
    assert len(lines) == 1
    assert lines[0].startswith(f"error: --layers: {token!r}: {field} is given twice")


@pytest.mark.parametrize("token", ["conv:3:padding=-1", "maxpool:3:padding=-1", "conv:3:padding=-10"])
def test_a_negative_padding_is_refused_at_the_option(nncalc, token):
    """A padding below 0 is refused at --layers, where it was written, before anything is
    generated; not at a line of the file that was about to be written, nor as 'gives nothing'."""
    lines = refused(nncalc("new", "--image", "5x5", "--layers", f"{token},1"))
    assert lines == [f"error: --layers: {token!r}: a padding is at least 0"]
