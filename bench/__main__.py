"""Benchmark the cross-correlations of the `literate` package against torch's conv2d.

    make bench                      # inputs 16² to 1024², kernels 2², 3², 7², one thread
    python -m bench --threads 2 --repeats 21

Every figure is a ratio to F.conv2d timed in the same run on the same input (the median of
repeated runs), so numbers stay comparable across machines; nothing here asserts a time.
"""

from __future__ import annotations

import argparse

from literate import corr2d, corr2d_shift, corr2d_unfold
from literate.timing import benchmark, machine_summary

LOOP_LIMIT = 128  # the Python loop takes seconds per run beyond this side


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512, 1024])
    parser.add_argument("--kernels", type=int, nargs="+", default=[2, 3, 7])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    methods = {
        "loop": lambda X, K: corr2d(X, K) if X.shape[0] <= LOOP_LIMIT else None,
        "unfold": corr2d_unfold,
        "shift": corr2d_shift,
    }
    print(f"Machine: {machine_summary(args.threads)}")
    print(f"Median of {args.repeats} runs; each method as a ratio to F.conv2d on the same input "
          f"(< 1 is faster); loop timed up to {LOOP_LIMIT}² only.")
    print("Bandwidth: bytes of input + kernel + output divided by the time (the least any method must move).\n")
    header = f"{'input':>7} {'kernel':>6} {'conv2d':>11} {'conv2d':>10} " + " ".join(f"{m + ' ×':>9}" for m in methods)
    print(header + f" {'shift':>10}")
    print(f"{'':>7} {'':>6} {'time':>11} {'GB/s':>10} " + " ".join(f"{'':>9}" for _ in methods) + f" {'GB/s':>10}")
    for row in benchmark(methods, args.sizes, args.kernels, args.repeats, args.threads):
        ratios = " ".join(f"{'—' if r is None else f'{r:.2f}':>9}" for r in row["ratios"].values())
        shift_bandwidth = row["conv2d_GBps"] / row["ratios"]["shift"]
        print(f"{str(row['size']) + '²':>7} {str(row['kernel']) + '²':>6} {row['conv2d_s'] * 1e3:>8.3f} ms "
              f"{row['conv2d_GBps']:>10.2f} {ratios} {shift_bandwidth:>10.2f}")


if __name__ == "__main__":
    main()
