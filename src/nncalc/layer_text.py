"""What a spatial layer does, in the few words a heading or a diagram's block carries.

``conv2d 3×3, 1→8, stride 1``, ``maxpool2d 2×2, stride 2``, ``flatten``: the layer's type
and the numbers a person needs to redo its arithmetic; the shapes are written by
``nncalc.spatial.describe_shape`` beside them. Nothing here computes a value.
"""

from __future__ import annotations

from nncalc.spatial import Conv2d, SpatialLayer, describe_shape


def pair(values: tuple[int, int]) -> str:
    """``2`` for (2, 2), ``2×1`` for (2, 1): a stride, a padding or a kernel size as courses write it."""
    first, second = values
    return str(first) if first == second else f"{first}×{second}"


def describe(layer: SpatialLayer) -> str:
    """``conv2d 3×3, 1→8, stride 1, padding 1``: the type and its parameters (padding only where there is some)."""
    if layer.kind == "flatten":
        return "flatten"
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_size
        parts = [f"conv2d {kh}×{kw}", f"{layer.input_shape[0]}→{layer.out_channels}"]
    else:
        kh, kw = layer.kernel_size  # type: ignore[attr-defined]
        parts = [f"{layer.kind} {kh}×{kw}"]
    parts.append(f"stride {pair(layer.stride)}")  # type: ignore[attr-defined]
    if any(layer.padding):  # type: ignore[attr-defined]
        parts.append(f"padding {pair(layer.padding)}")  # type: ignore[attr-defined]
    return ", ".join(parts)


def shapes(layer: SpatialLayer) -> str:
    """``1×5×5 → 1×3×3``: what the layer takes and gives."""
    return f"{describe_shape(layer.input_shape)} → {describe_shape(layer.output_shape)}"
