"""New exercises: a network file with random, hand-friendly weights, the same for a seed everywhere.

Values come from Python's Mersenne Twister (``random.Random(seed).random()``), whose
sequence for a given seed is fixed across platforms and Python versions, and are
rounded to a few decimals as text, so the file is identical on every machine.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from fractions import Fraction

from nncalc.activations import REGISTRY, known_names, lookup
from nncalc.errors import InputError, Location
from nncalc.inputs import split_values
from nncalc.loader import suggest
from nncalc.numbers import NotANumber, parse_count, parse_number
from nncalc.records import record

MAX_PARAMETERS = 1_000_000
"""The most weights and biases a new exercise may have.

An exercise is worked by hand, with tens of values; a million is far beyond that and is
still written, and checked to load, in a few seconds, into a file of about 10 MB with
6-decimal values in [-1, 1), well under the 64 MiB every command reads by default. Past
it the work grows with the product of neighbouring layer sizes: ``--layers 100000,100000``
would be 10^10 values, tens of gigabytes of text and a long wait before anything is
written, so the size is refused before anything is generated.
"""

RANGE_FORM = "give two numbers LOW,HIGH with LOW < HIGH, such as 0,1 or -1,1"
MAX_SUGGESTED = 1_000  # inputs up to which the file suggests one sample, values and all, on a command line
MAX_DECIMALS = 6  # the decimals of each value a new exercise may ask for (as ``new --decimals``)


@record
class SpatialSpec:
    """A convolution or pooling layer of an exercise, as ``--layers`` names it (``conv:3:2``,
    ``maxpool:2``), with the shape of the maps it gives."""

    kind: str  # conv2d, maxpool2d or avgpool2d
    kernel: int
    filters: int  # a convolution's out channels; for pooling, the channels it keeps
    stride: int
    padding: int
    token: str  # as written, for messages
    output: tuple[int, int, int] = (1, 1, 1)


Layer = int | SpatialSpec  # a dense layer is its number of neurons


@record
class ExerciseSpec:
    """What a teacher asks for: the shape, the activation, the seed and how values look.

    With ``image`` (channels, height, width) the inputs are a picture, ``inputs`` is its
    number of values, and ``layers`` may start with convolutions and pooling (``SpatialSpec``);
    a flatten is put before the first dense layer after them.
    """

    inputs: int
    layers: Sequence[Layer]
    activation: str = "sigmoid"
    seed: int = 0
    decimals: int = 2
    low: float = 0.0
    high: float = 1.0
    image: tuple[int, int, int] | None = None


def parameter_count(inputs: int, sizes: Sequence[Layer], image: tuple[int, int, int] | None = None) -> int:
    """Weights and biases of a network with ``inputs`` inputs and layers of ``sizes`` neurons
    (convolutions counted by their kernels and biases; pooling has none)."""
    count, width, channels = 0, inputs, image[0] if image else 0
    for layer in sizes:
        if isinstance(layer, SpatialSpec):
            if layer.kind == "conv2d":
                count += layer.filters * channels * layer.kernel**2 + layer.filters
            channels = layer.output[0]
            width = math.prod(layer.output)
            continue
        count += width * layer + layer
        width = layer
    return count


def check_exercise_size(inputs: int, sizes: Sequence[Layer], image: tuple[int, int, int] | None = None) -> None:
    """Refuse, before anything is generated, an exercise of more than MAX_PARAMETERS weights and biases."""
    count = parameter_count(inputs, sizes, image)
    if count > MAX_PARAMETERS:
        written = ",".join(layer.token if isinstance(layer, SpatialSpec) else str(layer) for layer in sizes)
        given = _image_text(image) if image else f"{inputs} input{'s' if inputs != 1 else ''}"
        raise InputError(
            f"{written} with {given} is {count:,} weights and biases, more than the limit of {MAX_PARAMETERS:,}",
            Location("--layers"),
        )


def _image_text(image: tuple[int, int, int]) -> str:
    channels, height, width = image
    return f"a {channels}×{height}×{width} image"


IMAGE_FORM = "give the picture as HEIGHTxWIDTH or CHANNELSxHEIGHTxWIDTH, such as 5x5 or 3x8x8"
LAYER_FORMS = (
    "give neurons per layer such as 3,2,1; with --image, convolutions and pooling first, "
    "such as conv:3,maxpool:2,2 (conv:KERNEL[:FILTERS], maxpool:KERNEL, avgpool:KERNEL, "
    "each with :stride=N or :padding=N if wanted)"
)


def parse_image(text: str) -> tuple[int, int, int]:
    """``--image`` text (``5x5``, ``1x5x5``, ``3×8×8``) as (channels, height, width)."""
    parts = text.strip().lower().replace("×", "x").split("x")
    try:
        sizes = [parse_count(part.strip()) for part in parts]
    except NotANumber as exc:
        raise InputError(f"{exc}; {IMAGE_FORM}", Location("--image")) from None
    if len(sizes) not in (2, 3) or min(sizes) < 1:
        raise InputError(IMAGE_FORM, Location("--image"))
    image = (1, *sizes) if len(sizes) == 2 else tuple(sizes)
    if math.prod(image) > MAX_PARAMETERS:
        raise InputError(f"{_image_text(image)} is more than {MAX_PARAMETERS:,} values", Location("--image"))
    return image


def _spatial_layer(token: str, maps: tuple[int, int, int]) -> SpatialSpec:
    """One ``conv:…``, ``maxpool:…`` or ``avgpool:…`` token of ``--layers``, on maps of shape ``maps``."""
    from nncalc.spatial_format import arithmetic

    name, *fields = token.split(":")
    kind = {"conv": "conv2d", "maxpool": "maxpool2d", "avgpool": "avgpool2d"}[name]
    positional = [field for field in fields if "=" not in field]
    pairs = [field.split("=", 1) for field in fields if "=" in field]
    named = dict(pairs)
    unknown = sorted(set(named) - {"stride", "padding"})
    twice = next((key for key in named if [k for k, _ in pairs].count(key) > 1), None)
    if not unknown and twice is not None:  # the last would silently win: not the layer asked for
        raise InputError(f"{token!r}: {twice} is given twice", Location("--layers"))
    if unknown or not positional or len(positional) > (2 if kind == "conv2d" else 1):
        raise InputError(f"{token!r} is not a layer; {LAYER_FORMS}", Location("--layers"))
    try:
        kernel = parse_count(positional[0])
        filters = parse_count(positional[1]) if len(positional) > 1 else (1 if kind == "conv2d" else maps[0])
        stride = parse_count(named["stride"]) if "stride" in named else (1 if kind == "conv2d" else kernel)
        padding = parse_count(named.get("padding", "0"))
    except NotANumber as exc:
        raise InputError(f"{token!r}: {exc}; {LAYER_FORMS}", Location("--layers")) from None
    if min(kernel, filters, stride) < 1:
        raise InputError(f"{token!r}: a kernel, a number of filters and a stride are at least 1", Location("--layers"))
    if padding < 0:
        raise InputError(f"{token!r}: a padding is at least 0", Location("--layers"))
    if kind != "conv2d" and 2 * padding > kernel:
        message = f"{token!r}: padding {padding} is more than half the {kernel}×{kernel} kernel (PyTorch's rule)"
        raise InputError(message, Location("--layers"))
    (rows, cols), how = arithmetic(kind, maps, (kernel, kernel), (stride, stride), (padding, padding))
    if rows < 1 or cols < 1:
        raise InputError(f"{token!r}: {how}: the kernel is larger than the padded input", Location("--layers"))
    output = (filters, rows, cols)
    if math.prod(output) > MAX_PARAMETERS:
        maps_made = f"{filters:,} map{'s' if filters != 1 else ''} of {rows}×{cols}"
        raise InputError(
            f"{token!r}: {how}, {maps_made}: {math.prod(output):,} values, more than {MAX_PARAMETERS:,}",
            Location("--layers"),
        )
    return SpatialSpec(kind, kernel, filters, stride, padding, token, output)


def parse_layers(text: str, image: tuple[int, int, int] | None) -> list[Layer]:
    """``--layers`` text: neurons per dense layer, and with an ``image`` convolutions and pooling before them."""
    layers: list[Layer] = []
    maps = image
    for _, token in split_values(text):
        word = token.strip().lower()
        if word.split(":", 1)[0] in ("conv", "maxpool", "avgpool"):
            if maps is None:
                where = "--image first" if image is None else "only before the dense layers"
                raise InputError(
                    f"{token!r}: a convolution or pooling layer takes a picture: {where}", Location("--layers")
                )
            layer = _spatial_layer(word, maps)
            maps = layer.output
            layers.append(layer)
            continue
        try:
            size = parse_count(token)
        except NotANumber as exc:
            raise InputError(f"{exc}; {LAYER_FORMS}", Location("--layers")) from None
        if size < 1:
            raise InputError("every layer needs at least 1 neuron", Location("--layers"))
        layers.append(size)
        maps = None
    if not layers:
        raise InputError(LAYER_FORMS, Location("--layers"))
    return layers


def check_range(low: float, high: float) -> None:
    """Refuse a range of values whose bounds or width (HIGH − LOW) are not finite floats.

    Values are drawn as LOW + (HIGH − LOW) · u; with an infinite width they overflow and
    the file written would hold ``inf``, which no command reads.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("LOW and HIGH must be finite numbers", Location("--range"))
    if not math.isfinite(high - low):
        raise InputError(
            f"{low:g} to {high:g} is too wide: HIGH − LOW is beyond a 64-bit float; give a narrower range",
            Location("--range"),
        )
    if not low < high:
        raise InputError(RANGE_FORM, Location("--range"))


def parse_exercise_options(
    inputs: int | None,
    layers: str,
    activation: str,
    seed: int | None,
    decimals: int,
    value_range: str,
    image: str | None = None,
) -> ExerciseSpec:
    """The exercise ``nncalc new`` options ask for; raise ``InputError`` located at the option at fault.

    ``layers``, ``value_range`` and ``image`` are the option texts (``"3,2,1"``, ``"-1,1"``,
    ``"5x5"``); ``inputs`` None is 2, or the picture's values with ``image``. With no ``seed``
    a random one is drawn (it is written in the file). Everything is checked before anything
    is generated, the size of the network and of every map included.
    """
    shape = parse_image(image) if image is not None else None
    if shape is not None and inputs is not None:
        raise InputError("give --inputs or --image, not both: a picture's values are its inputs", Location("--inputs"))
    inputs = math.prod(shape) if shape is not None else (2 if inputs is None else inputs)
    if inputs < 1:
        raise InputError(f"an exercise needs at least 1 input, got {inputs}", Location("--inputs"))
    if not 0 <= decimals <= MAX_DECIMALS:
        raise InputError(f"decimals of each value go from 0 to {MAX_DECIMALS}, got {decimals}", Location("--decimals"))
    sizes = parse_layers(layers, shape)
    entry = lookup(activation)
    if entry is None:
        raise InputError(
            f"unknown activation {activation!r}{suggest(activation, known_names())} (known: {', '.join(REGISTRY)})",
            Location("--activation"),
        )
    activation = entry.name  # the file gets the name nncalc itself uses: relu for ReLU
    if not entry.elementwise and any(isinstance(layer, SpatialSpec) and layer.kind == "conv2d" for layer in sizes):
        raise InputError(
            f"{activation} is not elementwise, and a convolution applies its activation cell by cell: "
            "give one such as relu, or no convolution",
            Location("--activation"),
        )
    bounds = split_values(value_range)
    try:
        low, high = (parse_number(token) for _, token in bounds) if len(bounds) == 2 else (None, None)
    except NotANumber as exc:
        raise InputError(str(exc), Location("--range")) from None
    if low is None:
        raise InputError(RANGE_FORM, Location("--range"))
    check_range(low, high)
    check_grid(low, high, decimals)
    check_exercise_size(inputs, sizes, shape)
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    return ExerciseSpec(inputs, sizes, activation, seed, decimals, low, high, shape)


def _value(rng: random.Random, spec: ExerciseSpec) -> str:
    """A value drawn uniformly from the numbers of the spec's decimals in [LOW, HIGH).

    Drawing from the grid itself, not rounding a draw from the interval, keeps every value
    inside the range and every value equally likely: rounding a draw from [-1, 2) to whole
    numbers would give 2, outside the range, and -1 half as often as 0.
    """
    first, count = _grid(spec)
    u = rng.random()
    # past 2^53 numbers a float product rounds (up to HIGH itself) and, past about 10^308, overflows:
    # there the step is taken exactly, u being a fraction of 2^53
    units = first + (int(u * count) if count <= _FLOAT_EXACT else math.floor(Fraction(u) * count))
    scale = 10**spec.decimals
    whole, part = divmod(abs(units), scale)
    text = f"{'-' if units < 0 else ''}{whole}"
    if spec.decimals > 0:
        digits = f"{part:0{spec.decimals}d}".rstrip("0")
        text += f".{digits}" if digits else ""
    return text


_FLOAT_EXACT = 2**53  # whole numbers up to this are floats exactly


def _grid(spec: ExerciseSpec) -> tuple[int, int]:
    """The first number of the spec's decimals in [LOW, HIGH), in units of its last decimal, and how many there are."""
    return _grid_once(spec.low, spec.high, spec.decimals)


@functools.lru_cache(maxsize=16)
def _grid_once(low: float, high: float, decimals: int) -> tuple[int, int]:
    """``grid``, worked out once for all the values of an exercise: its exact fractions cost
    more than drawing a value, and an exercise may draw a million."""
    return grid(low, high, decimals)


def grid(low: float, high: float, decimals: int) -> tuple[int, int]:
    """The first number of ``decimals`` decimals in [low, high), in units of its last decimal
    (0.25 to 2 decimals is 25), and how many such numbers there are."""
    scale = 10**decimals
    first = math.ceil(Fraction(repr(low)) * scale)
    return first, math.ceil(Fraction(repr(high)) * scale) - first


def check_grid(low: float, high: float, decimals: int) -> None:
    """Refuse a range that holds no number of ``decimals`` decimals ([0.1, 0.15) to one decimal holds only 0.1)."""
    if grid(low, high, decimals)[1] < 1:
        raise InputError(
            f"no number of {decimals} decimal{'s' if decimals != 1 else ''} lies in [{low:g}, {high:g}): "
            "give a wider range or more --decimals",
            Location("--range"),
        )


def exercise_yaml(spec: ExerciseSpec) -> str:
    """The network file of a new exercise, with a suggested input in a comment.

    Raise ``InputError`` for a network over MAX_PARAMETERS or a range wider than a float,
    before anything is generated. A picture's exercise draws its kernels, then its dense
    weights, then the suggested picture, from the same sequence of the seed.
    """
    if lookup(spec.activation) is None:
        raise ValueError(spec.activation)
    check_range(spec.low, spec.high)
    check_grid(spec.low, spec.high, spec.decimals)
    check_exercise_size(spec.inputs, spec.layers, spec.image)
    rng = random.Random(spec.seed)
    written = ",".join(layer.token if isinstance(layer, SpatialSpec) else str(layer) for layer in spec.layers)
    given = _image_text(spec.image) if spec.image else f"{spec.inputs} input{'s' if spec.inputs != 1 else ''}"
    lines = [
        f"# A new exercise: {given}, layers {written}, {spec.activation}.",
        f"# Weights and biases uniform in [{spec.low:g}, {spec.high:g}), {spec.decimals} "
        f"decimal{'s' if spec.decimals != 1 else ''}, seed {spec.seed}.",
    ]
    inputs = f"{{shape: [{', '.join(map(str, spec.image))}]}}" if spec.image else str(spec.inputs)
    body = [f"name: Exercise {spec.seed}", f"inputs: {inputs}", f"activation: {spec.activation}", "layers:"]
    body.extend(_layers_yaml(rng, spec))
    if spec.inputs <= MAX_SUGGESTED:
        suggested = ",".join(_value(rng, spec) for _ in range(spec.inputs))
        lines.append(f"# Try: nncalc forward THIS-FILE --input {suggested}")
    else:  # too long for a command line: a samples file instead
        lines.append(f"# Try: nncalc forward THIS-FILE --inputs SAMPLES.csv (a row of {spec.inputs:,} values each)")
    return "\n".join([*lines, *body]) + "\n"


def _layers_yaml(rng: random.Random, spec: ExerciseSpec) -> list[str]:
    """The ``layers:`` entries, values drawn layer by layer: each kernel (or row of weights), then the biases."""
    names = _layer_names(spec.layers)
    body: list[str] = []
    width, channels = spec.inputs, spec.image[0] if spec.image else 0
    after_maps = spec.image is not None  # a dense layer on maps reads them through a flatten
    for layer, name in zip(spec.layers, names, strict=True):
        if isinstance(layer, SpatialSpec):
            body.append(f"  - name: {name}")
            body.append(f"    type: {layer.kind}")
            if layer.kind == "conv2d":
                body.append("    weights:")
                for _ in range(layer.filters):
                    kernels = ", ".join(_matrix(rng, spec, layer.kernel) for _ in range(channels))
                    body.append(f"      - [{kernels}]")
                body.append(f"    biases: [{', '.join(_value(rng, spec) for _ in range(layer.filters))}]")
                body.append(f"    stride: {layer.stride}")
                body.append(f"    padding: {layer.padding}")
            else:
                body.append(f"    kernel_size: {layer.kernel}")
                body.append(f"    stride: {layer.stride}")
                if layer.padding:
                    body.append(f"    padding: {layer.padding}")
            channels, width, after_maps = layer.output[0], math.prod(layer.output), True
            continue
        if after_maps:
            body.extend(["  - name: flatten", "    type: flatten"])
            after_maps = False
        body.append(f"  - name: {name}")
        body.append("    weights:")
        for _ in range(layer):
            body.append(f"      - [{', '.join(_value(rng, spec) for _ in range(width))}]")
        body.append(f"    biases: [{', '.join(_value(rng, spec) for _ in range(layer))}]")
        width = layer
    return body


def _matrix(rng: random.Random, spec: ExerciseSpec, size: int) -> str:
    """A size × size kernel of new values, row by row, as a nested YAML list."""
    return "[" + ", ".join("[" + ", ".join(_value(rng, spec) for _ in range(size)) + "]" for _ in range(size)) + "]"


def _layer_names(layers: Sequence[Layer]) -> list[str]:
    """Each layer's name: conv1, pool1, … for pictures; hidden, hidden1, …, output for dense layers."""
    dense = sum(not isinstance(layer, SpatialSpec) for layer in layers)
    names, convs, pools, position = [], 0, 0, 0
    for k, layer in enumerate(layers):
        if isinstance(layer, SpatialSpec):
            if layer.kind == "conv2d":
                convs += 1
                names.append(f"conv{convs}")
            else:
                pools += 1
                names.append(f"pool{pools}")
            continue
        position += 1  # this dense layer's place among the dense layers, from 1
        last = k == len(layers) - 1
        names.append("output" if last else ("hidden" if dense == 2 else f"hidden{position}"))
    return names
