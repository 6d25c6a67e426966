"""Every activation and its derivative against PyTorch itself, where PyTorch is installed.

The rest of the suite checks the definitions against hand-worked values and the math module;
this file asks PyTorch (float64, CPU) directly, on a grid that crosses every kink and reaches
where exp overflows: values, derivatives by autograd, and the sign of an exact zero. It is
skipped where PyTorch is not installed (it is not a dependency of nncalc).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncalc.activations import REGISTRY, BoundActivation

GRID = np.concatenate(
    [
        np.linspace(-12.0, 12.0, 2401),
        [-1000.0, -750.0, -40.0, -20.0, -3.0, 3.0, 6.0, 20.0, 20.0001, 40.0, 750.0, 1000.0],
    ]
)

# Where PyTorch's own function defines the activation (the step function has no PyTorch counterpart).
CASES = [
    ("identity", {}, lambda F, z: z),
    ("sigmoid", {}, lambda F, z: F.sigmoid(z)),
    ("tanh", {}, lambda F, z: F.tanh(z)),
    ("relu", {}, lambda F, z: F.relu(z)),
    ("leaky_relu", {}, lambda F, z: F.leaky_relu(z)),
    ("leaky_relu", {"negative_slope": 0.2}, lambda F, z: F.leaky_relu(z, 0.2)),
    ("elu", {}, lambda F, z: F.elu(z)),
    ("elu", {"alpha": 0.5}, lambda F, z: F.elu(z, 0.5)),
    ("selu", {}, lambda F, z: F.selu(z)),
    ("gelu", {}, lambda F, z: F.gelu(z)),
    ("gelu", {"approximate": "tanh"}, lambda F, z: F.gelu(z, approximate="tanh")),
    ("softplus", {}, lambda F, z: F.softplus(z)),
    ("softplus", {"beta": 2.0, "threshold": 10.0}, lambda F, z: F.softplus(z, beta=2.0, threshold=10.0)),
    ("silu", {}, lambda F, z: F.silu(z)),
    ("mish", {}, lambda F, z: F.mish(z)),
    ("softsign", {}, lambda F, z: F.softsign(z)),
    ("relu6", {}, lambda F, z: F.relu6(z)),
    ("hard_sigmoid", {}, lambda F, z: F.hardsigmoid(z)),
    ("exp", {}, lambda F, z: z.exp()),
]


def test_every_activation_but_step_is_checked():
    assert {name for name, _, _ in CASES} == set(REGISTRY) - {"step", "softmax"}


# Both sides compute the same formulas in float64; they may differ in the last bits of tanh, erf
# or exp, which shows as an absolute difference below 1e-14 where a formula cancels (1 + tanh(u)
# with tanh(u) next to −1, 1 − tanh² next to 0), hence the absolute tolerance.
RTOL, ATOL = 1e-12, 1e-14
# PyTorch's hardsigmoid backward multiplies by 1/6 held as a float32 (0.1666666716…); nncalc uses
# the float64 1/6. The derivative of hard_sigmoid is compared to float32 precision for that reason.
DERIVATIVE_RTOL = {"hard_sigmoid": 1e-7}


@pytest.mark.parametrize("name, params, torch_fn", CASES, ids=[f"{n}{p or ''}" for n, p, _ in CASES])
def test_values_and_derivatives_are_pytorchs(name, params, torch_fn):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    activation = BoundActivation.named(name, **params)
    z = torch.tensor(GRID, dtype=torch.float64, requires_grad=True)
    expected = torch_fn(functional, z)
    (gradient,) = torch.autograd.grad(expected.sum(), z)
    ours = activation(GRID)
    np.testing.assert_allclose(ours, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    # away from the kinks, where PyTorch picks one side's derivative by convention
    smooth = np.ones(GRID.shape, dtype=bool)
    for kink in (0.0, 6.0, -3.0, 3.0):
        smooth &= kink != GRID
    derivative = activation.derivative(GRID, ours)
    rtol = DERIVATIVE_RTOL.get(name, RTOL)
    np.testing.assert_allclose(derivative[smooth], gradient.numpy()[smooth], rtol=rtol, atol=ATOL)


def test_softmax_is_pytorchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z = np.vstack([rng.normal(0.0, 5.0, size=(50, 7)), [[1000.0, -1000.0, 0.0, 999.0, 1.0, 2.0, 3.0]]])
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64), dim=1).numpy()
    np.testing.assert_allclose(BoundActivation.named("softmax")(z), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "selu", "gelu", "silu", "mish", "tanh", "softsign"])
def test_an_exact_negative_zero_stays_negative_as_in_pytorch(name):
    """f(−0.0) is −0.0 for these, as PyTorch 2.13 gives (e.g. ELU: α·expm1(−0.0) = α·(−0.0) by the math
    module); visible only in exact output, where −0.0 in should not become 0.0 out."""
    (value,) = BoundActivation.named(name)(np.array([-0.0])).tolist()
    assert value == 0.0 and math.copysign(1.0, value) == -1.0
    (positive,) = BoundActivation.named(name)(np.array([0.0])).tolist()
    assert math.copysign(1.0, positive) == 1.0


@pytest.mark.parametrize("name", ["relu", "relu6"])
def test_relu_of_negative_zero_is_positive_zero_unlike_pytorch(name):
    """The one known difference, kept on purpose: ReLU and ReLU6 are np.maximum(z, 0.0), which
    gives +0.0 for −0.0 (PyTorch gives −0.0); every form that keeps the sign (np.maximum(0.0, z),
    np.where) takes two to five times as long, and ReLU is the hidden layer of large networks.
    The values are equal, and only exact output could show the sign."""
    (value,) = BoundActivation.named(name)(np.array([-0.0])).tolist()
    assert value == 0.0 and math.copysign(1.0, value) == 1.0
