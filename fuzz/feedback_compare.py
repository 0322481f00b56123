#!/usr/bin/env python3
"""Side-by-side measurement of fuzz_differential with and without state feedback (docs/fuzzing.md).

Two modes, each pair of runs started together, one process pinned to each core, so that both
see the same machine load:

  kill     for every mutant of impl/mutants.def and every seed: the time until libFuzzer's first
           crash whose FOLIOCHECK-SIGNATURE is a real finding (not a harness error), with
           FOLIOCHECK_STATE_FEEDBACK=1 against =0; a table of kills, median seconds, median
           executions.
  classes  one campaign each way for --budget seconds; the abstract state classes and
           transition classes any input reached (FOLIOCHECK_STATE_MAP_OUT), at each of --at.

With --baseline=FUZZER the pairs are this build against another (both with state feedback), not
feedback against none: how a change to the target or its build moves the kills.

Both start from the same corpus (default corpus/fuzz_differential, what ci/nightly starts from;
--header-only: 20 inputs of a header and no operation, every variant, word size and folio kind,
so that the seeds' kills do not hide the search) and use the options of
fuzz/fuzz_differential.options. The load average is printed before and
after. Exit 0 when it ran, 2 on bad arguments.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def options_file():
    opts = []
    in_section = False
    with open(os.path.join(ROOT, "fuzz", "fuzz_differential.options")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                in_section = line == "[libfuzzer]"
                continue
            m = re.match(r"([a-z_]+)\s*=\s*(\S+)", line)
            if in_section and m:
                opts.append(f"-{m.group(1)}={m.group(2)}")
    return opts


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start(fuzzer, cpu, env_extra, args, workdir, log):
    env = dict(os.environ)
    env.update(env_extra)
    cmd = [fuzzer] + args
    if shutil.which("taskset") and cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)


EXECS = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
SIG = re.compile(r"FOLIOCHECK-SIGNATURE: (\S+)")
STATUS_EXECS = re.compile(r"^#(\d+)\s", re.M)


def header_only_corpus(scratch):
    """Every variant (byte 2 bits 0-1, and the proposal through byte 3's 0xA nibble), both word
    sizes and anon/file folios of PMD size, scaled (fuzz/decoder.h), with no operation."""
    d = tempfile.mkdtemp(prefix="header-only-", dir=scratch)
    n = 0
    for sem in range(5):
        for bits32 in (0, 4):
            for ftype in (0, 8):
                geometry = 0xA0 if sem == 4 else 0x00
                data = bytes([ord("F"), ord("C"), (sem % 4) | bits32 | ftype, geometry, 2])
                with open(os.path.join(d, f"h{n:02d}"), "wb") as f:
                    f.write(data)
                n += 1
    return d


def pairs(a):
    """The two sides of each side-by-side pair: (label, fuzzer, feedback)."""
    if a.baseline:
        return (("this build", a.fuzzer, 1), ("baseline", a.baseline, 1))
    return (("with feedback", a.fuzzer, 1), ("without", a.fuzzer, 0))


def one_kill(fuzzer, mutant, seed, feedback, budget, corpus, cpu, scratch):
    work = tempfile.mkdtemp(prefix=f"fb{feedback}-", dir=scratch)
    os.mkdir(os.path.join(work, "new"))
    log = os.path.join(work, "log")
    args = options_file() + [f"-seed={seed}", f"-max_total_time={budget}",
                             "-print_final_stats=1", f"-artifact_prefix={work}/",
                             os.path.join(work, "new"), corpus]
    env = {"FOLIOCHECK_MUTANT": mutant, "FOLIOCHECK_STATE_FEEDBACK": str(feedback)}
    t0 = time.monotonic()
    proc = start(fuzzer, cpu, env, args, work, log)
    return {"proc": proc, "t0": t0, "work": work, "log": log}


def wait_all(runs):
    """Waits for every run's process as each ends, noting its wall seconds (from its start) and
    CPU seconds (user + sys, which the load does not dilute)."""
    left = {r["proc"].pid: r for r in runs}
    while left:
        pid, status, usage = os.wait4(-1, 0)
        r = left.pop(pid, None)
        if r is None:
            continue
        r["proc"].returncode = os.waitstatus_to_exitcode(status)
        r["seconds"] = time.monotonic() - r["t0"]
        r["cpu"] = usage.ru_utime + usage.ru_stime


def finish_kill(run):
    cpu, seconds = run["cpu"], run["seconds"]
    text = open(run["log"], errors="replace").read()
    crash = [f for f in os.listdir(run["work"]) if f.startswith("crash-")]
    sig = SIG.search(text)
    killed = bool(crash) and sig is not None and not sig.group(1).startswith("harness-")
    m = EXECS.search(text)
    execs = int(m.group(1)) if m else None
    if execs is None:
        seen = STATUS_EXECS.findall(text)
        execs = int(seen[-1]) if seen else 0
    shutil.rmtree(run["work"], ignore_errors=True)
    return {"killed": killed, "seconds": round(seconds, 2), "cpu": round(cpu, 2), "execs": execs,
            "signature": sig.group(1) if sig else None}


def mutant_names(foliocheck):
    out = subprocess.run([foliocheck, "mutants", "--list", "--json"], capture_output=True,
                         text=True, check=True).stdout
    return [m["name"] for m in json.loads(out)]


def cell(runs):
    k = [r for r in runs if r["killed"]]
    if not k:
        return f"0/{len(runs)}"
    # A run that did not kill counts as the whole budget for the median.
    secs = statistics.median(r["seconds"] if r["killed"] else float("inf") for r in runs)
    execs = statistics.median(r["execs"] if r["killed"] else float("inf") for r in runs)
    s = "not killed" if secs == float("inf") else f"{secs:.2f} s"
    e = "-" if execs == float("inf") else f"{int(execs):,}"
    cpu = statistics.median(r["cpu"] if r["killed"] else float("inf") for r in runs)
    c = "-" if cpu == float("inf") else f"{cpu:.2f}"
    return f"{len(k)}/{len(runs)}, {s}, {c} s CPU, {e}"


def kill_mode(a):
    mutants = a.mutant or mutant_names(a.foliocheck)
    results = {}
    print(f"load average before: {loadavg()}", flush=True)
    sides = pairs(a)
    print(f"| mutant | {sides[0][0]}: killed, wall, CPU, executions | {sides[1][0]}: killed, wall, CPU, executions |")
    print("|---|---|---|")
    for name in mutants:
        results[name] = {"1": [], "0": []}
        for seed in range(1, a.runs + 1):
            runs = {side: one_kill(fuzzer, name, seed, fb, a.budget, a.corpus, cpu, a.scratch)
                    for side, ((_, fuzzer, fb), cpu) in zip(("1", "0"), zip(sides, a.cores))}
            wait_all(list(runs.values()))
            for side, run in runs.items():
                results[name][side].append(finish_kill(run))
        r = results[name]
        print(f"| {name} | {cell(r['1'])} | {cell(r['0'])} |", flush=True)
    print(f"load average after: {loadavg()}", flush=True)
    every = {fb: [x for rs in results.values() for x in rs[fb]] for fb in ("1", "0")}
    for fb, label in (("1", sides[0][0]), ("0", sides[1][0])):
        runs = every[fb]
        print(f"{label}: {sum(r['killed'] for r in runs)}/{len(runs)} runs killed, median "
              f"{statistics.median(r['seconds'] if r['killed'] else a.budget for r in runs):.2f} s, "
              f"slowest kill {max((r['seconds'] for r in runs if r['killed']), default=0):.2f} s, "
              f"median CPU {statistics.median(r['cpu'] for r in runs):.2f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


def classes_mode(a):
    at = sorted(a.at)
    print(f"load average before: {loadavg()}", flush=True)
    runs = {}
    sides = pairs(a)
    for (label, fuzzer, fb), cpu in zip(sides, a.cores):
        work = tempfile.mkdtemp(prefix=f"classes{fb}-", dir=a.scratch)
        os.mkdir(os.path.join(work, "new"))
        out = os.path.join(work, "map")
        args = options_file() + [f"-seed={a.seed}", f"-max_total_time={a.budget}",
                                 "-print_final_stats=1", f"-artifact_prefix={work}/",
                                 os.path.join(work, "new"), a.corpus]
        env = {"FOLIOCHECK_STATE_FEEDBACK": str(fb), "FOLIOCHECK_STATE_MAP_OUT": out,
               "FOLIOCHECK_MUTANT": ""}
        side = 1 if cpu == a.cores[0] else 0
        runs[side] = (start(fuzzer, cpu, env, args, work, os.path.join(work, "log")), work, out)
    waited = [{"proc": proc, "t0": 0.0} for proc, _, _ in runs.values()]
    wait_all(waited)
    table = {}
    for (fb, (proc, work, out)), w in zip(runs.items(), waited):
        cpu = w["cpu"]
        text = open(os.path.join(work, "log"), errors="replace").read()
        m = EXECS.search(text)
        reached = {"state": [], "transition": []}
        if os.path.exists(out):
            for line in open(out):
                kind, _, t = line.split()
                reached[kind].append(float(t))
        table[fb] = {"execs": int(m.group(1)) if m else None, "cpu": round(cpu, 1),
                     "corpus": len(os.listdir(os.path.join(work, "new"))),
                     "at": {t: {k: sum(1 for x in v if x <= t) for k, v in reached.items()}
                            for t in at}}
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {loadavg()}", flush=True)
    print(f"| seconds | state classes, {sides[0][0]} | {sides[1][0]} | transition classes, {sides[0][0]} | {sides[1][0]} |")
    print("|---:|---:|---:|---:|---:|")
    for t in at:
        w, wo = table[1]["at"][t], table[0]["at"][t]
        print(f"| {t} | {w['state']} | {wo['state']} | {w['transition']} | {wo['transition']} |")
    for fb, label in ((1, sides[0][0]), (0, sides[1][0])):
        print(f"{label}: {table[fb]['execs']} executions in {table[fb]['cpu']} CPU s, "
              f"{table[fb]['corpus']} new corpus inputs")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(table, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["kill", "classes"])
    p.add_argument("--fuzzer", default=os.path.join(ROOT, "build/fuzz/fuzz/fuzz_differential"))
    p.add_argument("--baseline", help="another fuzz_differential to compare against, both with feedback")
    p.add_argument("--header-only", action="store_true",
                   help="start from 20 header-only inputs instead of --corpus")
    p.add_argument("--foliocheck", default=os.path.join(ROOT, "build/fuzz/tools/foliocheck"))
    p.add_argument("--corpus", default=os.path.join(ROOT, "corpus/fuzz_differential"))
    p.add_argument("--budget", type=int, default=60, help="seconds per run")
    p.add_argument("--runs", type=int, default=3, help="kill: seeds 1..N per mutant")
    p.add_argument("--seed", type=int, default=1, help="classes: libFuzzer's -seed")
    p.add_argument("--mutant", action="append", help="kill: only these (repeatable)")
    p.add_argument("--at", type=int, action="append", help="classes: report at these seconds")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--scratch", default=tempfile.gettempdir())
    p.add_argument("--cores", default="0,1",
                   help="the cores of the first and the second side (e.g. 1,0 to swap them)")
    a = p.parse_args()
    try:
        a.cores = tuple(int(c) for c in a.cores.split(","))
        assert len(a.cores) == 2 and a.cores[0] != a.cores[1]
    except (ValueError, AssertionError):
        p.error(f"--cores: two different core numbers, e.g. 0,1; got {a.cores!r}")
    if not os.access(a.fuzzer, os.X_OK):
        p.error(f"no fuzz_differential at {a.fuzzer} (cmake --preset fuzz && cmake --build build/fuzz)")
    if a.baseline and not os.access(a.baseline, os.X_OK):
        p.error(f"--baseline: {a.baseline} is not an executable")
    if a.header_only:
        a.corpus = header_only_corpus(a.scratch)
    if not os.path.isdir(a.corpus):
        p.error(f"no corpus directory {a.corpus}")
    a.corpus = os.path.abspath(a.corpus)
    if a.mode == "classes" and not a.at:
        a.at = [a.budget]
    (kill_mode if a.mode == "kill" else classes_mode)(a)


if __name__ == "__main__":
    sys.exit(main())
