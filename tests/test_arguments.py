"""Every public callable of `literate`, fed malformed arguments (hypothesis).

Each call either raises TypeError or ValueError whose message names the callable, or returns a
result that is right: equal to PyTorch's conv2d where one is defined (integer dtypes wrap as
PyTorch's integer arithmetic does), or checked against an independent reference otherwise. Never
another exception, never a silent wrong result.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import literate
from literate import (
    Conv2D,
    convolve2d,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    corr2d_pad_stride,
    corr2d_shift,
    corr2d_unfold,
    receptive_field,
)
from literate.arguments import (
    check_channels_args,
    check_corr2d_args,
    check_pad_stride_args,
    check_pair,
    check_receptive_field_args,
    is_int,
)
from literate.timing import bench_summary, bench_table, benchmark, machine_summary, median_time
from literate.drawing import (
    channels_figure,
    corr2d_figure,
    heatmaps,
    kernel_playground,
    log_plot,
    photo_figure,
    receptive_field_figure,
    shape_explorer,
    show,
    volatile,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8, torch.int32,
          torch.int64, torch.bool, torch.complex64]


@st.composite
def tensors(draw, max_rank=4, max_side=4):
    """Tensors of any rank (empty dimensions too), any of DTYPES, on the CPU or the meta device."""
    shape = draw(st.lists(st.integers(0, max_side), max_size=max_rank))
    dtype = draw(st.sampled_from(DTYPES))
    values = torch.randint(-3, 4, shape, generator=torch.Generator().manual_seed(draw(st.integers(0, 2**16))))
    T = values.to(dtype) if dtype is not torch.uint8 else values.abs().to(dtype)
    return T.to("meta") if draw(st.integers(0, 9)) == 0 else T


def mostly(good, bad):
    """good three times in four, else bad (st.one_of would weigh every alternative of bad alike)."""
    return st.integers(0, 3).flatmap(lambda n: bad if n == 0 else good)


@st.composite
def good_matrices(draw, max_side=5):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return torch.randint(-3, 4, (h, w), generator=generator).to(draw(st.sampled_from(DTYPES[:4])))


def matrices():
    """Mostly well-formed 2-D tensors, so that many calls get through to a result."""
    return mostly(good_matrices(), tensors(max_rank=3))


@st.composite
def inputs_and_kernels(draw, batched=False):
    """Mostly an input (..., h, w) and a kernel (kh, kw) that fits, of any real dtypes; sometimes
    one of them malformed, the two swapped, or the input on the meta device."""
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    lead = draw(st.lists(st.integers(1, 2), max_size=2)) if batched else []
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    X = torch.randint(-3, 4, (*lead, h, w), generator=generator).to(draw(st.sampled_from(DTYPES)))
    K = torch.randint(-3, 4, (kh, kw), generator=generator).to(draw(st.sampled_from(DTYPES)))
    spoil = draw(st.sampled_from(["nothing", "nothing", "X", "K", "swap", "meta"]))
    if spoil == "X":
        X = draw(st.one_of(tensors(), JUNK))
    elif spoil == "K":
        K = draw(st.one_of(tensors(), JUNK))
    elif spoil == "swap":
        X, K = K, X
    elif spoil == "meta":
        X = X.to("meta")
    return X, K


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 5), st.floats(allow_nan=True), st.text(max_size=3),
                 st.lists(st.integers(-2, 4), max_size=3), st.tuples(st.floats(-2, 4), st.integers(-2, 4)))
SIZES = st.one_of(st.integers(-1, 4), st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
                  st.lists(st.integers(-1, 4), max_size=3), JUNK)


# Which public callables of `literate` each test below feeds malformed arguments to: every public
# function and class of every module of the package, exported or saved `#@save internal`, must be
# named by one test's @feeds (test_every_public_callable_is_tested_here says which one is missing).
COVERS: dict[str, list[str]] = {}


def feeds(*names: str):
    """Mark a test as the one that feeds malformed arguments to the public callables `names`."""
    def mark(test):
        COVERS[test.__name__] = list(names)
        return test
    return mark


def outcome(name: str, call):
    """The call's result, or None when it raised TypeError or ValueError naming `name`."""
    try:
        result = call()
    except (TypeError, ValueError) as error:
        assert name in str(error), f"{type(error).__name__} does not name {name}: {error}"
        event(f"{name}: rejected")
        return None
    event(f"{name}: returned")
    return result


def assert_conv2d(result, X, K, flip=False, **options):
    """result equals PyTorch's conv2d of X (..., h, w) with K (kh, kw), computed in float64;
    options: conv2d's padding and stride."""
    K = K.flip(0, 1) if flip else K
    h, w = X.shape[-2:]
    ref = F.conv2d(X.double().reshape(-1, 1, h, w), K.double()[None, None], **options)
    ref = ref.reshape(*X.shape[:-2], *ref.shape[-2:])
    assert_close_to(result, ref, torch.promote_types(X.dtype, K.dtype))


def assert_close_to(result, ref, dtype):
    """result, of dtype, equals ref (float64): exactly, wrapped as PyTorch's integer arithmetic
    wraps, for integer dtypes; within a tolerance for floating ones."""
    assert result.shape == ref.shape and result.dtype == dtype
    if not result.dtype.is_floating_point:  # integer arithmetic wraps, as PyTorch's own does
        torch.testing.assert_close(result, ref.to(torch.int64).to(result.dtype), rtol=0, atol=0)
        return
    loose = result.dtype in (torch.float16, torch.bfloat16)
    scale = 1 + (ref.abs().max().item() if ref.numel() else 0)
    torch.testing.assert_close(result.double(), ref, rtol=0, atol=(5e-2 if loose else 1e-4) * scale)


# literate.arguments, literate.convolutions, literate.faster and literate.timing -------------------------


@feeds("corr2d", "corr2d_unfold", "corr2d_shift", "convolve2d")
@pytest.mark.parametrize("fn", [corr2d, corr2d_unfold, corr2d_shift, convolve2d], ids=lambda fn: fn.__name__)
@SETTINGS
@given(data=st.data())
def test_cross_correlations(fn, data):
    X, K = data.draw(inputs_and_kernels(batched=fn in (corr2d_unfold, corr2d_shift)))
    result = outcome(fn.__name__, lambda: fn(X, K))
    if result is not None:
        assert_conv2d(result, X, K, flip=fn is convolve2d)


@feeds("check_corr2d_args")
@SETTINGS
@given(batched=st.booleans(), data=st.data())
def test_check_corr2d_args(batched, data):
    X, K = data.draw(inputs_and_kernels(batched=batched))
    if outcome("corr2d", lambda: check_corr2d_args(X, K, batched=batched)) is None:
        return
    assert X.dim() == 2 or (batched and X.dim() > 2)  # it let through only what can be correlated
    assert 0 < K.shape[0] <= X.shape[-2] and 0 < K.shape[1] <= X.shape[-1]


@feeds("Conv2D")
@SETTINGS
@given(size=SIZES, x=st.one_of(matrices(), JUNK))
def test_conv2d_layer(size, x):
    torch.manual_seed(0)
    layer = outcome("Conv2D", lambda: Conv2D(size))
    if layer is None:
        return
    expected = (size, size) if is_int(size) else tuple(size)
    assert tuple(layer.weight.shape) == expected and min(expected) >= 1
    with torch.no_grad():
        y = outcome("corr2d", lambda: layer(x))  # the layer's forward leaves the input to corr2d's check
        if y is not None:
            reference = F.conv2d(x.double()[None, None], layer.weight.double()[None, None])[0, 0] + layer.bias.double()
            torch.testing.assert_close(y.double(), reference, rtol=0, atol=1e-3 * (1 + reference.abs().max().item()))


@feeds("check_pair")
@SETTINGS
@given(value=SIZES, least=st.sampled_from([0, 1]), single=st.booleans())
def test_check_pair(value, least, single):
    pair = outcome("caller", lambda: check_pair(value, "caller", "size", least=least, single=single))
    if pair is not None:
        assert len(pair) == 2 and all(type(v) is int and v >= least for v in pair)
        assert pair == ((value, value) if single and is_int(value) else tuple(value))


def autograd_field(kernel_sizes, strides, position):
    """The input entries that reach one output entry, found by autograd through conv2d."""
    pairs = [(k, k) if isinstance(k, int) else k for k in kernel_sizes]
    steps = [(s, s) if isinstance(s, int) else s for s in strides]
    n = list(position)
    for (kh, kw), (sh, sw) in zip(reversed(pairs), reversed(steps)):  # input big enough for the position
        n = [(n[0]) * sh + kh, (n[1]) * sw + kw]
    x = torch.zeros(1, 1, n[0] + 1, n[1] + 1, dtype=torch.float64, requires_grad=True)
    out = x
    for (kh, kw), step in zip(pairs, steps):
        out = F.conv2d(out, torch.ones(1, 1, kh, kw, dtype=torch.float64), stride=step)
    out[0, 0, position[0], position[1]].backward()
    reached = (x.grad[0, 0] != 0).nonzero()
    return (range(int(reached[:, 0].min()), int(reached[:, 0].max()) + 1),
            range(int(reached[:, 1].min()), int(reached[:, 1].max()) + 1))


LAYER_SIZES = mostly(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                     st.one_of(st.integers(-1, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)), JUNK))


@feeds("receptive_field")
@SETTINGS
@given(kernel_sizes=mostly(st.lists(LAYER_SIZES, min_size=1, max_size=3), JUNK),
       strides=mostly(st.one_of(st.none(), st.lists(LAYER_SIZES, min_size=1, max_size=3)),
                      st.one_of(st.lists(LAYER_SIZES, max_size=3), JUNK)),
       position=mostly(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                       st.one_of(st.tuples(st.integers(-1, 3), st.integers(-1, 3)), JUNK)))
def test_receptive_field(kernel_sizes, strides, position):
    fields = outcome("receptive_field", lambda: receptive_field(kernel_sizes, position, strides))
    if fields is None:
        return
    assert len(fields) == len(kernel_sizes) + 1 and fields[-1] == (range(position[0], position[0] + 1),
                                                                     range(position[1], position[1] + 1))
    assert fields[0] == autograd_field(kernel_sizes, strides or [1] * len(kernel_sizes), position)


@feeds("check_receptive_field_args")
@SETTINGS
@given(kernel_sizes=mostly(st.lists(LAYER_SIZES, max_size=3), JUNK),
       strides=mostly(st.one_of(st.none(), st.lists(LAYER_SIZES, max_size=3)), JUNK),
       position=mostly(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                       st.one_of(st.tuples(st.integers(-1, 3), st.integers(-1, 3)), JUNK)))
def test_check_receptive_field_args(kernel_sizes, strides, position):
    checked = outcome("caller", lambda: check_receptive_field_args(kernel_sizes, strides, position, caller="caller"))
    if checked is None:
        return
    sizes, steps, where = checked

    def pair(v):
        return (v, v) if is_int(v) else tuple(v)

    assert sizes == [pair(k) for k in kernel_sizes]
    assert steps == ([(1, 1)] * len(kernel_sizes) if strides is None else [pair(s) for s in strides])
    assert where == tuple(position) and min(where) >= 0
    assert all(type(v) is int and v >= 1 for p in sizes + steps for v in p)


@feeds("median_time")
@SETTINGS
@given(fn=mostly(st.just("counter"), JUNK), repeats=mostly(st.integers(1, 3), st.one_of(st.integers(-1, 0), JUNK)))
def test_median_time(fn, repeats):
    calls = []
    fn = (lambda: calls.append(1)) if fn == "counter" else fn
    seconds = outcome("median_time", lambda: median_time(fn, repeats))
    if seconds is not None:
        assert seconds >= 0 and len(calls) == repeats + 1  # one warm-up run, then `repeats` timed ones


@feeds("benchmark", "bench_table", "bench_summary", "machine_summary")
@settings(max_examples=40, deadline=None)
@given(methods=mostly(st.just({"shift": corr2d_shift}), st.one_of(st.just({"bad": 3}), JUNK)),
       sizes=mostly(st.lists(st.integers(3, 6), min_size=1, max_size=2),
                    st.one_of(st.lists(st.integers(-1, 6), max_size=2), JUNK)),
       kernel_sizes=mostly(st.lists(st.integers(1, 3), min_size=1, max_size=2),
                           st.one_of(st.lists(st.integers(-1, 3), max_size=2), JUNK)),
       repeats=mostly(st.integers(1, 2), st.integers(-1, 0)),
       threads=mostly(st.integers(1, 2), st.one_of(st.integers(-1, 0), JUNK)),
       seed=mostly(st.integers(0, 2), st.one_of(st.just(-1), JUNK)))
def test_benchmark_and_its_table(methods, sizes, kernel_sizes, repeats, threads, seed):
    threads_before = torch.get_num_threads()
    rows = outcome("benchmark", lambda: benchmark(methods, sizes, kernel_sizes, repeats, threads, seed))
    assert torch.get_num_threads() == threads_before  # restored, whatever happened
    if rows is None:
        return
    assert [(r["size"], r["kernel"]) for r in rows] == [(n, k) for n in sizes for k in kernel_sizes]
    assert all(r["conv2d_s"] > 0 and set(r["ratios"]) == set(methods) for r in rows)
    table = bench_table(rows, machine_summary(threads))
    assert table.count("\n| ") == len(rows) and f"{threads} thread" in table
    summary = bench_summary(rows).splitlines()
    assert len(summary) == len(methods) and all(f"**{name}**" in line for name, line in zip(methods, summary))


@SETTINGS
@given(rows=st.one_of(JUNK, st.lists(st.dictionaries(st.text(max_size=2), st.integers()), max_size=2)),
       threads=st.one_of(st.integers(-1, 3), JUNK))
def test_bench_table_and_machine_summary_reject_what_they_cannot_read(rows, threads):
    assert outcome("bench_table", lambda: bench_table(rows, "machine")) is None
    assert outcome("bench_summary", lambda: bench_summary(rows)) is None
    summary = outcome("machine_summary", lambda: machine_summary(threads))
    if summary is not None:
        assert summary.endswith(f"{threads} thread") and threads >= 1


# literate.padding_and_strides and literate.channels ---------------------------------------------

PADDINGS = mostly(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))), SIZES)
STRIDES = mostly(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))), SIZES)


@feeds("corr2d_pad_stride", "check_pad_stride_args")
@SETTINGS
@given(data=st.data(), padding=PADDINGS, stride=STRIDES)
def test_corr2d_pad_stride(data, padding, stride):
    X, K = data.draw(inputs_and_kernels())
    checked = outcome("corr2d_pad_stride", lambda: check_pad_stride_args(X, K, padding, stride))
    result = outcome("corr2d_pad_stride", lambda: corr2d_pad_stride(X, K, padding, stride))
    assert (checked is None) == (result is None)  # the function lets through what its check does
    if result is not None:
        assert checked == (check_pair(padding, "", "", least=0, single=True), check_pair(stride, "", "", single=True))
        assert_conv2d(result, X, K, padding=checked[0], stride=checked[1])


@st.composite
def channel_inputs(draw, out=True, one_by_one=False):
    """Mostly an input (c_i, h, w) and a kernel (c_o, c_i, kh, kw), or (c_i, kh, kw) with out=False,
    that fits, of any real dtypes; sometimes a wrong rank, channel count or kernel size, junk, the
    two swapped, or the meta device."""
    c_i, c_o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = (1, 1) if one_by_one else (draw(st.integers(1, h)), draw(st.integers(1, w)))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    X = torch.randint(-3, 4, (c_i, h, w), generator=generator).to(draw(st.sampled_from(DTYPES)))
    K = torch.randint(-3, 4, (c_o, c_i, kh, kw) if out else (c_i, kh, kw), generator=generator)
    K = K.to(draw(st.sampled_from(DTYPES)))
    spoil = draw(st.sampled_from(["nothing", "nothing", "nothing", "X", "K", "channels", "size", "swap", "meta"]))
    if spoil == "X":
        X = draw(st.one_of(tensors(), JUNK))
    elif spoil == "K":
        K = draw(st.one_of(tensors(), JUNK))
    elif spoil == "channels":
        K = torch.cat([K, K], dim=-3)
    elif spoil == "size":
        K = torch.ones(*K.shape[:-2], h + 1, 2, dtype=K.dtype)
    elif spoil == "swap":
        X, K = K, X
    elif spoil == "meta":
        X = X.to("meta")
    return X, K


@feeds("corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1", "check_channels_args")
@pytest.mark.parametrize("fn", [corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1],
                         ids=lambda fn: fn.__name__)
@SETTINGS
@given(data=st.data())
def test_channel_cross_correlations(fn, data):
    out, one_by_one = fn is not corr2d_multi_in, fn is corr2d_multi_in_out_1x1
    X, K = data.draw(channel_inputs(out=out, one_by_one=one_by_one))
    name = fn.__name__
    checked = outcome(name, lambda: check_channels_args(X, K, name, out=out, one_by_one=one_by_one) or "let through")
    result = outcome(name, lambda: fn(X, K))
    assert (checked is None) == (result is None)  # the function lets through what its check does
    if result is not None:
        K4 = K if out else K[None]
        ref = F.conv2d(X.double()[None], K4.double())[0]
        assert_close_to(result, ref if out else ref[0], torch.promote_types(X.dtype, K.dtype))


@feeds("channels_figure")
@SETTINGS
@given(data=st.data(), spoil_Y=st.booleans())
def test_channels_figure(data, spoil_Y):
    X, K = data.draw(channel_inputs())
    Y = outcome("corr2d_multi_in_out", lambda: corr2d_multi_in_out(X, K))
    if spoil_Y:
        Y = data.draw(st.one_of(tensors(), JUNK))
    figure = outcome("channels_figure", lambda: channels_figure(X, K, Y))
    if figure is not None:
        root = svg(ET.tostring(ET.fromstring(figure).find("{http://www.w3.org/2000/svg}svg"), encoding="unicode"))
        picks = {g.get("data-entry"): g.get("data-sum") for g in root.iter("{http://www.w3.org/2000/svg}g")
                 if g.get("data-sum")}
        expected = F.conv2d(X.double()[None], K.double())[0]
        assert picks.keys() == {f"Y[{o}, {i}, {j}]" for o, i, j in np.ndindex(*Y.shape)}
        for (o, i, j), value in np.ndenumerate(Y.double().numpy()):
            assert picks[f"Y[{o}, {i}, {j}]"].rsplit("= ", 1)[1] == f"{Y[o, i, j].item():g}"
            if Y.dtype.is_floating_point and Y.dtype not in (torch.float16, torch.bfloat16):
                assert abs(value - expected[o, i, j].item()) <= 1e-4 * (1 + abs(value))


# literate.drawing: figures ------------------------------------------------------------------------

NAMES = st.one_of(st.lists(st.text(min_size=1, max_size=3), max_size=3), JUNK)


@st.composite
def named_matrices(draw):
    """Mostly matrices with as many names; sometimes anything at all."""
    count = draw(st.integers(1, 3))
    tensors_ = draw(mostly(st.lists(matrices(), min_size=count, max_size=count), JUNK))
    names = draw(mostly(st.lists(st.sampled_from(["X", "K", "Y z"]), min_size=count, max_size=count), NAMES))
    return tensors_, names


def svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.find("{http://www.w3.org/2000/svg}title").text  # well-formed, and named
    return root


@feeds("heatmaps")
@SETTINGS
@given(tensors_and_names=named_matrices(), title=mostly(st.just("A title"), st.one_of(st.text(max_size=4), JUNK)))
def test_heatmaps(tensors_and_names, title):
    tensors_, names = tensors_and_names
    figure = outcome("heatmaps", lambda: heatmaps(tensors_, names, title))
    if figure is not None:
        cells = [t.text for t in svg(figure).iter("{http://www.w3.org/2000/svg}text") if "lit-value" in t.get("class")]
        assert cells == [f"{v:g}" for T in tensors_ for v in T.flatten().tolist()]


@feeds("log_plot")
@SETTINGS
@given(values=mostly(st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=4),
                     st.one_of(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4), JUNK)),
       title=mostly(st.just("A title"), st.one_of(st.text(max_size=3), JUNK)))
def test_log_plot(values, title):
    figure = outcome("log_plot", lambda: log_plot(values, title, xlabel="step", ylabel="loss"))
    if figure is not None:
        assert all(0 < v < math.inf for v in values)
        assert len(list(svg(figure).iter("{http://www.w3.org/2000/svg}circle"))) == len(values)


@feeds("photo_figure")
@SETTINGS
@given(images_and_captions=named_matrices())
def test_photo_figure(images_and_captions):
    images, captions = images_and_captions
    figure = outcome("photo_figure", lambda: photo_figure(images, captions))
    if figure is not None:
        assert figure.count("<img ") == len(images) == len(captions)


@feeds("corr2d_figure")
@SETTINGS
@given(data=st.data(), spoil_Y=st.booleans())
def test_corr2d_figure(data, spoil_Y):
    X, K = data.draw(inputs_and_kernels())
    padding, stride = data.draw(mostly(st.just(0), PADDINGS)), data.draw(mostly(st.just(1), STRIDES))
    Y = outcome("corr2d_pad_stride", lambda: corr2d_pad_stride(X, K, padding, stride))
    Y = data.draw(st.one_of(matrices(), JUNK)) if spoil_Y else Y
    figure = outcome("corr2d_figure", lambda: corr2d_figure(X, K, Y, padding=padding, stride=stride))
    if figure is not None:
        (ph, pw), (sh, sw) = check_pair(padding, "", "", least=0, single=True), check_pair(stride, "", "", single=True)
        assert Y.shape == ((X.shape[0] - K.shape[0] + 2 * ph) // sh + 1, (X.shape[1] - K.shape[1] + 2 * pw) // sw + 1)
        root = svg(ET.tostring(ET.fromstring(figure).find("{http://www.w3.org/2000/svg}svg"), encoding="unicode"))
        sums = [g.get("data-sum") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-sum")]
        assert [s.rsplit("= ", 1)[1] for s in sums] == [f"{v:g}" for v in Y.flatten().tolist()]


@feeds("kernel_playground")
@SETTINGS
@given(image=mostly(good_matrices(max_side=6), st.one_of(matrices(), JUNK)),
       presets=mostly(st.dictionaries(st.sampled_from(["blur", "edge", "a b"]), good_matrices(max_side=3), min_size=1),
                      st.one_of(st.dictionaries(st.text(max_size=2), st.one_of(matrices(), JUNK), max_size=2), JUNK)))
def test_kernel_playground(image, presets):
    figure = outcome("kernel_playground", lambda: kernel_playground(image, presets))
    if figure is not None:
        assert min(image.shape) >= 3 and all(max(K.shape) <= 3 for K in presets.values())
        assert figure.count('<figure data-preset="') == len(presets) + 1  # and one for the reader's kernel
        assert figure.count('type="number"') == 9


AXES = ("n", "k", "p", "s", "d")


@feeds("shape_explorer")
@SETTINGS
@given(ranges=mostly(st.fixed_dictionaries({a: st.builds(range, st.integers(1, 2), st.integers(3, 4)) for a in AXES}),
                     st.one_of(st.dictionaries(st.sampled_from(AXES), st.builds(range, st.integers(-1, 2), st.integers(-1, 3))),
                               JUNK)),
       start=mostly(st.fixed_dictionaries({a: st.integers(1, 3) for a in AXES}),
                    st.one_of(st.dictionaries(st.sampled_from(AXES), st.integers(-1, 5)), JUNK)))
def test_shape_explorer(ranges, start):
    figure = outcome("shape_explorer", lambda: shape_explorer(ranges, start))
    if figure is not None:
        sizes = re.search(r'data-sizes="([^"]*)"', figure)[1].split(",")
        assert len(sizes) == math.prod(len(ranges[a]) for a in AXES)
        n, k, p, s, d = (start[a] for a in AXES)
        span = d * (k - 1) + 1
        expected = (n + 2 * p - span) // s + 1 if span <= n + 2 * p else None
        assert (f"Output: {expected} × {expected}" if expected else "Invalid") in figure


@feeds("receptive_field_figure")
@SETTINGS
@given(sizes=st.lists(LAYER_SIZES, max_size=2),
       start=mostly(st.tuples(*[st.integers(0, 2)] * 3), st.one_of(st.tuples(*[st.integers(-1, 3)] * 3), JUNK)),
       names=mostly(st.just(["X", "Y", "Z"]), NAMES))
def test_receptive_field_figure(sizes, start, names):
    names = names[:len(sizes) + 1] if isinstance(names, list) else names
    layers = [torch.zeros(5, 5)]
    for size in sizes:  # layers that fit the kernel sizes where those are sizes at all
        pair = (size, size) if is_int(size) else size
        kh, kw = pair if isinstance(pair, tuple) and all(map(is_int, pair)) else (1, 1)
        h, w = layers[-1].shape
        layers.append(torch.zeros(max(h - kh + 1, 1), max(w - kw + 1, 1)))
    figure = outcome("receptive_field_figure", lambda: receptive_field_figure(layers, names, sizes, start))
    if figure is not None:
        root = svg(figure)
        ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
        fields = [g.get("data-field").split() for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id")]
        assert all(set(field) <= ids for field in fields)  # every highlighted cell exists


@feeds("show", "volatile")
@SETTINGS
@given(text=mostly(st.just("<b>text</b>"), st.one_of(st.text(max_size=4), JUNK)))
def test_show_and_volatile(text):
    for name, fn in [("show", show), ("volatile", volatile)]:
        if outcome(name, lambda: fn(text)) is None:
            continue
        assert isinstance(text, str) and text.strip()


def public_callables() -> dict[str, object]:
    """Every public function and class defined by a module of the package, by name."""
    found = {}
    for info in pkgutil.iter_modules(literate.__path__):
        module = importlib.import_module(f"literate.{info.name}")
        for name, value in vars(module).items():
            if (not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
                    and value.__module__ == module.__name__):
                found[name] = value
    return found


def saved_at(value) -> str:
    """Where a callable of literate is saved: the `# docs/...md:LINE` comment above it in its module."""
    source = Path(inspect.getsourcefile(value)).read_text(encoding="utf-8").split("\n")
    before = source[:inspect.getsourcelines(value)[1]]
    marks = [line[2:] for line in before if re.fullmatch(r"# docs/\S+\.md:\d+", line)]
    return marks[-1] if marks else inspect.getsourcefile(value)


def test_every_public_callable_is_tested_here():
    """Every public function and class of every module of literate (a new chapter's saved ones too)
    is fed malformed arguments by a test of this file; the failure says what to add, and where."""
    covered = {name for names in COVERS.values() for name in names}
    public = public_callables()
    missing = [
        f"{value.__module__}.{name}, saved at {saved_at(value)}, is public but no test feeds it malformed "
        f"arguments. Add to tests/test_arguments.py, in the section of its module, a test decorated "
        f"@feeds(\"{name}\") (above its @SETTINGS and @given) that draws arguments with hypothesis, "
        f"mostly good ones and sometimes malformed ones (JUNK, tensors(), mostly(...)), calls it as "
        f"outcome(\"{name}\", lambda: {name}(...)), and checks what it returns against an independent "
        f"reference (F.conv2d, as test_cross_correlations does). A helper that only its own module uses "
        f"can instead take a name starting with an underscore."
        for name, value in sorted(public.items()) if name not in covered]
    stale = [f"@feeds names {name!r} (on {test}), which is no public callable of literate: remove it"
             for test, names in COVERS.items() for name in names if name not in public]
    assert not missing + stale, "\n".join(missing + stale)
    assert all(inspect.isfunction(globals().get(test)) for test in COVERS), "each test named above exists"
    assert set(literate.__all__) < set(public), "the package exports some of them, not the build's helpers"


@feeds("is_int")
@SETTINGS
@given(value=st.one_of(st.integers(), st.booleans(), st.floats(), st.text(max_size=2), st.none(),
                       st.sampled_from([np.int8(3), np.int64(-2), np.uint16(7), np.float32(1.0), np.bool_(True)])))
def test_is_int(value):
    expected = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    assert is_int(value) is expected


# The messages: what each function says about each kind of bad call (the appendix shows them).
COMMON = [
    ([[1.0, 2.0]], torch.ones(1, 1), TypeError, ["input X", "list"]),
    (torch.ones(3, 3), 2.0, TypeError, ["kernel K", "float"]),
    (torch.ones(3, 3), torch.ones(2), ValueError, ["kernel K", "2-D", "(2,)"]),
    (torch.ones(2, 5), torch.ones(3, 1), ValueError, ["(3, 1)", "(2, 5)", "does not fit"]),
    (torch.ones(4, 4), torch.ones(0, 2), ValueError, ["empty", "(0, 2)"]),
    (torch.ones(3, 3, dtype=torch.complex64), torch.ones(2, 2), TypeError, ["input X", "real numbers", "complex64"]),
    (torch.ones(3, 3), torch.ones(2, 2, device="meta"), ValueError, ["kernel K", "meta device"]),
]
TWO_D = [(torch.ones(1, 3, 3), torch.ones(2, 2), ValueError, ["input X", "2-D (height, width)", "(1, 3, 3)"])]
BATCHED = [
    (torch.ones(5), torch.ones(1, 1), ValueError, ["input X", "(..., height, width)", "(5,)"]),
    (torch.ones(4, 2, 2), torch.ones(3, 3), ValueError, ["(3, 3)", "(4, 2, 2)", "does not fit"]),
]
CASES = [(fn, *case) for fn in (corr2d, convolve2d) for case in COMMON + TWO_D]
CASES += [(fn, *case) for fn in (corr2d_unfold, corr2d_shift) for case in COMMON + BATCHED]


@pytest.mark.parametrize(("fn", "X", "K", "error", "words"), CASES)
def test_each_message_names_the_function_the_argument_and_the_shapes(fn, X, K, error, words):
    with pytest.raises(error) as raised:
        fn(X, K)
    message = str(raised.value)
    assert message.startswith(fn.__name__ + ":") and all(word in message for word in words), (words, message)
