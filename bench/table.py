#!/usr/bin/env python3
"""Renders Google Benchmark JSON (with repetitions) as the bench/README.md table:
median, spread (min..max of the repetitions) and the ratio to the baseline that
was measured in the same run (BM_Baseline_X pairs with the BM_Host_X that follows)."""
import json
import statistics
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        per_item = b.get("items_per_second")
        value = 1e9 / per_item if per_item else b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
        runs.setdefault(b["run_name"], []).append(value)
    baseline = None
    print("| benchmark | median | spread (min..max) | ratio to baseline |")
    print("|---|---|---|---|")
    for name, values in runs.items():
        median = statistics.median(values)
        if name.startswith("BM_Baseline"):
            baseline = median
            ratio = "1.0 (baseline)"
        else:
            if not baseline:
                ratio = "n/a"
            elif median / baseline < 0.1:
                ratio = f"1/{baseline / median:,.0f} ({baseline / median:,.0f}x faster)"
            else:
                ratio = f"{median / baseline:.1f}x"
        print(f"| {name} | {median:.1f} ns | {min(values):.1f}..{max(values):.1f} ns | {ratio} |")
    ctx = data["context"]
    print(f"\n{ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz, {ctx.get('date')}")


if __name__ == "__main__":
    main(sys.argv[1])
