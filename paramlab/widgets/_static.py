"""The static face of the views: a text summary and a matplotlib figure (Agg, no pyplot).

Both are drawn from the same payloads the browser receives (``PROTOCOL.md``), so
an exported notebook shows exactly the final state of the live view. No widget
imports; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

__all__ = [
    "decode",
    "stats_line",
    "parameter_text",
    "parameter_figure",
    "initializer_text",
    "initializer_figure",
    "model_text",
    "model_figure",
]

_MAX_FIGURE_ROWS = 40


def decode(payload) -> np.ndarray | None:
    """The NumPy array of a ``{"buffer", "dtype", "shape"}`` payload (None stays None)."""
    if payload is None:
        return None
    return np.frombuffer(payload["buffer"], dtype=np.dtype(payload["dtype"])).reshape(
        payload["shape"]
    )


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, int):
        return str(x)
    return f"{x:.4g}"


def stats_line(s: dict | None) -> str:
    """``mean=… std=… min=… max=… l2=… zeros=… nan=… +inf=… -inf=…`` of a Stats payload.

    Examples
    --------
    >>> stats_line({"mean": 0.5, "std": 0.25, "min": 0.0, "max": 1.0, "l2": 2.0, "zeros": 1,
    ...             "nan": 0, "posinf": 0, "neginf": 2})
    'mean=0.5 std=0.25 min=0 max=1 l2=2 zeros=1 nan=0 +inf=0 -inf=2'
    """
    if s is None:
        return "-"
    return (
        f"mean={_fmt(s['mean'])} std={_fmt(s['std'])} min={_fmt(s['min'])} "
        f"max={_fmt(s['max'])} l2={_fmt(s['l2'])} zeros={s['zeros']} nan={s['nan']} "
        f"+inf={s['posinf']} -inf={s['neginf']}"
    )


# --------------------------------------------------------------------------- parameter
def _wrapped(title: str, inches: float) -> str:
    """``title`` broken into lines that fit a figure ``inches`` wide (about 13 characters
    an inch at the titles' font sizes): a long initializer repr would run off both edges."""
    return textwrap.fill(title, width=max(20, int(13 * inches)))


def _card_header(card: dict) -> str:
    shape = "?" if card["shape"] is None else tuple(card["shape"])
    init = f" init={card['init']}" if card.get("init") else ""
    name = card.get("structural_name") or card["name"]
    return (
        f"Parameter '{name}' shape={shape} dtype={card['dtype']} "
        f"grad_req={card['grad_req']} [{card['status']}]{init}"
    )


def parameter_text(card: dict | None) -> str:
    """Multi-line text summary of a ParameterView card."""
    if card is None:
        return "ParameterView (no data yet)"
    lines = [_card_header(card)]
    for rep in card["replicas"]:
        line = f"  {rep['ctx']}: {stats_line(rep['stats'])}"
        if rep["grad"] is not None:
            line += f" | grad l2={_fmt(rep['grad']['stats']['l2'])}"
        elif card["grad_note"]:
            line += f" | {card['grad_note']}"
        d = rep["divergence"]
        if d is not None:
            equal = "bitwise equal" if d["bitwise_equal"] else "differs"
            line += (
                f" | vs {card['replicas'][0]['ctx']}: max|diff|={_fmt(d['max_abs_diff'])} "
                f"rel_l2={_fmt(d['rel_l2'])} {equal}{' (sampled)' if d['sampled'] else ''}"
            )
        lines.append(line)
    return "\n".join(lines)


def _bar(ax, edges, counts, color, log):
    widths = np.diff(edges)
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=color, linewidth=0)
    if log and np.any(counts > 0):
        ax.set_yscale("log")


def parameter_figure(card: dict | None, log_scale: bool = False):
    """A matplotlib Figure of a ParameterView card: per replica histogram, thumbnail, gradient."""
    from matplotlib.figure import Figure

    reps = [] if card is None else card["replicas"]
    ncol = max(1, len(reps))
    fig = Figure(figsize=(3.2 * ncol, 7.0), layout="constrained")
    if not reps:
        ax = fig.add_subplot(1, 1, 1)
        ax.axis("off")
        ax.text(0.5, 0.5, parameter_text(card), ha="center", va="center", fontsize=9)
        return fig
    fig.suptitle(_wrapped(_card_header(card), 3.2 * ncol), fontsize=9)
    grid = fig.add_gridspec(4, ncol, height_ratios=[1.0, 1.2, 1.0, 0.8])
    edges = decode(card["edges"])
    theory = card["theory"]
    pdf = decode(theory["pdf"]) if theory else None
    for j, rep in enumerate(reps):
        ax = fig.add_subplot(grid[0, j])
        counts = decode(rep["hist"]["counts"]).astype(np.float64)
        _bar(ax, edges, counts, "#4c78a8", log_scale)
        if pdf is not None and rep["at_init"]:
            binned = max(rep["hist"]["binned"], 1)
            ax.plot(
                0.5 * (edges[1:] + edges[:-1]),
                pdf * binned * np.diff(edges),
                color="#e45756",
                linewidth=1.2,
                label="theory",
            )
        badges = [f"{k}={rep['stats'][k]}" for k in ("nan", "posinf", "neginf") if rep["stats"][k]]
        ax.set_title(
            f"{rep['ctx']} values" + (" " + " ".join(badges) if badges else ""),
            fontsize=8,
            color="#c00" if badges else "black",
        )
        ax.tick_params(labelsize=6)
        ax = fig.add_subplot(grid[1, j])
        thumb = decode(rep["thumb"]["data"]).astype(np.float64)
        image = np.where(thumb == 0, np.nan, (thumb - 128.0) / 127.0)
        ax.imshow(image, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest", aspect="auto")
        ax.set_title(f"scale {_fmt(rep['thumb']['scale'])}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        ax = fig.add_subplot(grid[2, j])
        if rep["grad"] is not None and card["grad_edges"] is not None:
            g = rep["grad"]
            _bar(
                ax,
                decode(card["grad_edges"]),
                decode(g["hist"]["counts"]).astype(np.float64),
                "#72b7b2",
                log_scale,
            )
            ax.set_title(f"grad l2={_fmt(g['stats']['l2'])}", fontsize=8)
            ax.tick_params(labelsize=6)
        else:
            ax.axis("off")
            ax.text(
                0.5, 0.5, card["grad_note"] or "no gradient", ha="center", va="center", fontsize=8
            )
    ax = fig.add_subplot(grid[3, :])
    hist = card["history"]
    values, grads = decode(hist["value_l2"]), decode(hist["grad_l2"])
    seq = decode(hist["seq"])
    for j, rep in enumerate(reps):
        if values.shape[1]:
            ax.plot(seq, values[j], label=f"{rep['ctx']} |w|", linewidth=1)
            if np.any(np.isfinite(grads[j])):
                ax.plot(seq, grads[j], linestyle="--", linewidth=1, label=f"{rep['ctx']} |g|")
    ax.set_title("norm history", fontsize=8)
    ax.tick_params(labelsize=6)
    if values.shape[1]:
        ax.legend(fontsize=6, ncol=min(4, 2 * ncol))
    return fig


# --------------------------------------------------------------------------- initializer
def initializer_text(state: dict) -> str:
    """Text summary of an InitializerView state (keys: init, shape, ctx, stats, theory, ks)."""
    theory, stats = state["theory"], state["stats"]
    lines = [f"{state['init']} drawn as {tuple(state['shape'])} {state['dtype']} on {state['ctx']}"]
    if state.get("error"):
        lines.append(f"  error: {state['error']}")
    if theory is not None:
        lines.append(
            f"  theory: {theory['family']} {theory['params']} mean={_fmt(theory['mean'])} "
            f"std={_fmt(theory['std'])}"
        )
    if stats is not None:
        lines.append(f"  measured: {stats_line(stats)}")
    if state.get("ks") is not None:
        lines.append(f"  {state.get('check_kind') or 'check'}={_fmt(state['ks'])}")
    return "\n".join(lines)


def initializer_figure(state: dict, log_scale: bool = False):
    """Empirical histogram (as a density) against the stated density."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    edges = decode(state["edges"])
    hist = state["hist"]
    if edges is not None and hist is not None:
        counts = decode(hist["counts"]).astype(np.float64)
        density = counts / max(hist["binned"], 1) / np.diff(edges)
        _bar(ax, edges, density, "#4c78a8", log_scale)
    curve = state.get("pdf_curve")
    if curve is not None:
        ax.plot(
            decode(curve["x"]),
            decode(curve["y"]),
            color="#e45756",
            linewidth=1.5,
            label="stated density",
        )
        ax.legend(fontsize=7)
    ax.set_title(_wrapped(initializer_text(state).splitlines()[0], 5.5), fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


# --------------------------------------------------------------------------- model
def model_text(rows: list, columns: dict | None, step: int = -1) -> str:
    """One line per parameter: shape, stats, gradient norm, divergence."""
    lines = [f"ModelView: {len(rows)} parameters" + (f", step {step}" if step >= 0 else "")]
    if columns is None:
        return "\n".join(lines + [f"  {r['name']} {r['shape']} [{r['status']}]" for r in rows])
    value, grad = decode(columns["value"]), decode(columns["grad_l2"])
    div, nonfinite = decode(columns["divergence"]), decode(columns["nonfinite"])
    fields = columns["fields"]
    for i, r in enumerate(rows):
        v = dict(zip(fields, value[i].tolist()))
        shape = "?" if r["shape"] is None else tuple(r["shape"])
        line = (
            f"  {r['name']:<24} {shape!s:<14} mean={_fmt(v['mean'])} std={_fmt(v['std'])} "
            f"l2={_fmt(v['l2'])} grad_l2={_fmt(float(grad[i]))}"
        )
        if np.isfinite(div[i, 0]):
            line += f" max|diff|={_fmt(float(div[i, 0]))}"
        bad = int(nonfinite[i].sum())
        if bad:
            line += f" NONFINITE={bad}"
        lines.append(line)
    return "\n".join(lines)


def model_figure(rows: list, columns: dict | None, step: int = -1):
    """Value and gradient norms per parameter (log scale), first rows only."""
    from matplotlib.figure import Figure

    shown = rows[:_MAX_FIGURE_ROWS]
    fig = Figure(figsize=(6.5, 1.0 + 0.22 * max(len(shown), 1)), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    title = f"{len(rows)} parameters" + (f", step {step}" if step >= 0 else "")
    if len(rows) > len(shown):
        title += f" (first {len(shown)} shown)"
    ax.set_title(title, fontsize=8)
    if columns is None or not shown:
        ax.axis("off")
        return fig
    fields = columns["fields"]
    value = decode(columns["value"])[: len(shown)]
    grad = decode(columns["grad_l2"])[: len(shown)]
    y = np.arange(len(shown))
    l2 = value[:, fields.index("l2")]
    ax.barh(y - 0.2, np.where(l2 > 0, l2, np.nan), height=0.4, color="#4c78a8", label="|w|")
    ax.barh(y + 0.2, np.where(grad > 0, grad, np.nan), height=0.4, color="#72b7b2", label="|g|")
    ax.set_yticks(y, [r["name"] for r in shown], fontsize=6)
    ax.invert_yaxis()
    if np.any(l2 > 0) or np.any(grad > 0):
        ax.set_xscale("log")
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    return fig
