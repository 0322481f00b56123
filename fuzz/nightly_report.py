#!/usr/bin/env python3
"""Writes the nightly campaign's report (report.md, report.json, progress.png) from its files.

Reads, in the report directory ci/nightly made: fuzz.log (libFuzzer's fork-mode log, whose
"#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts" lines give the timeline)
and findings.tsv (signature, crash files, first input, finding directory). Each finding
directory's reduce.txt gives the sizes before and after reduction. state-map.json and
state-map-before.json (`foliocheck state-map --json` of the corpus after the campaign and of the
corpus it started from) give the state map: which abstract state classes (core/state_class.def)
were reached per variant, first reached when, which never, and which this night added.
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


def load_json(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        return None


def fmt_time(t):
    return "-" if t is None else f"{t:.0f} s"


def state_map_section(smap, before, png):
    """The state map as markdown, the classes added, and a plot of classes reached over time."""
    md = ["", "## State map", ""]
    if smap is None:
        return md + ["No state map (foliocheck state-map failed; see state-map.log)."], {}
    variants = smap["variants"]
    before_set = {r["class"] for r in before["reached"]} if before else set()
    added = [r for r in smap["reached"] if r["class"] not in before_set]
    summary = {"state_classes": smap["state_classes"], "reached": smap["states_reached"],
               "reached_before": len(before_set), "added": len(added),
               "transition_classes_reached": smap["transitions_reached"]}
    md.append(f"{smap['states_reached']} of {smap['state_classes']} abstract state classes reached "
              f"({len(before_set)} by the corpus this run started from, **{len(added)} added "
              f"tonight**); {smap['transitions_reached']} transition classes (operation, result, "
              "shape left). Each cell: classes reached / feasible, and when first reached "
              "(seconds into the campaign; 0 s: already in the starting corpus).")
    md += ["", "| dimension: value | " + " | ".join(variants) + " |",
           "|---|" + "---:|" * len(variants)]
    never = []
    for row in smap["rows"]:
        cells = []
        for v, c in zip(variants, row["cells"]):
            if c["feasible"] == 0:
                cells.append("-")
                continue
            cells.append(f"{c['reached']}/{c['feasible']} ({fmt_time(c['first'])})")
            if c["reached"] == 0:
                never.append(f"{v} {row['dim']}: {row['value']}")
        md.append(f"| {row['dim']}: {row['value']} | " + " | ".join(cells) + " |")
    md += ["", "Transitions (shapes left after a successful call; E: also returned -EBUSY):", "",
           "| operation | " + " | ".join(variants) + " |", "|---|" + "---:|" * len(variants)]
    for t in smap["transitions"]:
        cells = []
        for v, c in zip(variants, t["cells"]):
            e = " E" if c["ebusy_first"] is not None else (" (no -EBUSY)" if t["can_ebusy"] else "")
            cells.append(f"{c['shapes']}{e}")
            if c["shapes"] == 0:
                never.append(f"{v} {t['op']}")
        md.append(f"| {t['op']} | " + " | ".join(cells) + " |")
    md += ["", f"Never reached ({len(never)}): " + ("none." if not never else ", ".join(never) + ".")]
    if added:
        md += ["", f"Classes added tonight ({len(added)}, first 40 by time):", "", "```"]
        md += [f"{r['first']:7.1f} s  {r['class']}" for r in sorted(added, key=lambda r: r["first"])[:40]]
        md.append("```")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4))
        for v in variants:
            times = sorted(r["first"] for r in smap["reached"] if r["class"].startswith(v + " "))
            if times:
                ax.step(times + [max(times[-1], 1)], list(range(1, len(times) + 1)) + [len(times)],
                        where="post", label=v)
        ax.set_xlabel("seconds into the campaign")
        ax.set_ylabel("state classes reached")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
        fig.suptitle("abstract state classes reached, per variant")
        fig.tight_layout()
        fig.savefig(png, dpi=100)
        md += ["", "![state classes over time](state-map.png)"]
        summary["plot"] = "state-map.png"
    except ImportError:
        md += ["", "No plot: matplotlib is not installed."]
    summary["never"] = never
    return md, summary


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
    ap.add_argument("--asan-checked", type=int, default=0,
                    help="inputs of the work corpus run under ASan+UBSan after the campaign")
    ap.add_argument("--max-len", type=int, required=True)
    ap.add_argument("--campaign-dir", default="")
    ap.add_argument("--campaign-before", type=int, default=0)
    ap.add_argument("--campaign-after", type=int, default=0)
    ap.add_argument("--linux-dirs", default="",
                    help="the kernel trees fuzzed beside the encodings, ;-separated")
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
        "kernel_trees": [d for d in a.linux_dirs.split(";") if d],
        "max_len": a.max_len,
        "executions": last["execs"],
        "exec_per_s": round(last["execs"] / fuzz_time),
        "exec_per_s_per_job": round(last["execs"] / fuzz_time / a.jobs),
        "coverage": {"cov": last["cov"], "features": last["ft"]},
        "corpus": {"before": a.corpus_before, "after_merge": a.corpus_after,
                   "added": a.corpus_after - a.corpus_before, "campaign": a.work_corpus},
        "asan_checked": a.asan_checked,
        "crash_files": last["crashes"], "timeouts": last["timeouts"], "ooms": last["ooms"],
        "findings": found,
        "timeline": points,
        "plot": None if png_error else "progress.png",
    }
    smap = load_json(os.path.join(a.report, "state-map.json"))
    before = load_json(os.path.join(a.report, "state-map-before.json"))
    map_md, summary["state_map"] = state_map_section(smap, before,
                                                     os.path.join(a.report, "state-map.png"))
    summary["campaign_corpus"] = {"dir": a.campaign_dir, "before": a.campaign_before,
                                  "after_merge": a.campaign_after}
    with open(os.path.join(a.report, "report.json"), "w") as out:
        json.dump(summary, out, indent=2)
        out.write("\n")

    md = [f"# Nightly fuzz report: {os.path.basename(a.report)}", ""]
    md.append(f"fuzz_differential at `{commit}`, {a.jobs} job(s), budget {a.budget} s "
              f"(ran {a.elapsed} s), max_len {a.max_len} bytes"
              + (f", **mutant `{a.mutant}` planted**" if a.mutant else "") + ".")
    if summary["kernel_trees"]:
        md.append("Implementations: the encodings and the rmap code of the kernel tree(s) "
                  + ", ".join(f"`{d}`" for d in summary["kernel_trees"]) + ".")
    md += ["", "| executions | exec/s | exec/s per job | coverage (cov) | features (ft) | corpus (before → after merge) |",
           "|---:|---:|---:|---:|---:|---|",
           f"| {summary['executions']} | {summary['exec_per_s']} | {summary['exec_per_s_per_job']} "
           f"| {last['cov']} | {last['ft']} | {a.corpus_before} → {a.corpus_after} "
           f"(+{a.corpus_after - a.corpus_before}) |", "",
           f"The campaign ran without ASan; afterwards all {a.asan_checked} inputs of the work corpus "
           "(everything it started from and kept) ran once under ASan+UBSan "
           "(`fuzz_differential_asan`), and every crash file was classified with it.", ""]
    if png_error:
        md.append(f"No plot: {png_error}.")
    else:
        md.append("![coverage and exec/s over time](progress.png)")
    md += ["", f"Campaign corpus `{a.campaign_dir}` (kept between nights, every input with a "
           f"feature of its own: a function, a state class, or a new count of visits to one): {a.campaign_before} → {a.campaign_after} inputs."]
    md += map_md
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
