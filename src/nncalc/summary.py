"""Figures that stand in for a layer too large to list neuron by neuron."""

from __future__ import annotations

import numpy as np

from nncalc.engine import Trace
from nncalc.records import record


@record
class LayerSummary:
    """Range and mean of z and a over one sample's layer, and its most active neurons."""

    z_min: float
    z_max: float
    z_mean: float
    a_min: float
    a_max: float
    a_mean: float
    top: tuple[tuple[int, float, float], ...]  # (neuron index, z, a), highest a first


def summarize_layer(trace: Trace, index: int, sample: int, top: int = 5) -> LayerSummary:
    """Summarise layer ``index`` for one sample."""
    z = trace.layers[index].z[sample]
    a = trace.layers[index].a[sample]
    order = np.argsort(-a, kind="stable")[:top]
    return LayerSummary(
        z_min=float(z.min()),
        z_max=float(z.max()),
        z_mean=float(z.mean()),
        a_min=float(a.min()),
        a_max=float(a.max()),
        a_mean=float(a.mean()),
        top=tuple((int(j), float(z[j]), float(a[j])) for j in order),
    )
