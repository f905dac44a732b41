#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn bench/run.sh's results.jsonl into the markdown report (medians)."""

import json
import statistics
import sys

SCENARIOS = [
    ("put-4k-c1", "PUT 4 KiB, c=1"),
    ("put-4k-c16", "PUT 4 KiB, c=16"),
    ("get-4k-c1", "GET 4 KiB, c=1"),
    ("get-4k-c16", "GET 4 KiB, c=16"),
    ("put-1m-c4", "PUT 1 MiB, c=4"),
    ("get-1m-c4", "GET 1 MiB, c=4"),
]

BARS = {
    "put_ratio": 20.0,  # x s3rver, PUT 4 KiB c=16
    "startup_ms": 20.0,
    "idle_mib": 10.0,
    "rss_increase_mib": 16.0,
}


def med(values):
    return statistics.median(values) if values else None


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def fmt_num(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def main():
    rows = load(sys.argv[1])
    servers = []
    skipped = {}
    load_runs = {}
    startups = {}
    rss = {}
    env = {}
    for r in rows:
        if r["kind"] == "env":
            env[r["key"]] = r["value"]
            continue
        name = r["server"]
        if name not in servers:
            servers.append(name)
        kind = r["kind"]
        if kind == "skipped":
            skipped[name] = r["why"]
        elif kind == "load":
            load_runs.setdefault((name, r["scenario"]), []).append(r["result"])
        elif kind == "startup":
            startups.setdefault(name, []).append(r["result"]["startup_ms"])
        elif kind == "rss":
            rss[name] = r

    def stat(name, scen, key):
        runs = load_runs.get((name, scen), [])
        return med([x[key] for x in runs if key in x and x.get("requests", 0) > 0])

    def errors(name, scen):
        return sum(x.get("errors", 0) for x in load_runs.get((name, scen), []))

    measured = [s for s in servers if s not in skipped]
    out = []
    if env:
        facts = [f"{env.get('date', '?')}, {env.get('cores', '?')} cores"]
        if "loadavg_start" in env:
            facts.append(f"load average {env['loadavg_start']} at the start, "
                         f"{env.get('loadavg_end', '?')} at the end")
        versions = [f"{k} {env[k]}" for k in ("bucketbridge", "libcurl", "node", "s3rver", "moto")
                    if env.get(k)]
        if versions:
            facts.append(", ".join(versions))
        if "settings" in env:
            facts.append(env["settings"])
        out.append("Measured " + "; ".join(facts) + ".\n")
    out.append("### Throughput: req/s (p50 / p99 latency, ms), median of the runs\n")
    out.append("| scenario | " + " | ".join(measured) + " |")
    out.append("|---|" + "---|" * len(measured))
    for scen, label in SCENARIOS:
        cells = []
        for name in measured:
            rps = stat(name, scen, "req_per_s")
            if rps is None:
                cells.append("failed" if (name, scen) in load_runs else "-")
                continue
            cell = "%s (%s / %s)" % (
                fmt_num(rps),
                fmt_ms(stat(name, scen, "p50_ms")),
                fmt_ms(stat(name, scen, "p99_ms")),
            )
            err = errors(name, scen)
            if err:
                cell += f" **{err} errors**"
            cells.append(cell)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    if "null" in measured:
        out.append(
            "`null` is bb_nullsrv, which answers 200 to everything without storing: "
            "its column is the signing load generator's ceiling (its GETs return no body).\n"
        )

    res_servers = measured
    big_mib = None
    if res_servers:
        for r in rss.values():
            size = r["result"].get("size")
            if size:
                big_mib = size / 1048576
        big = f"{big_mib:,.0f} MiB" if big_mib else "big"
        out.append("### Startup and memory\n")
        out.append(
            "| server | startup to first answer, ms (median) | idle RSS, MiB "
            f"| peak RSS during {big} PUT, MiB | RSS increase, MiB | {big} PUT, s |"
        )
        out.append("|---|---|---|---|---|---|")
        for name in res_servers:
            st = med(startups.get(name, []))
            r = rss.get(name)
            if r:
                idle = r["idle_kib"] / 1024
                peak = r["peak_kib"] / 1024
                res = r["result"]
                ok = res.get("requests", 0) > 0 and res.get("errors", 1) == 0
                secs = fmt_num(res.get("seconds"), 1) if ok else "failed"
                inc = fmt_num(peak - idle, 1)
                cells = [fmt_num(idle, 1), fmt_num(peak, 1), inc, secs]
            else:
                cells = ["-"] * 4
            n = len(startups.get(name, []))
            st_cell = f"{fmt_ms(st)} (n={n})" if st is not None else "-"
            out.append(f"| {name} | {st_cell} | " + " | ".join(cells) + " |")
        out.append("")
        if "null" in startups:
            out.append("`null`'s startup is the method's floor: fork, exec and the probe's "
                       "first connection to a server with nothing to set up.\n")

    bb = "bucketbridge"
    if bb in measured:
        out.append("### bucketbridge against the bar\n")
        checks = []
        for scen, label in (("put-4k-c16", "PUT 4 KiB c=16"), ("get-4k-c16", "GET 4 KiB c=16")):
            mine = stat(bb, scen, "req_per_s")
            for peer in ("s3rver", "moto"):
                theirs = stat(peer, scen, "req_per_s")
                if mine and theirs:
                    out.append(f"- {label}: {mine / theirs:.1f}x {peer}")
                    if peer == "s3rver" and scen == "put-4k-c16":
                        checks.append((f"PUT 4 KiB c=16 >= {BARS['put_ratio']:.0f}x s3rver",
                                       mine / theirs >= BARS["put_ratio"]))
            ceiling = stat("null", scen, "req_per_s")
            if mine and ceiling:
                out.append(f"- {label}: {100 * mine / ceiling:.0f}% of the null-server ceiling "
                           f"({fmt_num(ceiling)} req/s)")
        put = stat(bb, "put-4k-c16", "req_per_s")
        get = stat(bb, "get-4k-c16", "req_per_s")
        if put and get:
            checks.append(("GET 4 KiB c=16 faster than PUT", get > put))
        st = med(startups.get(bb, []))
        if st is not None:
            checks.append((f"startup < {BARS['startup_ms']:.0f} ms", st < BARS["startup_ms"]))
        r = rss.get(bb)
        if r:
            idle = r["idle_kib"] / 1024
            inc = (r["peak_kib"] - r["idle_kib"]) / 1024
            ok = r["result"].get("requests", 0) > 0 and r["result"].get("errors", 1) == 0
            checks.append((f"idle RSS < {BARS['idle_mib']:.0f} MiB", idle < BARS["idle_mib"]))
            checks.append((f"RSS increase during the big PUT < {BARS['rss_increase_mib']:.0f} MiB",
                           ok and inc < BARS["rss_increase_mib"]))
        for what, passed in checks:
            out.append(f"- [{'x' if passed else ' '}] {what}: {'PASS' if passed else 'FAIL'}")
        out.append("")

    for name, why in skipped.items():
        out.append(f"- {name} skipped: {why}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
