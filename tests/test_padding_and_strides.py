"""Tests of literate/padding_and_strides.py: corr2d with padding and stride, against PyTorch's conv2d."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from literate import corr2d, corr2d_pad_stride

PAIRS = st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)))
STRIDES = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))


def pair(v):
    return (v, v) if isinstance(v, int) else v


@st.composite
def padded_input_and_kernel(draw):
    """A float64 input (h, w), a padding, a stride, and a kernel (kh, kw) that fits the padded input."""
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    padding, stride = draw(PAIRS), draw(STRIDES)
    ph, pw = pair(padding)
    kh, kw = draw(st.integers(1, h + 2 * ph)), draw(st.integers(1, w + 2 * pw))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    X = torch.randn(h, w, generator=generator, dtype=torch.float64)
    K = torch.randn(kh, kw, generator=generator, dtype=torch.float64)
    return X, K, padding, stride


def test_the_books_figures():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    padded = corr2d_pad_stride(X, K, padding=1)
    assert padded.shape == (4, 4) and padded[0, 0] == 0  # 0×0 + 0×1 + 0×2 + 0×3
    strided = corr2d_pad_stride(X, K, padding=1, stride=(3, 2))
    assert strided.shape == (2, 2) and strided[0, 1] == 8 and strided[1, 0] == 6


@settings(max_examples=150, deadline=None)
@given(padded_input_and_kernel())
def test_equals_conv2d(case):
    X, K, padding, stride = case
    Y = corr2d_pad_stride(X, K, padding=padding, stride=stride)
    expected = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    torch.testing.assert_close(Y, expected, rtol=1e-12, atol=1e-12)
    (ph, pw), (sh, sw) = pair(padding), pair(stride)
    (h, w), (kh, kw) = X.shape, K.shape
    assert Y.shape == ((h - kh + 2 * ph + sh) // sh, (w - kw + 2 * pw + sw) // sw)  # the chapter's formula


def test_defaults_are_corr2d():
    X, K = torch.randn(5, 6, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    assert torch.equal(corr2d_pad_stride(X, K), corr2d(X, K))


def test_size_keeping_padding_and_halving_stride():
    X = torch.rand(8, 8)
    assert corr2d_pad_stride(X, torch.ones(3, 3), padding=1).shape == (8, 8)
    assert corr2d_pad_stride(X, torch.ones(5, 3), padding=(2, 1)).shape == (8, 8)
    assert corr2d_pad_stride(X, torch.ones(3, 3), padding=1, stride=2).shape == (4, 4)
    assert corr2d_pad_stride(X, torch.ones(3, 5), padding=(0, 1), stride=(3, 4)).shape == (2, 2)


def test_gradients_reach_the_input_and_the_kernel_as_through_conv2d():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(6, 7, dtype=torch.float64, generator=generator, requires_grad=True)
    K = torch.randn(3, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    corr2d_pad_stride(X, K, padding=(1, 2), stride=(2, 3)).square().sum().backward()
    got = X.grad, K.grad
    X.grad, K.grad = None, None
    F.conv2d(X[None, None], K[None, None], padding=(1, 2), stride=(2, 3)).square().sum().backward()
    torch.testing.assert_close(got, (X.grad, K.grad), rtol=1e-12, atol=1e-12)
