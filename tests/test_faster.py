"""Tests of literate/faster.py: the fast cross-correlations against the loop and PyTorch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from literate import corr2d, corr2d_shift, corr2d_unfold
from tests.helpers import input_and_kernel, reference

FAST = [corr2d_unfold, corr2d_shift]


@pytest.mark.parametrize("fast", FAST)
@settings(max_examples=120, deadline=None)
@given(pair=input_and_kernel(max_side=12))
def test_equal_to_the_loop_and_to_conv2d(fast, pair):
    X, K = pair
    Y = fast(X, K)
    torch.testing.assert_close(Y, corr2d(X, K), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(Y, reference(X, K), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fast", FAST)
@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=1, max_size=2), pair=input_and_kernel(max_side=8), seed=st.integers(0, 99))
def test_leading_batch_dimensions(fast, batch, pair, seed):
    X2, K = pair
    X = torch.randn(*batch, *X2.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    Y = fast(X, K)
    expected = F.conv2d(X.reshape(-1, 1, *X2.shape), K[None, None]).reshape(*batch, *Y.shape[-2:])
    torch.testing.assert_close(Y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fast", FAST)
def test_dtypes_promote_like_corr2d(fast):
    X = torch.arange(12).reshape(3, 4)
    K = torch.tensor([[0.5, -0.5]])
    assert fast(X, K).dtype == corr2d(X, K).dtype == torch.float32
    assert torch.equal(fast(X, K), corr2d(X, K))
    assert fast(X, torch.ones(2, 2, dtype=torch.int64)).dtype == torch.int64


@pytest.mark.parametrize("fast", FAST)
def test_the_input_is_left_untouched(fast):
    X = torch.randn(5, 6)
    before = X.clone()
    fast(X, torch.randn(2, 3))
    assert torch.equal(X, before)


def test_corr2d_itself_stays_two_dimensional():
    with pytest.raises(ValueError, match=r"corr2d: input X must be 2-D .* \(2, 3, 3\)"):
        corr2d(torch.ones(2, 3, 3), torch.ones(2, 2))


@pytest.mark.parametrize("fast", [corr2d_unfold, corr2d_shift], ids=["unfold", "shift"])
def test_gradients_reach_the_input_and_the_kernel_as_through_conv2d(fast):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(2, 7, 9, dtype=torch.float64, generator=generator, requires_grad=True)
    K = torch.randn(3, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    weights = torch.randn(2, 5, 8, dtype=torch.float64, generator=generator)  # a loss that weighs every entry
    (fast(X, K) * weights).sum().backward()
    got = X.grad, K.grad
    X.grad, K.grad = None, None
    (F.conv2d(X[:, None], K[None, None])[:, 0] * weights).sum().backward()
    torch.testing.assert_close(got, (X.grad, K.grad), rtol=1e-12, atol=1e-12)
