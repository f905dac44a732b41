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
    ("presign-get-4k-c16", "GET 4 KiB presigned, c=16"),
]

BARS = {
    "put_ratio": 20.0,  # x s3rver, PUT 4 KiB c=16
    "startup_ms": 20.0,
    "idle_mib": 10.0,
    "rss_increase_mib": 16.0,
    "ready_ms": 50.0,  # issue 10: --ephemeral start to the ready file
    "reset_ms": 100.0,  # issue 10: reset with 1,000 objects and 10,000 events
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


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    rank = max(1, min(len(v), -(-len(v) * p // 100)))
    return v[int(rank) - 1]


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
    multipart = {}
    ready = {}
    resets = []
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
        elif kind == "multipart":
            multipart.setdefault(name, []).append(r)
        elif kind == "ready":
            ready.setdefault(r["consumers"], []).append(r["result"])
        elif kind == "reset":
            resets.append(r)

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
        if not any((name, scen) in load_runs for name in measured):
            continue  # not run (BENCH_SCENARIOS)
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
    tamper = []
    for name in measured:
        codes = sorted({x.get("tampered_status") for x in load_runs.get((name, "presign-get-4k-c16"), [])
                        if x.get("tampered_status") is not None})
        if codes and name != "null":
            verdict = "refused" if all(c == 403 for c in codes) else "**accepted**" if all(
                200 <= c < 300 for c in codes) else "answered"
            tamper.append(f"{name} {verdict} ({', '.join(str(c) for c in codes)})")
    if tamper:
        out.append("Presigned URLs are signed once per key (SigV4 query parameters, "
                   "`X-Amz-SignedHeaders=host`). A presigned GET whose signature's last digit "
                   "was changed: " + "; ".join(tamper) + ".\n")
    if "null" in measured:
        out.append(
            "`null` is bb_nullsrv, which answers 200 to everything without storing: "
            "its column is the signing load generator's ceiling (its GETs return no body).\n"
        )

    res_servers = [s for s in measured if s in startups or s in rss]
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

    mp_inc = {}
    if multipart:
        first = next(iter(multipart.values()))[0]["result"]
        size = first.get("size", 0) / 1048576
        psize = first.get("part_size", 0) / 1048576
        out.append(f"### Multipart upload: {size:,.0f} MiB in {psize:,.0f} MiB parts, "
                   f"{first.get('concurrency', '?')} in flight\n")
        out.append("| server | MiB/s (median) | runs ok | complete, ms | idle RSS, MiB "
                   "| peak RSS, MiB | RSS increase, MiB (max) | ETag ends in -parts |")
        out.append("|---|---|---|---|---|---|---|---|")
        for name in measured:
            runs = multipart.get(name)
            if not runs:
                continue
            good = [r for r in runs if r["result"].get("completed") and
                    r["result"].get("errors", 1) == 0]
            mibs = med([r["result"]["mib_per_s"] for r in good])
            comp = med([r["result"]["complete_ms"] for r in good])
            idle = med([r["idle_kib"] / 1024 for r in runs])
            peak = max(r["peak_kib"] / 1024 for r in runs)
            inc = max((r["peak_kib"] - r["idle_kib"]) / 1024 for r in runs)
            mp_inc[name] = (inc, len(good) == len(runs))
            etag = {r["result"].get("etag_has_part_count") for r in good}
            etag_cell = "-" if not etag else "yes" if etag == {True} else "no" if etag == {
                False} else "mixed"
            out.append(f"| {name} | {fmt_num(mibs, 1)} | {len(good)} of {len(runs)} | "
                       f"{fmt_num(comp)} | {fmt_num(idle, 1)} | {fmt_num(peak, 1)} | "
                       f"{fmt_num(inc, 1)} | {etag_cell} |")
        out.append("")
        out.append("MiB/s is the object's size over the time from CreateMultipartUpload to the "
                   "end of CompleteMultipartUpload; each run is on a fresh server. A run counts "
                   "when the complete succeeded and a HEAD showed the object's full size.\n")

    if ready or resets:
        out.append("### CI mode (bucketbridge): ready file and reset\n")
    if ready:
        out.append("| start | ready file written, ms: median (p90, min-max) | n | health after "
                   "ready | stop (SIGTERM to exit), ms: median (max) | ephemeral dir removed |")
        out.append("|---|---|---|---|---|---|")
        for mode, label in (("on", "default consumers"), ("off", "--no-consumers")):
            rs = ready.get(mode, [])
            if not rs:
                continue
            ms = [x["ready_ms"] for x in rs]
            health = sorted({x["health_status"] for x in rs})
            removed = sum(1 for x in rs if x.get("data_dir_removed"))
            out.append(f"| {label} | {fmt_ms(med(ms))} ({fmt_ms(pct(ms, 90))}, "
                       f"{fmt_ms(min(ms))}-{fmt_ms(max(ms))}) | {len(ms)} | "
                       f"{', '.join(str(h) for h in health)} | "
                       f"{fmt_num(med([x['stop_ms'] for x in rs]))} "
                       f"({fmt_num(max(x['stop_ms'] for x in rs))}) | {removed} of {len(rs)} |")
        out.append("")
        out.append("From fork to the ready file's rename into place (inotify on its directory), "
                   "for `bucketbridge --ephemeral --listen 127.0.0.1:0 --ready-file F`; then, "
                   "not timed, a GET of /_bucketbridge/health from the file's endpoint, and "
                   "SIGTERM (SIGKILL only after 15 s).\n")
        killed = sum(1 for rs in ready.values() for x in rs if x.get("killed"))
        if killed:
            out.append(f"**{killed} start(s) did not exit within 15 s of SIGTERM** and were "
                       "killed.\n")
    reset_ok = []
    if resets:
        prev = 0
        for r in resets:
            res = r["result"]
            seq = res.get("last_sequence", 0)
            ok = res.get("errors", 1) == 0 and res.get("requests", 0) == 1
            reset_ok.append((r, ok, seq - prev if ok else None))
            if ok:
                prev = seq
        good = [(r["result"], d) for r, ok, d in reset_ok if ok]
        client = [x["p50_ms"] for x, _ in good]
        server = [x["server_ms"] for x, _ in good]
        objs = sorted({x["objects_removed"] for x, _ in good})
        evs = [d for _, d in good]
        r0 = resets[0]
        out.append(f"Reset with {r0['objects']:,} objects and {r0['events']:,} PutEvents events "
                   f"(plus one event per object) in the journal and the logger's queue:\n")
        out.append("| resets ok | client, ms: median (min-max) | server duration_ms: median "
                   "(min-max) | objects removed | events journaled per round |")
        out.append("|---|---|---|---|---|")
        if good:
            out.append(f"| {len(good)} of {len(resets)} | {fmt_ms(med(client))} "
                       f"({fmt_ms(min(client))}-{fmt_ms(max(client))}) | {fmt_ms(med(server))} "
                       f"({fmt_ms(min(server))}-{fmt_ms(max(server))}) | "
                       f"{', '.join(str(o) for o in objs)} | "
                       f"{', '.join(f'{e:,}' for e in sorted(set(evs)))} |")
        else:
            out.append(f"| 0 of {len(resets)} | - | - | - | - |")
        out.append("")

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
        if bb in mp_inc:
            inc, all_ok = mp_inc[bb]
            checks.append((f"RSS increase during the multipart uploads < "
                           f"{BARS['rss_increase_mib']:.0f} MiB (largest {inc:.1f} MiB)",
                           inc < BARS["rss_increase_mib"]))
            checks.append(("every multipart upload completed", all_ok))
        for mode, label in (("on", "with consumers"), ("off", "without consumers")):
            ms = [x["ready_ms"] for x in ready.get(mode, [])]
            if ms:
                checks.append((f"ready file {label} < {BARS['ready_ms']:.0f} ms (median)",
                               med(ms) < BARS["ready_ms"]))
        if reset_ok:
            good = [r["result"] for r, ok, _ in reset_ok if ok]
            want_objs = resets[0]["objects"]
            # the journal must really have held the events: seq grew by at least that much
            full = all(r["result"].get("objects_removed") == want_objs and d is not None and
                       d >= resets[0]["events"] for r, ok, d in reset_ok if ok)
            if good:
                checks.append((f"reset < {BARS['reset_ms']:.0f} ms (median, client side)",
                               len(good) == len(reset_ok) and full and
                               med([x["p50_ms"] for x in good]) < BARS["reset_ms"]))
        for what, passed in checks:
            out.append(f"- [{'x' if passed else ' '}] {what}: {'PASS' if passed else 'FAIL'}")
        out.append("")

    for name, why in skipped.items():
        out.append(f"- {name} skipped: {why}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
