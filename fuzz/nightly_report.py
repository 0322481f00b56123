#!/usr/bin/env python3
"""Writes the nightly campaign's report (report.md, report.json, progress.png) from its files.

Reads, in the report directory ci/nightly made: fuzz.log (libFuzzer's fork-mode log, whose
"#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts" lines give the timeline)
and findings.tsv (signature, crash files, first input, finding directory). Each finding
directory's reduce.txt gives the sizes before and after reduction.
"""
import argparse
import json
import os
import re
import subprocess
import sys

STATUS = re.compile(
    r"^#(\d+): cov: (\d+) ft: (\d+) corp: (\d+) exec/s:? (\d+) "
    r"oom/timeout/crash: (\d+)/(\d+)/(\d+) time: (\d+)s")
SIZE = re.compile(r"^(.*?): (\d+) operations?\b(.*)$")


def timeline(log_path):
    points = []
    with open(log_path, "r", errors="replace") as log:
        for line in log:
            m = STATUS.match(line)
            if m:
                execs, cov, ft, corp, _, ooms, timeouts, crashes, t = map(int, m.groups())
                points.append({"time_s": t, "execs": execs, "cov": cov, "ft": ft, "corpus": corp,
                               "ooms": ooms, "timeouts": timeouts, "crashes": crashes})
    # exec/s over the last 10 s or more: jobs report when they end, so shorter windows are noise.
    for i, cur in enumerate(points):
        j = i
        while j > 0 and cur["time_s"] - points[j]["time_s"] < 10:
            j -= 1
        base = points[j] if j < i else {"time_s": 0, "execs": 0}
        dt = cur["time_s"] - base["time_s"]
        cur["exec_per_s"] = round((cur["execs"] - base["execs"]) / dt) if dt > 0 else None
    return points


def findings(report):
    out = []
    path = os.path.join(report, "findings.tsv")
    if not os.path.exists(path):
        return out
    with open(path) as tsv:
        for line in tsv:
            sig, count, first, directory = line.rstrip("\n").split("\t")
            f = {"signature": sig, "crash_files": int(count), "input": first,
                 "directory": directory}
            reduce_txt = os.path.join(directory, "reduce.txt")
            if os.path.exists(reduce_txt):
                sizes = []
                with open(reduce_txt) as r:
                    for rl in r:
                        m = SIZE.match(rl.strip())
                        if m:
                            sizes.append({"ops": int(m.group(2)), "text": rl.split(": ", 1)[1].strip()})
                        if rl.startswith("reproduce: "):
                            f["reproduce"] = rl[len("reproduce: "):].strip()
                if len(sizes) >= 2:
                    f["before"], f["after"] = sizes[0], sizes[1]
            reduced = os.path.join(directory, "reduced.trace")
            f["reduced_trace"] = reduced if os.path.exists(reduced) else None
            out.append(f)
    return sorted(out, key=lambda f: f["signature"])


def plot(points, png):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (apt-get install python3-matplotlib)"
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    t = [p["time_s"] for p in points]
    ax1.plot(t, [p["cov"] for p in points], marker=".", label="coverage (cov)")
    ax1.plot(t, [p["ft"] for p in points], marker=".", label="features (ft)")
    ax1.set_ylabel("coverage")
    ax1.legend(loc="lower right")
    ax1.grid(True, alpha=0.3)
    rate = [(p["time_s"], p["exec_per_s"]) for p in points if p["exec_per_s"] is not None]
    ax2.plot([r[0] for r in rate], [r[1] for r in rate], marker=".", color="tab:green")
    ax2.set_ylabel("exec/s (all jobs)")
    ax2.set_xlabel("seconds")
    ax2.grid(True, alpha=0.3)
    fig.suptitle("fuzz_differential: coverage and speed over time")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--report", required=True)
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--mutant", default="")
    ap.add_argument("--elapsed", type=int, required=True)
    ap.add_argument("--corpus-before", type=int, required=True)
    ap.add_argument("--corpus-after", type=int, required=True)
    ap.add_argument("--work-corpus", type=int, required=True)
    ap.add_argument("--max-len", type=int, required=True)
    a = ap.parse_args()

    points = timeline(os.path.join(a.report, "fuzz.log"))
    last = points[-1] if points else {"execs": 0, "cov": 0, "ft": 0, "corpus": 0, "time_s": 0,
                                      "crashes": 0, "timeouts": 0, "ooms": 0}
    fuzz_time = max(last["time_s"], 1)
    found = findings(a.report)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    png_error = plot(points, os.path.join(a.report, "progress.png")) if points else "no status lines"

    summary = {
        "target": "fuzz_differential",
        "commit": commit,
        "budget_s": a.budget,
        "elapsed_s": a.elapsed,
        "jobs": a.jobs,
        "mutant": a.mutant or None,
        "max_len": a.max_len,
        "executions": last["execs"],
        "exec_per_s": round(last["execs"] / fuzz_time),
        "exec_per_s_per_job": round(last["execs"] / fuzz_time / a.jobs),
        "coverage": {"cov": last["cov"], "features": last["ft"]},
        "corpus": {"before": a.corpus_before, "after_merge": a.corpus_after,
                   "added": a.corpus_after - a.corpus_before, "campaign": a.work_corpus},
        "crash_files": last["crashes"], "timeouts": last["timeouts"], "ooms": last["ooms"],
        "findings": found,
        "timeline": points,
        "plot": None if png_error else "progress.png",
    }
    with open(os.path.join(a.report, "report.json"), "w") as out:
        json.dump(summary, out, indent=2)
        out.write("\n")

    md = [f"# Nightly fuzz report: {os.path.basename(a.report)}", ""]
    md.append(f"fuzz_differential at `{commit}`, {a.jobs} job(s), budget {a.budget} s "
              f"(ran {a.elapsed} s), max_len {a.max_len} bytes"
              + (f", **mutant `{a.mutant}` planted**" if a.mutant else "") + ".")
    md += ["", "| executions | exec/s | exec/s per job | coverage (cov) | features (ft) | corpus (before → after merge) |",
           "|---:|---:|---:|---:|---:|---|",
           f"| {summary['executions']} | {summary['exec_per_s']} | {summary['exec_per_s_per_job']} "
           f"| {last['cov']} | {last['ft']} | {a.corpus_before} → {a.corpus_after} "
           f"(+{a.corpus_after - a.corpus_before}) |", ""]
    if png_error:
        md.append(f"No plot: {png_error}.")
    else:
        md.append("![coverage and exec/s over time](progress.png)")
    md += ["", f"## Findings: {len(found)} signature(s)", ""]
    if not found:
        md.append("None: every input agreed with the reference model.")
    else:
        md += ["| signature | crash files | reduced to | reproduce |", "|---|---:|---|---|"]
        for f in found:
            reduced = f"{f['before']['ops']} → {f['after']['ops']} operations" if "after" in f else "not reduced"
            repro = f"`{f['reproduce']}`" if "reproduce" in f else f"`foliocheck decode {f['directory']}/input`"
            md.append(f"| `{f['signature']}` | {f['crash_files']} | {reduced} | {repro} |")
        for f in found:
            if f.get("reduced_trace"):
                with open(f["reduced_trace"]) as t:
                    md += ["", f"### {f['signature']}", "", "```", t.read().rstrip(), "```"]
    with open(os.path.join(a.report, "report.md"), "w") as out:
        out.write("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
