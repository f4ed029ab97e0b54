"""Plots p50/p99 reply latency against concurrent streams from the CSV files
of examples/load.rs (run by scripts/bench-load.sh)."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    *inputs, output = sys.argv[1:]
    figure, axes = plt.subplots(1, len(inputs), figsize=(5 * len(inputs), 3.6))
    for axis, path in zip(axes, inputs):
        rows = list(csv.DictReader(open(path)))
        streams = [int(r["streams"]) for r in rows]
        axis.plot(streams, [float(r["p99_ms"]) for r in rows], "o-", label="p99")
        axis.plot(streams, [float(r["p50_ms"]) for r in rows], "s--", label="p50")
        gaps = [float(r.get("result_gap_max_ms") or "nan") for r in rows]
        if any(gap == gap for gap in gaps):  # verify streams: how stale results got
            axis.plot(streams, gaps, "^:", label="longest gap between fresh results")
        axis.axhline(50, color="grey", linestyle=":", label="50 ms target")
        axis.set_title(f"/{rows[0]['endpoint']}")
        axis.set_xlabel("concurrent real-time streams")
        axis.set_ylabel("ms")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(output, dpi=110)


if __name__ == "__main__":
    main()
