#!/usr/bin/env python3
"""Turns one foliocheck_bench JSON run into the Markdown tables of docs/benchmarks.md.

usage: foliocheck_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
           --benchmark_out=run.json --benchmark_out_format=json
       bench/report.py run.json > tables.md

Every figure is the median CPU time per operation over the repetitions of that one run, so that
ratios compare numbers measured side by side on the same machine at the same time.
"""
import json
import sys

ORDERS = [0, 2, 4, 9, 18]


def load(path):
    with open(path) as f:
        run = json.load(f)
    medians = {}
    for b in run["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        per_item = 1e9 / b["items_per_second"] if b.get("items_per_second") else None
        medians[b["run_name"]] = per_item  # ns of CPU time per operation
    return run["context"], medians


def find(medians, prefix):
    for name, ns in medians.items():
        if name == prefix or name.startswith(prefix + "/min_time"):
            return ns
    return None


def fmt(ns):
    if ns is None:
        return "-"
    return f"{ns:.0f}" if ns >= 100 else f"{ns:.1f}" if ns >= 1 else f"{ns:.2f}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def row_by_order(label, medians, name_of):
    cells = [find(medians, name_of(o)) for o in ORDERS]
    return f"| {label} | " + " | ".join(fmt(c) for c in cells) + f" | {ratio(cells[4], cells[2])} |"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/report.py RUN.json")
    context, m = load(sys.argv[1])
    out = []
    out.append(f"Run: {context.get('date', '?')}, {context.get('num_cpus', '?')} CPUs at "
               f"{context.get('mhz_per_cpu', '?')} MHz, load average {context.get('load_avg', '?')}, "
               f"library build type {context.get('library_build_type', '?')}.")
    out.append("")
    out.append("### Cost of one single-PTE operation by folio order (ns of CPU time, median)")
    out.append("")
    out.append("| what | " + " | ".join(f"order {o}" for o in ORDERS) + " | order 18 / order 4 |")
    out.append("|---|" + "---|" * (len(ORDERS) + 1))
    out.append(row_by_order("reference model (precondition + apply)", m, lambda o: f"ModelPtePair/{o}"))
    encodings = sorted({n.split("/")[1] for n in m if n.startswith("EncodingPtePair/")})
    for e in encodings:
        out.append(row_by_order(f"encoding `{e}`", m, lambda o, e=e: f"EncodingPtePair/{e}/{o}"))
    diffs = sorted({n.split("/")[1] for n in m if n.startswith("DifferentialPtePair/")})
    for e in diffs:
        out.append(row_by_order(f"Differential::step, `{e}`, incremental only", m,
                                lambda o, e=e: f"DifferentialPtePair/{e}/{o}/0"))
    for e in diffs:
        out.append(row_by_order(f"Differential::step, `{e}`, full sweep every 64 ops", m,
                                lambda o, e=e: f"DifferentialPtePair/{e}/{o}/64"))
    scaled = sorted({n.split("/")[1] for n in m if n.startswith("DifferentialPtePairScaledSweep/")})
    for e in scaled:
        out.append(row_by_order(f"Differential::step, `{e}`, full sweep every max(64, N) ops", m,
                                lambda o, e=e: f"DifferentialPtePairScaledSweep/{e}/{o}/-1"))
    out.append("")
    out.append("### Operations per second (millions, median)")
    out.append("")
    out.append("| what | " + " | ".join(f"order {o}" for o in ORDERS) + " |")
    out.append("|---|" + "---|" * len(ORDERS))

    def mops(label, name_of):
        cells = [find(m, name_of(o)) for o in ORDERS]
        out.append(f"| {label} | " + " | ".join("-" if c is None else f"{1e3 / c:.2f}" for c in cells) + " |")

    mops("reference model", lambda o: f"ModelPtePair/{o}")
    for e in encodings:
        mops(f"`{e}`", lambda o, e=e: f"EncodingPtePair/{e}/{o}")
    for e in diffs:
        mops(f"Differential::step with `{e}` (incremental)", lambda o, e=e: f"DifferentialPtePair/{e}/{o}/0")
    out.append("")
    out.append("### Cost per operation by trace length (reset + trace + final sweep, `mm-id-64`, anon order 9)")
    out.append("")
    out.append("| operations | ns per operation (CPU, median) | relative to 65536 |")
    out.append("|---|---|---|")
    lengths = [16, 256, 4096, 65536]
    base = find(m, "DifferentialTrace/65536")
    for n in lengths:
        v = find(m, f"DifferentialTrace/{n}")
        out.append(f"| {n} | {fmt(v)} | {ratio(v, base)} |")
    batch_table(m, out)
    print("\n".join(out))


BATCHES = [1, 16, 512]


def batch_table(m, out):
    """BatchPair/*: each 64-bit encoding beside the raw int[] floor and the kernel tree that builds
    its variant, per operation (half a map+unmap pair) and per touched page."""
    encodings = sorted({n.split("/")[1] for n in m
                        if n.startswith("BatchPair/") and ":" not in n.split("/")[1]
                        and n.split("/")[1] != "raw-int-array"})
    if not encodings:
        return
    kernels = {}  # variant -> [tree:variant names]
    for n in m:
        if n.startswith("BatchPair/") and ":" in n.split("/")[1]:
            tree, variant = n.split("/")[1].split(":")
            kernels.setdefault(variant, set()).add(f"{tree}:{variant}")
    out.append("")
    out.append("### Batches of pages per call: floor, encoding, kernel (ns of CPU time, median)")
    out.append("")
    out.append("| encoding | pages | raw int[] per op | encoding per op | kernel per op "
               "| raw int[] per page | encoding per page | kernel per page |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for e in encodings:
        variant = e.rsplit("-", 1)[0]
        ks = sorted(kernels.get(variant, []))
        for b in BATCHES:
            raw = find(m, f"BatchPair/raw-int-array/{b}")
            enc = find(m, f"BatchPair/{e}/{b}")
            ker = [find(m, f"BatchPair/{k}/{b}") for k in ks]
            per_op = lambda v: None if v is None else v * b
            kname = ", ".join(f"{fmt(per_op(v))} ({k.split(':')[0]})" for k, v in zip(ks, ker)) or "-"
            kpage = ", ".join(fmt(v) for v in ker) or "-"
            out.append(f"| `{e}` | {b} | {fmt(per_op(raw))} | {fmt(per_op(enc))} | {kname} "
                       f"| {fmt(raw)} | {fmt(enc)} | {kpage} |")


if __name__ == "__main__":
    main()
