#!/usr/bin/env python3
"""Turns Google Benchmark JSON from bench_gemm (lowbit) and bench_peers into the report:
first the user's path (lowbit's fused float and requantized output stages against oneDNN with the
same fused attributes and XNNPACK qu8), then the kernel table (int32 output), a table per shape (lowbit GOPS per cell, each peer's GOPS, lowbit's ratio to the best int8 peer
and to fp32), a Markdown file and a PNG chart of speed-ups. Microkernel results (--kernels) are
compared with the rate dispatch expects of each kernel on this host's core profile
(--core-profile: `lowbit_info --json`, from include/lowbit/dispatch/core_profile.hpp); without
one, with the Intel port-limit ceilings the benchmarks carry. Usage:
  report.py --out-dir bench/results --tag NAME [--core-profile core.json]
            [--kernels kernels.json...] lowbit.json peers.json
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

# ggml's q8_0 product is int8 x int8 on block-scaled codes; its q4_0 and tq2_0 rows (4-bit and
# ternary weights) are listed but are not the 8-bit baseline of the ratio column.
INT8_PEERS = ("onednn", "xnnpack", "gemmlowp", "qnnpack", "ggml_q8_0")
FP32_PEERS = ("eigen", "openblas")
TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def load_kernels(paths):
    """Microkernel benchmark rows with MAC/cycle and their method's ceiling (median rows)."""
    out = []
    for p in paths:
        try:
            with open(p) as f:
                data = json.load(f)
        except (OSError, ValueError):
            print(f"note: {p} has no benchmark results; skipped", file=sys.stderr)
            continue
        for b in data.get("benchmarks", []):
            agg = b.get("aggregate_name")
            if (agg and agg != "median") or b.get("error_occurred"):
                continue
            if "MAC/cycle" in b and b.get("ceiling"):
                name = re.sub(r"_median$", "", b.get("run_name", b["name"]))
                out.append((name, b["MAC/cycle"], b["ceiling"]))
    return out


def load_core_profile(path):
    """(profile name, {kernel name: expected MAC/cycle}) from `lowbit_info --json`, or None."""
    if not path:
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        print(f"note: core profile {path} unreadable ({e}); using the benchmarks' ceilings",
              file=sys.stderr)
        return None
    rates = {k["name"]: k["expected_macs_per_cycle"] for k in data.get("kernels", [])}
    return data.get("core_profile", "?"), rates


def gops_on_clock(b, clock):
    """2*M*N*K / time of a benchmark row on the chosen clock (None without a shape in the name):
    lowbit's rows run on wall-clock time and the peer/ rows on CPU time, so their GOPS counters
    are on different clocks; recomputing puts every row of a table on the same one."""
    m = re.search(r"/(\d+)x(\d+)x(\d+)(?:/|_|$)", b.get("run_name", b["name"]))
    t = b.get("cpu_time" if clock == "cpu" else "real_time")
    if not m or not t:
        return None
    M, N, K = (int(v) for v in m.groups())
    return 2e-9 * M * N * K / (t * TIME_UNITS.get(b.get("time_unit", "ns"), 1e-9))


def load(paths, clock=None):
    rows = []
    context = {}
    for p in paths:
        with open(p) as f:
            data = json.load(f)
        context = data.get("context", context)
        for b in data.get("benchmarks", []):
            agg = b.get("aggregate_name")
            if agg and agg != "median":
                continue
            if b.get("error_occurred"):
                rows.append((b["run_name"] if "run_name" in b else b["name"], None, b.get("error_message", "")))
                continue
            name = b.get("run_name", b["name"])
            gops = gops_on_clock(b, clock) if clock else None
            rows.append((name, gops if gops is not None else b.get("GOPS"), b.get("label", "")))
    return rows, context


def parse(rows):
    lowbit = defaultdict(dict)   # shape -> cell -> (gops, kernel)
    peers = defaultdict(dict)    # shape -> peer -> gops
    names = {}
    for name, gops, label in rows:
        name = re.sub(r"/(real_time|process_time)$", "", name)
        m = re.match(r"lowbit/(w\d+a\d+)/(\d+x\d+x\d+)", name)
        if m:
            cell, shape = m.groups()
            parts = (label or "").split(" ", 1)
            if len(parts) == 2:
                names[shape] = parts[0]
            lowbit[shape][cell] = (gops, parts[-1] if label else "")
            continue
        m = re.match(r"peer/([^/]+)/(\d+x\d+x\d+)", name)
        if m:
            peer, shape = m.groups()
            peers[shape][peer] = gops
    return lowbit, peers, names


STAGE_CELLS = ("w1a1", "w2a2", "w4a4", "w8a8")


def load_stages(paths, clock):
    """The user's path: {(output, shape): {who: GOPS}} from lowbit_stage/w<W>a<A>/<out>/<shape>
    (who = the cell) and peer_stage/<peer>/<out>/<shape> (who = the peer), median rows. GOPS are
    recomputed from the chosen clock's time ("cpu": the thread's CPU time, for one thread on a
    loaded machine; "real": wall-clock)."""
    out = defaultdict(dict)
    for p in paths:
        with open(p) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            agg = b.get("aggregate_name")
            if (agg and agg != "median") or b.get("error_occurred"):
                continue
            name = re.sub(r"/(real_time|process_time)$", "", b.get("run_name", b["name"]))
            m = (re.match(r"lowbit_stage/(w\d+a\d+)/(int32|f32|u8)/((\d+)x(\d+)x(\d+))$", name)
                 or re.match(r"peer_stage/(\w+)/(f32|u8)/((\d+)x(\d+)x(\d+))$", name))
            if not m:
                continue
            who, kind, shape, M, N, K = m.groups()
            if who == "onednn" and b.get("label"):
                out[("impl", "onednn")][b["label"]] = 0.0
            t = b.get("cpu_time" if clock == "cpu" else "real_time")
            if not t:
                continue
            seconds = t * TIME_UNITS.get(b.get("time_unit", "ns"), 1e-9)
            out[(kind, shape)][who] = 2e-9 * int(M) * int(N) * int(K) / seconds
    return out


def stage_tables(stages, clock):
    """Markdown lines of the user's-path tables: (a) f32 output, (b) requantized u8 output."""
    impls = sorted(stages.pop(("impl", "onednn"), {}))
    if not stages:
        return []
    shapes = sorted({s for _, s in stages}, key=lambda s: [int(v) for v in s.split("x")])
    clock_text = ("thread CPU time (one thread; robust to other processes on a shared machine)"
                  if clock == "cpu" else "wall-clock time")
    lines = ["\n## User's path: fused output stage against peers doing the same work\n",
             "GOPS = 2*M*N*K / time, from the " + clock_text + "; lowbit with default packing "
             "(`lowbit_stage/`), oneDNN matmul u8 x s8 with its attributes (`peer_stage/onednn/`, "
             "weights reordered once), XNNPACK's fully-connected qu8 (`peer_stage/xnnpack/u8`). "
             "In parentheses: lowbit's ratio to the peer named in the column head." +
             (" oneDNN's implementation: " + ", ".join(f"`{i}`" for i in impls) + "."
              if impls else "") + "\n",
             "\n### (a) Float output: per-channel scales, bias, ReLU\n",
             "| shape | " + " | ".join(f"lowbit {c} (x oneDNN)" for c in STAGE_CELLS) +
             " | oneDNN u8s8->f32 fused |",
             "|---|" + "---:|" * (len(STAGE_CELLS) + 1)]
    for shape in shapes:
        row = stages.get(("f32", shape), {})
        ref = row.get("onednn")
        cells = []
        for c in STAGE_CELLS:
            g = row.get(c)
            r = f" ({g / ref:.2f}x)" if g and ref else ""
            cells.append(fmt(g) + r)
        if any(row.get(c) for c in STAGE_CELLS) or ref:
            lines.append(f"| {shape} | " + " | ".join(cells) + f" | {fmt(ref)} |")
    lines += ["\n### (b) Requantized u8 output\n",
              "lowbit: per-channel fixed-point multipliers, int32 bias, ReLU; oneDNN: per-channel "
              "output scales, bias, ReLU post-op, output zero point; XNNPACK qu8: one scale, "
              "zero points, clamping.\n",
              "| shape | " + " | ".join(f"lowbit {c} (x oneDNN / x XNNPACK)" for c in STAGE_CELLS) +
              " | oneDNN u8s8->u8 | XNNPACK qu8 |",
              "|---|" + "---:|" * (len(STAGE_CELLS) + 2)]
    for shape in shapes:
        row = stages.get(("u8", shape), {})
        od, xn = row.get("onednn"), row.get("xnnpack")
        cells = []
        for c in STAGE_CELLS:
            g = row.get(c)
            r = ""
            if g and (od or xn):
                r = f" ({fmt(g / od if od else None, '{:.2f}x')} / " \
                    f"{fmt(g / xn if xn else None, '{:.2f}x')})"
            cells.append(fmt(g) + r)
        if any(row.get(c) for c in STAGE_CELLS) or od or xn:
            lines.append(f"| {shape} | " + " | ".join(cells) + f" | {fmt(od)} | {fmt(xn)} |")
    return lines


def best(peers_for_shape, kinds):
    vals = [(g, p) for p, g in peers_for_shape.items() if g and any(k in p for k in kinds)]
    return max(vals) if vals else (None, None)


def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--tag", default="run")
    ap.add_argument("--command", default="")
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--kernels", nargs="*", default=[],
                    help="microkernel benchmark JSON (MAC/cycle vs ceiling: the roofline table)")
    ap.add_argument("--core-profile", default="",
                    help="lowbit_info --json output: the ceilings of the microkernel table")
    ap.add_argument("--clock", choices=("cpu", "real"), default="real",
                    help="time every table's GOPS divide by (cpu: one thread only)")
    ap.add_argument("json", nargs="+")
    args = ap.parse_args()
    rows, context = load(args.json, args.clock)
    lowbit, peers, names = parse(rows)
    shapes = sorted(set(lowbit) | set(peers), key=lambda s: [int(v) for v in s.split("x")])
    cells = sorted({c for s in lowbit.values() for c in s},
                   key=lambda c: [int(v) for v in re.findall(r"\d+", c)])
    peer_names = sorted({p for s in peers.values() for p in s})
    lines = []
    lines.append(f"# lowbit benchmark report ({args.tag})\n")
    if args.command:
        lines.append(f"Command: `{args.command}`\n")
    lines.append(f"Machine: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs, "
                 f"{context.get('mhz_per_cpu', '?')} MHz (nominal), date {context.get('date', '?')}. "
                 "One thread, pinned; medians of repetitions; GOPS = 2*M*N*K / time "
                 f"({'thread CPU' if args.clock == 'cpu' else 'wall-clock'} time, every table).\n")
    # Which peers the binary has, and why one is missing: bench_peers's `peer:<name>` context
    # entries, overridden by `kit:<name>` ones from the Arm board kit (scripts/bench-arm).
    notes = {k[5:]: v for k, v in context.items() if k.startswith("peer:")}
    notes.update({k[4:]: v for k, v in context.items() if k.startswith("kit:")})
    if notes:
        lines.append("Peers: " + "; ".join(f"{k}: {notes[k]}" for k in sorted(notes)) + ".\n")
    lines += stage_tables(load_stages(args.json, args.clock), args.clock)
    if shapes:
        lines.append("\n## Kernel table (int32 output)\n")
        lines.append("lowbit's int32 output (`lowbit/`, weights packed for the shape) against the "
                     "peers' int32 output (XNNPACK: requantized u8; Eigen: fp32).\n")
    speedups = defaultdict(dict)
    for shape in shapes:
        title = names.get(shape, "")
        lines.append(f"\n### {shape} {title}\n")
        b8, b8name = best(peers.get(shape, {}), INT8_PEERS)
        bf, bfname = best(peers.get(shape, {}), FP32_PEERS)
        lines.append("| who | GOPS | x best int8 peer | x fp32 | kernel |")
        lines.append("|---|---:|---:|---:|---|")
        for cell in cells:
            g, kern = lowbit.get(shape, {}).get(cell, (None, ""))
            if g is None and not kern:
                continue
            r8 = g / b8 if g and b8 else None
            rf = g / bf if g and bf else None
            if r8:
                speedups[shape][cell] = r8
            lines.append(f"| lowbit {cell} | {fmt(g)} | {fmt(r8, '{:.2f}x')} | {fmt(rf, '{:.2f}x')} | {kern} |")
        for p in peer_names:
            g = peers.get(shape, {}).get(p)
            if g is None:
                continue
            mark = " (best int8)" if p == b8name else (" (best fp32)" if p == bfname else "")
            lines.append(f"| {p}{mark} | {fmt(g)} | | | |")
    kernels = load_kernels(args.kernels) if args.kernels else []
    profile = load_core_profile(args.core_profile)
    ceiling_label = "method ceiling"
    if kernels and profile:
        # The rate dispatch expects of each kernel on this core (core_profile.hpp): the declared
        # (reference-core) rate, or the rate measured on the host's core where it has a profile.
        pname, rates = profile
        ceiling_label = f"expected on core profile {pname}"
        kernels = [(n, m, rates.get(n.split("/")[0])) for n, m, _ in kernels]
        missing = [n for n, _, c in kernels if not c]
        if missing:
            print(f"note: no expected rate for {', '.join(missing)}; left out", file=sys.stderr)
        kernels = [(n, m, c) for n, m, c in kernels if c]
    if kernels:
        if profile:
            lines.append(f"\n## Microkernels against the rates core profile `{profile[0]}` expects\n")
            lines.append("Cache-resident panels; MAC/cycle from the measured clock (thread CPU "
                         f"time). Expected: the rate dispatch uses for the kernel on this host "
                         f"(`lowbit_info --json`, core profile `{profile[0]}`; LOWBIT_CORE "
                         "overrides it).\n")
        else:
            lines.append("\n## Microkernels against their method's ceiling\n")
            lines.append("Cache-resident panels; MAC/cycle from the measured clock (thread CPU "
                         "time). Ceilings: Intel port limits (no --core-profile given; they do "
                         "not hold on other cores).\n")
        lines.append(f"| kernel | MAC/cycle | {ceiling_label} | % |")
        lines.append("|---|---:|---:|---:|")
        for name, mpc, ceil in kernels:
            lines.append(f"| {name} | {mpc:.1f} | {ceil:.1f} | {100 * mpc / ceil:.0f}% |")
    report = "\n".join(lines) + "\n"
    os.makedirs(args.out_dir, exist_ok=True)
    md = os.path.join(args.out_dir, f"report-{args.tag}.md")
    with open(md, "w") as f:
        f.write(report)
    print(report)
    print(f"report: {md}")
    if args.no_chart or not speedups:
        return 0
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (apt-get install python3-matplotlib)")
        return 0
    fig, ax = plt.subplots(figsize=(max(8, len(speedups) * 1.6), 4.5))
    width = 0.8 / max(1, len(cells))
    xs = list(range(len(speedups)))
    for i, cell in enumerate(cells):
        ys = [speedups[s].get(cell, 0) for s in speedups]
        ax.bar([x + i * width for x in xs], ys, width, label=cell)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([x + width * (len(cells) - 1) / 2 for x in xs])
    ax.set_xticklabels([names.get(s, s) + "\n" + s for s in speedups], fontsize=7)
    ax.set_ylabel("speed-up over the best int8 peer")
    ax.set_title(f"lowbit vs best int8 peer, same run ({args.tag})")
    ax.legend(fontsize=7, ncol=min(5, len(cells)))
    fig.tight_layout()
    png = os.path.join(args.out_dir, f"speedup-{args.tag}.png")
    fig.savefig(png, dpi=110)
    print(f"chart: {png}")
    if kernels:
        fig, ax = plt.subplots(figsize=(10, max(4, 0.22 * len(kernels))))
        ys = list(range(len(kernels)))
        ax.barh(ys, [c for _, _, c in kernels], color="#dddddd", label=ceiling_label)
        ax.barh(ys, [m for _, m, _ in kernels], color="#3070b0", label="measured")
        ax.set_yticks(ys)
        ax.set_yticklabels([n for n, _, _ in kernels], fontsize=6)
        ax.invert_yaxis()
        ax.set_xlabel("MACs per cycle (one core)")
        ax.set_title(f"lowbit microkernels: measured against {ceiling_label}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        png = os.path.join(args.out_dir, f"roofline-{args.tag}.png")
        fig.savefig(png, dpi=110)
        print(f"chart: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
