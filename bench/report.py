"""Turning per-repetition results into docs/benchmarks.md and its bar chart."""
import statistics
from pathlib import Path

from runner import LABELS, RUNTIMES

INT8_BEGIN = "<!-- BEGIN bench/int8.py -->"


def aggregate(rows):
    """rows: {(model, batch): {runtime: [RunResult per rep]}} -> one summary dict per cell.
    Throughput and latency are medians over the reps that succeeded; RSS is the max."""
    out = []
    for (model, batch), per_rt in rows.items():
        cell = {"model": model, "batch": batch, "rt": {}}
        for rt, runs in per_rt.items():
            ok = [r for r in runs if r.ok]
            if not ok:
                cell["rt"][rt] = {"error": runs[-1].error if runs else "not run"}
                continue
            cell["rt"][rt] = {
                "qps": statistics.median(r.result["throughput_qps"] for r in ok),
                "lat": statistics.median(r.result["latency_ms"]["median"] for r in ok),
                "rss": max(r.rss_mb for r in ok),
                "reps": [r.result["throughput_qps"] for r in ok],
                "by_rep": [r.result["throughput_qps"] if r.ok else None for r in runs],
                "failed": len(runs) - len(ok),
            }
        out.append(cell)
    return out


def paired_ratios(cell, peer):
    """Fulcrum / peer within each repetition: the two ran minutes apart at most, so slow
    drift in machine load cancels, which a ratio of medians would not do."""
    f, p = cell["rt"].get("fulcrum", {}), cell["rt"].get(peer, {})
    return [a / b for a, b in zip(f.get("by_rep", []), p.get("by_rep", [])) if a and b]


def ratio(cell, peer):
    """Median of the per-repetition ratios."""
    r = paired_ratios(cell, peer)
    return statistics.median(r) if r else None


def _ratio_cell(cell, peer):
    r = paired_ratios(cell, peer)
    if not r:
        return "—"
    spread = f" ({min(r):.3f}–{max(r):.3f})" if len(r) > 1 else ""
    return f"{statistics.median(r):.3f}{spread}"


def _fmt(v, spec):
    return "—" if v is None else format(v, spec)


def _triple(cell, key, spec, runtimes):
    return " / ".join(_fmt(cell["rt"].get(rt, {}).get(key), spec) for rt in runtimes)


def table(cells, runtimes):
    rts = [rt for rt in ("fulcrum", "ort", "openvino") if rt in runtimes]
    names = " / ".join(LABELS[rt] for rt in rts)
    head = ["Model", "Batch", *(f"{LABELS[rt]} qps" for rt in rts)]
    head += [f"Fulcrum / {LABELS[p]}" for p in ("ort", "openvino") if p in rts and "fulcrum" in rts]
    head += [f"Median latency ms ({names})", f"Peak RSS MB ({names})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        row = [c["model"], str(c["batch"])]
        row += [_fmt(c["rt"].get(rt, {}).get("qps"), ".2f") for rt in rts]
        row += [_ratio_cell(c, p) for p in ("ort", "openvino") if p in rts and "fulcrum" in rts]
        row += [_triple(c, "lat", ".1f", rts), _triple(c, "rss", ".0f", rts)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def failures(cells):
    out = []
    for c in cells:
        for rt, v in c["rt"].items():
            if "error" in v:
                out.append(f"- {c['model']} batch {c['batch']}, {LABELS[rt]}: failed: `{v['error'][:300]}`")
            elif v["failed"]:
                out.append(f"- {c['model']} batch {c['batch']}, {LABELS[rt]}: {v['failed']} rep(s) failed")
    return out


def raw_reps(cells):
    lines = ["| Model | Batch | Runtime | qps per rep |", "|---|---|---|---|"]
    for c in cells:
        for rt in RUNTIMES:
            v = c["rt"].get(rt)
            if v and "reps" in v:
                reps = ", ".join(f"{q:.3f}" for q in v["reps"])
                lines.append(f"| {c['model']} | {c['batch']} | {LABELS[rt]} | {reps} |")
    return "\n".join(lines)


def chart(cells, png_path):
    """Grouped bars of Fulcrum/peer throughput ratios; log scale when ratios span decades."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    peers = [p for p in ("ort", "openvino") if any(ratio(c, p) for c in cells)]
    if not peers:
        return False
    labels = [f"{c['model']}\nbatch {c['batch']}" for c in cells]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(cells)), 4.5), dpi=110)
    width = 0.8 / len(peers)
    for i, p in enumerate(peers):
        vals = [ratio(c, p) or 0 for c in cells]
        xs = [j + (i - (len(peers) - 1) / 2) * width for j in range(len(cells))]
        bars = ax.bar(xs, vals, width, label=f"Fulcrum / {LABELS[p]}")
        ax.bar_label(bars, labels=[f"{v:.2f}" if v else "n/a" for v in vals], fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    positive = [ratio(c, p) for c in cells for p in peers if ratio(c, p)]
    if positive and min(positive) < 0.1:
        ax.set_yscale("log")
    elif positive:
        ax.set_ylim(0, max(1.0, *positive) * 1.15)  # room for the labels above the 1.0 line
    ax.set_xticks(range(len(cells)), labels, fontsize=8)
    ax.set_ylabel("throughput ratio (higher is better for Fulcrum)")
    ax.set_title("Fulcrum throughput relative to peers (FP32, CPU)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)
    return True


def markdown(cells, info, png_name):
    rts = info["runtimes"]
    parts = [
        "# Benchmarks: Fulcrum vs ONNX Runtime vs OpenVINO (CPU, FP32)",
        "",
        "Generated by `bench/compare.py` (see [bench/README.md](../bench/README.md)); do not edit by hand.",
        "",
        f"- Machine: {info['cpu']}, {info['nproc']} logical CPUs",
        f"- Date: {info['date']}",
        f"- Versions: {info['versions']}",
        f"- Fulcrum backend: {info['backend']}",
        f"- Threads: {info['threads']}; {info['reps']} repetitions of {info['duration']} s "
        f"(after {info['warmup']} s warm-up) per runtime, interleaved",
        f"- Load average (1 min) at start / end: {info['load'][0]:.2f} / {info['load'][1]:.2f} "
        "(other work on the machine makes numbers noisy; see the per-repetition table)",
        f"- Command: `{info['command']}`",
        "",
        table(cells, rts),
        "",
        "qps = synchronous runs per second (one request in flight), median over repetitions; "
        "samples/s = qps × batch. Ratios > 1 mean Fulcrum is faster; each is the median of the "
        "per-repetition ratios (Fulcrum and the peer ran back to back), with their range in "
        "parentheses. Peak RSS is the whole "
        "process's maximum resident set (wait4 ru_maxrss), max over repetitions; the peers run "
        "in a Python process, so theirs include the interpreter and numpy (~30–40 MB). "
        f"A child that does nothing reports {info['floor_rss']:.0f} MB here: the harness's own "
        "high-water mark, which Linux carries into every child's ru_maxrss.",
        "",
    ]
    if png_name:
        parts += [f"![throughput ratios]({png_name})", ""]
    fails = failures(cells)
    if fails:
        parts += ["## Failures", "", *fails, ""]
    parts += [
        "## Method",
        "",
        "- Every run is a fresh process per runtime; in each repetition the runtimes go in a "
        "rotated order (rep 1: ONNX Runtime, Fulcrum, OpenVINO; rep 2 starts with Fulcrum; ...) so "
        "that drift on a shared machine does not favour one of them.",
        "- Inputs are generated once per model and batch with a fixed seed and fed to all three "
        "as the same .npy files: floats uniform in [-1, 1); BERT ids uniform in [1000, 30522), "
        "attention mask ones, token types zeros; BERT sequence length 128.",
        "- Fulcrum: `fulcrum bench MODEL --batch B --threads T --warmup W --duration D --input ...`.",
        "- ONNX Runtime: CPU EP, intra_op_num_threads=T, inter_op_num_threads=1, sequential "
        "execution, graph optimizations ALL, dynamic-batch model as exported.",
        "- OpenVINO: CPU, INFERENCE_NUM_THREADS=T, PERFORMANCE_HINT=LATENCY, NUM_STREAMS=1, "
        "INFERENCE_PRECISION_HINT=f32, model reshaped to the static input shape (as "
        "benchmark_app -shape does), one synchronous infer request.",
        "",
        "<details><summary>Throughput of every repetition</summary>",
        "",
        raw_reps(cells),
        "",
        "</details>",
        "",
    ]
    return "\n".join(parts)


def write(cells, info, md_path):
    md_path = Path(md_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    png_path = md_path.with_suffix(".png")
    png_name = png_path.name if chart(cells, png_path) else None
    # bench/int8.py's section (between its markers, at the end) outlives a rewrite of this report.
    old = md_path.read_text() if md_path.exists() else ""
    kept = old[old.index(INT8_BEGIN):] if INT8_BEGIN in old else ""
    md_path.write_text(markdown(cells, info, png_name) + ("\n" + kept if kept else ""))
    return md_path, (png_path if png_name else None)
