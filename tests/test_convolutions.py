"""Tests of literate/convolutions.py, against PyTorch's own convolution as the reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from literate import Conv2D, convolve2d, corr2d, receptive_field
from tests.helpers import input_and_kernel, reference


# corr2d ---------------------------------------------------------------------------------------


def test_corr2d_chapter_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.equal(corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@settings(max_examples=150, deadline=None)
@given(input_and_kernel())
def test_corr2d_equals_conv2d(pair):
    X, K = pair
    Y = corr2d(X, K)
    assert Y.shape == (X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    torch.testing.assert_close(Y, reference(X, K), rtol=1e-12, atol=1e-12)


def test_corr2d_promotes_dtypes():
    X = torch.arange(12).reshape(3, 4)  # int64
    K = torch.tensor([[0.5, -0.5]])
    Y = corr2d(X, K)
    assert Y.dtype == torch.float32
    torch.testing.assert_close(Y, reference(X.float(), K))
    assert corr2d(X, torch.ones(1, 1, dtype=torch.int64)).dtype == torch.int64


def test_corr2d_kernel_as_large_as_input():
    X = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(corr2d(X, X), (X * X).sum().reshape(1, 1))


# Conv2D ---------------------------------------------------------------------------------------


def test_conv2d_parameters():
    torch.manual_seed(0)
    layer = Conv2D(kernel_size=(2, 3))
    assert layer.weight.shape == (2, 3) and layer.bias.shape == ()
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert Conv2D(kernel_size=3).weight.shape == (3, 3)
    assert Conv2D(kernel_size=4).weight.std() > 0  # random, not constant


def test_conv2d_forward_and_backward_match_pytorch():
    torch.manual_seed(1)
    layer = Conv2D(kernel_size=(3, 2))
    with torch.no_grad():
        layer.bias.fill_(0.25)
    x = torch.randn(5, 6, requires_grad=True)
    out = layer(x)
    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().reshape(1).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    out_ref = F.conv2d(x_ref[None, None], weight[None, None], bias)[0, 0]
    torch.testing.assert_close(out, out_ref)

    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    (out_ref * upstream).sum().backward()
    torch.testing.assert_close(layer.weight.grad, weight.grad)
    torch.testing.assert_close(layer.bias.grad.reshape(1), bias.grad)
    torch.testing.assert_close(x.grad, x_ref.grad)


def edge_image():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    return X, torch.tensor([[1.0, -1.0]])


def test_edge_detection():
    X, K = edge_image()
    Y = corr2d(X, K)
    expected = torch.zeros(6, 7)
    expected[:, 1], expected[:, 5] = 1, -1
    assert torch.equal(Y, expected)
    assert torch.equal(corr2d(X.t(), K), torch.zeros(8, 5))
    assert torch.equal(corr2d(X.t(), K.t()), expected.t())


def test_conv2d_learns_the_edge_kernel():
    X, K = edge_image()
    Y = corr2d(X, K)
    torch.manual_seed(0)
    layer = Conv2D(kernel_size=(1, 2))
    # The bias sees all 42 outputs, so the summed loss needs a smaller step than the chapter's 3e-2.
    optimizer = torch.optim.SGD(layer.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = ((layer(X) - Y) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]
    torch.testing.assert_close(layer.weight.detach(), K, atol=0.05, rtol=0)
    assert abs(layer.bias.item()) < 0.05


# convolve2d -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(input_and_kernel(max_side=6))
def test_convolution_is_correlation_with_the_flipped_kernel(pair):
    X, K = pair
    flipped = K.flip(0, 1)
    torch.testing.assert_close(convolve2d(X, K), corr2d(X, flipped), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(convolve2d(X, K), reference(X, flipped), rtol=1e-12, atol=1e-12)


def test_convolve2d_differs_from_corr2d_for_an_asymmetric_kernel():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.equal(convolve2d(X, K), torch.tensor([[5.0, 11.0], [23.0, 29.0]]))
    assert not torch.equal(convolve2d(X, K), corr2d(X, K))


def test_convolve2d_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        convolve2d(torch.ones(2, 2), torch.ones(3, 3))


# receptive_field ------------------------------------------------------------------------------


def side(fields, axis=0):
    return len(fields[0][axis])


def test_receptive_field_chapter_example():
    one = receptive_field([(2, 2)], position=(0, 0))
    assert one == [(range(0, 2), range(0, 2)), (range(0, 1), range(0, 1))]
    two = receptive_field([(2, 2), (2, 2)], position=(0, 0))
    assert two[0] == (range(0, 3), range(0, 3))
    assert two[1] == (range(0, 2), range(0, 2))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("layers", [1, 2, 3, 6])
def test_stacked_stride_one_layers_give_L_times_k_minus_one_plus_one(k, layers):
    fields = receptive_field([(k, k)] * layers, position=(2, 3))
    assert side(fields, 0) == side(fields, 1) == layers * (k - 1) + 1
    assert len(fields) == layers + 1


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("layers", [1, 2, 4])
def test_strides_multiply_the_growth(stride, layers):
    k = 3
    fields = receptive_field([(k, k)] * layers, position=(0, 0), strides=[(stride, stride)] * layers)
    # Layer l (from the input) adds (k - 1) times the product of the strides below it.
    assert side(fields) == 1 + sum((k - 1) * stride**l for l in range(layers))


def test_receptive_field_of_a_later_position_shifts_by_the_strides():
    fields = receptive_field([(3, 3), (2, 2)], position=(1, 2), strides=[(2, 2), (1, 1)])
    assert fields[1] == (range(1, 3), range(2, 4))
    assert fields[0] == (range(2, 7), range(4, 9))


@pytest.mark.parametrize("seed", range(8))
def test_receptive_field_matches_autograd(seed):
    """Random stacks: the inputs the output's gradient reaches span exactly the computed field."""
    rng = torch.Generator().manual_seed(seed)
    depth = int(torch.randint(1, 4, (), generator=rng))
    kernels = [tuple(int(v) for v in torch.randint(1, 4, (2,), generator=rng)) for _ in range(depth)]
    strides = [tuple(int(v) for v in torch.randint(1, 3, (2,), generator=rng)) for _ in range(depth)]
    x = torch.randn(1, 1, 24, 24, dtype=torch.float64, requires_grad=True)
    out = x
    for (kh, kw), stride in zip(kernels, strides):
        out = F.conv2d(out, torch.ones(1, 1, kh, kw, dtype=torch.float64), stride=stride)
    row, col = out.shape[2] - 1, out.shape[3] // 2
    out[0, 0, row, col].backward()
    reached = (x.grad[0, 0] != 0).nonzero()
    rows, cols = receptive_field(kernels, position=(row, col), strides=strides)[0]
    assert (int(reached[:, 0].min()), int(reached[:, 0].max()) + 1) == (rows.start, rows.stop)
    assert (int(reached[:, 1].min()), int(reached[:, 1].max()) + 1) == (cols.start, cols.stop)
    if all(s <= k for size, step in zip(kernels, strides) for k, s in zip(size, step)):
        assert len(reached) == len(rows) * len(cols)  # no gaps: every entry of the rectangle


@pytest.mark.parametrize(
    ("kernels", "strides", "words"),
    [
        ([(2, 2)], [(1, 1), (1, 1)], "1 kernel sizes but 2 strides"),
        ([(0, 2)], None, "(0, 2)"),
        ([(2, 2)], [(0, 1)], "(0, 1)"),
    ],
)
def test_receptive_field_rejects_bad_layers(kernels, strides, words):
    with pytest.raises(ValueError) as raised:
        receptive_field(kernels, position=(0, 0), strides=strides)
    assert words in str(raised.value)
