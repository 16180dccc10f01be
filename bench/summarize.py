#!/usr/bin/env python3
"""Medians per (shape, workload) of bench/run.sh's runs.jsonl: a table, or one JSON line each.

usage: summarize.py [--json] runs.jsonl
Counts of failures (lost, out of order, incomplete broadcasts) are summed over the runs, not
medianed: one lost message in any run is a failure.
"""
import json
import statistics
import sys

SUMMED = ("lost", "out_of_order", "malformed", "closed_early", "connect_failures")
MEDIANED = (
    "msgs_per_s", "deliveries_per_s", "broadcasts_per_s", "p50_us", "p99_us", "p999_us", "max_us",
    "server_cpu_us_per_unit", "server_cpu_cores", "gen_cpu_cores", "rss_per_conn_bytes", "connections",
    "ctx_switches_per_unit",
)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows):
    groups = {}
    for row in rows:
        groups.setdefault((row["shape"], row["workload"]), []).append(row)
    out = []
    for (shape, workload), runs in groups.items():
        s = {"shape": shape, "workload": workload, "runs": len(runs)}
        for key in MEDIANED:
            value = median([r.get(key) for r in runs])
            if value is not None:
                s[key] = value
        for key in SUMMED:
            if any(key in r for r in runs):
                s[key] = sum(r.get(key, 0) for r in runs)
        if any("broadcasts_sent" in r for r in runs):
            s["broadcasts_sent"] = sum(r["broadcasts_sent"] for r in runs)
            s["broadcasts_complete"] = sum(r["broadcasts_complete"] for r in runs)
            s["broadcasts_skipped"] = sum(r.get("broadcasts_skipped", 0) for r in runs)
        for key in ("allocs_per_unit_by_role", "frees_per_unit_by_role", "server_cpu_by_role_s", "rss_per_conn_bytes_by_role",
                    "ctx_switches_per_unit_by_role"):
            roles = {}
            for r in runs:
                for role, value in (r.get(key) or {}).items():
                    roles.setdefault(role, []).append(value)
            if roles:
                s[key] = {role: median(values) for role, values in roles.items()}
        out.append(s)
    return out


def fmt(value, pattern="{:.0f}"):
    return "-" if value is None else pattern.format(value)


def table(summaries):
    head = ("shape", "workload", "runs", "throughput", "p50 ms", "p99 ms", "p99.9 ms", "lost",
            "srv µs/unit", "srv cores", "gen cores", "other")
    lines = [head]
    for s in summaries:
        throughput = s.get("msgs_per_s") or s.get("deliveries_per_s")
        unit = "msg/s" if "msgs_per_s" in s else "deliv/s" if "deliveries_per_s" in s else ""
        other = []
        if "broadcasts_sent" in s:
            other.append("complete %d/%d, %.0f bcast/s" % (s["broadcasts_complete"], s["broadcasts_sent"], s.get("broadcasts_per_s", 0)))
            if s.get("broadcasts_skipped"):
                other.append("skipped %d" % s["broadcasts_skipped"])
        if "rss_per_conn_bytes" in s:
            other.append("%.0f B RSS/conn at %d" % (s["rss_per_conn_bytes"], s.get("connections", 0)))
        if "allocs_per_unit_by_role" in s:
            other.append("allocs/unit " + ", ".join("%s %.2f" % kv for kv in sorted(s["allocs_per_unit_by_role"].items())
                                                    if kv[0] in ("gateway", "worker", "server")))
        if "ctx_switches_per_unit_by_role" in s:
            other.append("ctx sw/unit " + ", ".join("%s %.3f" % kv for kv in sorted(s["ctx_switches_per_unit_by_role"].items())
                                                    if kv[0] in ("gateway", "worker", "server")))
        if s.get("out_of_order"):
            other.append("out-of-order %d" % s["out_of_order"])
        if s.get("closed_early"):
            other.append("closed %d" % s["closed_early"])
        lines.append((
            s["shape"], s["workload"], str(s["runs"]),
            (fmt(throughput) + " " + unit) if throughput else "-",
            fmt(s.get("p50_us") and s["p50_us"] / 1000, "{:.2f}"), fmt(s.get("p99_us") and s["p99_us"] / 1000, "{:.2f}"),
            fmt(s.get("p999_us") and s["p999_us"] / 1000, "{:.2f}"), fmt(s.get("lost"), "{:d}"),
            fmt(s.get("server_cpu_us_per_unit"), "{:.2f}"), fmt(s.get("server_cpu_cores"), "{:.2f}"),
            fmt(s.get("gen_cpu_cores"), "{:.2f}"), "; ".join(other),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    rendered = []
    for index, line in enumerate(lines):
        rendered.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |")
        if index == 0:
            rendered.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    paths = [a for a in args if a != "--json"]
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    summaries = summarize(rows)
    if as_json:
        for s in summaries:
            print(json.dumps(s))
    else:
        print(table(summaries))
        for s in summaries:
            print(json.dumps(s))


if __name__ == "__main__":
    main()
