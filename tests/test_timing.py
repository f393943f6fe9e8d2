"""Tests of literate/timing.py: the timing harness, its table and its sentences, and `make bench`."""

from __future__ import annotations

import subprocess
import sys

import torch

from literate import corr2d_shift
from literate.timing import bench_summary, bench_table, benchmark, machine_summary, median_time
from tests.helpers import ROOT


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


def row(size, kernel, **ratios):
    return {"size": size, "kernel": kernel, "conv2d_s": 1e-3, "conv2d_GBps": 1.0, "ratios": ratios}


def test_the_summary_says_what_the_rows_say():
    rows = [row(64, 3, loop=900.0, unfold=3.0, shift=1.5), row(512, 3, loop=None, unfold=2.5, shift=0.5)]
    lines = bench_summary(rows).splitlines()
    assert lines == [
        "- **loop** took 9e+02× conv2d's time: slower than conv2d on every input measured.",
        "- **unfold** took 2.5× to 3× conv2d's time: slower than conv2d on every input measured.",
        "- **shift** took 0.5× to 1.5× conv2d's time: faster than conv2d on 512² (kernel 3²).",
    ]
    table = bench_table(rows, "a machine")
    assert "| 512² | 3² | 1.000 ms | 1.00 GB/s | — | 2.50 | 0.50 |" in table
    assert table.endswith("*Measured while this page was built, on: a machine.*")


def test_a_method_skipped_everywhere_gets_no_sentence():
    assert bench_summary([row(8, 2, never=None, m=2.0)]) == "- **m** took 2× conv2d's time: slower than conv2d on every input measured."
