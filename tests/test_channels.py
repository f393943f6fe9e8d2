"""Tests of literate/channels.py: cross-correlation with input and output channels, against PyTorch's conv2d."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from literate import corr2d, corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1


@st.composite
def channels(draw, one_by_one=False):
    """A float64 input (c_i, h, w) and a kernel (c_o, c_i, kh, kw) that fits it."""
    c_i, c_o = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kh, kw = (1, 1) if one_by_one else (draw(st.integers(1, h)), draw(st.integers(1, w)))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    X = torch.randn(c_i, h, w, generator=generator, dtype=torch.float64)
    K = torch.randn(c_o, c_i, kh, kw, generator=generator, dtype=torch.float64)
    return X, K


def test_the_books_example():
    X = torch.tensor([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])
    K = torch.tensor([[[0.0, 1], [2, 3]], [[1.0, 2], [3, 4]]])
    assert torch.equal(corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    Y = corr2d_multi_in_out(X, torch.stack([K, K + 1, K + 2]))
    assert Y.shape == (3, 2, 2) and torch.equal(Y[0], corr2d_multi_in(X, K))


@settings(max_examples=100, deadline=None)
@given(channels())
def test_multi_in_and_multi_in_out_equal_conv2d(case):
    X, K = case
    expected = F.conv2d(X[None], K)[0]  # (c_o, oh, ow)
    torch.testing.assert_close(corr2d_multi_in_out(X, K), expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(corr2d_multi_in(X, K[0]), expected[0], rtol=1e-10, atol=1e-10)


@settings(max_examples=100, deadline=None)
@given(channels(one_by_one=True))
def test_one_by_one_equals_conv2d_and_the_general_function(case):
    X, K = case
    Y = corr2d_multi_in_out_1x1(X, K)
    torch.testing.assert_close(Y, F.conv2d(X[None], K)[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(Y, corr2d_multi_in_out(X, K), rtol=1e-10, atol=1e-10)


def test_one_channel_is_corr2d():
    X, K = torch.randn(1, 5, 6, dtype=torch.float64), torch.randn(1, 2, 3, dtype=torch.float64)
    assert torch.equal(corr2d_multi_in(X, K), corr2d(X[0], K[0]))


def test_dtypes_promote_like_corr2d():
    X = torch.arange(18).reshape(2, 3, 3)  # int64
    K = torch.full((1, 2, 1, 1), 0.5)
    for fn in (corr2d_multi_in_out, corr2d_multi_in_out_1x1):
        assert fn(X, K).dtype == torch.float32
        torch.testing.assert_close(fn(X, K), F.conv2d(X[None].float(), K)[0])


def test_gradients_reach_the_input_and_the_kernel_as_through_conv2d():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(3, 5, 6, dtype=torch.float64, generator=generator, requires_grad=True)
    for K in (torch.randn(2, 3, 2, 3, dtype=torch.float64, generator=generator),
              torch.randn(2, 3, 1, 1, dtype=torch.float64, generator=generator)):
        K.requires_grad_()
        fn = corr2d_multi_in_out_1x1 if K.shape[-1] == 1 else corr2d_multi_in_out
        fn(X, K).square().sum().backward()
        got = X.grad, K.grad
        X.grad, K.grad = None, None
        F.conv2d(X[None], K).square().sum().backward()
        torch.testing.assert_close(got, (X.grad, K.grad), rtol=1e-12, atol=1e-12)
        X.grad = None
