"""Tests of literate/faster.py: the fast cross-correlations against the loop and PyTorch; the benchmark."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from literate import corr2d, corr2d_shift, corr2d_unfold
from literate.faster import benchmark, machine_summary, median_time
from tests.helpers import ROOT, input_and_kernel, reference

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


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize(
    ("X", "K", "error", "words"),
    [
        ([[1.0]], torch.ones(1, 1), TypeError, ["input X", "list"]),
        (torch.ones(5), torch.ones(1, 1), ValueError, ["(..., height, width)", "(5,)"]),
        (torch.ones(3, 3), torch.ones(1, 2, 2), ValueError, ["kernel K must be 2-D", "(1, 2, 2)"]),
        (torch.ones(4, 2, 2), torch.ones(3, 3), ValueError, ["(3, 3)", "(4, 2, 2)", "does not fit"]),
        (torch.ones(4, 4), torch.ones(2, 0), ValueError, ["empty"]),
    ],
)
def test_bad_input_is_rejected_naming_the_shapes(fast, X, K, error, words):
    with pytest.raises(error) as raised:
        fast(X, K)
    assert str(raised.value).startswith(fast.__name__ + ":")
    for word in words:
        assert word in str(raised.value)


def test_corr2d_itself_stays_two_dimensional():
    with pytest.raises(ValueError, match=r"corr2d: input X must be 2-D .* \(2, 3, 3\)"):
        corr2d(torch.ones(2, 3, 3), torch.ones(2, 2))


def test_benchmark_rows_without_asserting_times():
    calls = []

    def method(X, K):
        calls.append(X.shape)
        return None if X.shape[0] > 8 else corr2d_shift(X, K)

    threads = torch.get_num_threads()
    rows = benchmark({"m": method}, sizes=[8, 16], kernel_sizes=[2, 3], repeats=1)
    assert torch.get_num_threads() == threads, "the thread count is restored"
    assert [(r["size"], r["kernel"]) for r in rows] == [(8, 2), (8, 3), (16, 2), (16, 3)]
    assert rows[0]["ratios"]["m"] > 0 and rows[2]["ratios"]["m"] is None
    assert all(r["conv2d_s"] > 0 and r["conv2d_GBps"] > 0 for r in rows)
    calls.clear()
    median_time(lambda: calls.append(1), 3)
    assert len(calls) == 4, "one warm-up run, then the timed repeats"
    assert "PyTorch" in machine_summary() and "1 thread" in machine_summary()


def test_make_bench_prints_a_ratio_table():
    command = [sys.executable, "-m", "bench", "--sizes", "16", "32", "--kernels", "2", "3", "--repeats", "1"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Machine:") and "1 thread" in lines[0]
    table = [line.split() for line in lines if line.strip().startswith(("16²", "32²"))]
    assert len(table) == 4
    for row in table:
        float(row[5]), float(row[6]), float(row[7])  # loop, unfold, shift: ratios to conv2d


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
