"""The ``paramlab`` command: ``paramlab inspect FILE [--json] [--png OUT.png]``.

``inspect`` lists every array of a checkpoint (MXNet ``.params``/``.nd``,
``.npz`` or ``.safetensors``, chosen by extension): name, shape, dtype, storage
type, size, and the statistics of :mod:`paramlab.summary` (mean, std, min, max,
L2 norm, zeros, NaN, +Inf, -Inf), as an aligned table or, with ``--json``, as
JSON. ``--png`` also writes a grid of per-array histograms (matplotlib, imported
only then). Next to an MXNet export (``model-0000.params``) it lists the layers
of ``model-symbol.json``. It exits with 0 on success and 2, with a one-line
error, when a file is bad.

Also runnable as ``python -m paramlab.cli``.
"""

from __future__ import annotations

__all__ = ["main", "inspect_file", "format_table", "symbol_layers", "write_histograms"]

import argparse
import json
import math
import os
import re
import sys

from . import summary
from .base import CheckpointFormatError
from .gluon.checkpoint import format_of, read_file

MAX_SYMBOL_BYTES = 64 << 20
"""Largest ``-symbol.json`` file read."""

_EXPORT_NAME = re.compile(r"^(?P<stem>.*)-\d{4}\.params$")
_STAT_COLUMNS = (
    ("mean", "mean"),
    ("std", "std"),
    ("min", "min"),
    ("max", "max"),
    ("l2", "l2"),
    ("zeros", "zeros"),
    ("nan", "nan"),
    ("posinf", "+inf"),
    ("neginf", "-inf"),
)


# ----------------------------------------------------------------------------
# gathering
# ----------------------------------------------------------------------------


def _stored_bytes(record) -> int:
    parts = [record.data, record.indices, record.indptr]
    return sum(int(p.nbytes) for p in parts if p is not None)


def _json_number(value):
    """Floats that JSON cannot hold (inf, nan) become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def symbol_layers(params_path: str) -> dict | None:
    """The layers named in the ``-symbol.json`` beside an exported ``-NNNN.params`` file.

    Parameters
    ----------
    params_path : str
        The checkpoint's path.

    Returns
    -------
    dict or None
        ``{"file": path, "layers": [{"name", "op"}, ...]}`` for the non-``null``
        nodes, or None when the name is not an export's or there is no symbol file.

    Raises
    ------
    CheckpointFormatError
        The symbol file is too large, not JSON, or has no valid ``nodes`` list.
    """
    match = _EXPORT_NAME.match(os.path.basename(params_path))
    if match is None:
        return None
    path = os.path.join(os.path.dirname(params_path), match["stem"] + "-symbol.json")
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        raw = handle.read(MAX_SYMBOL_BYTES + 1)
    if len(raw) > MAX_SYMBOL_BYTES:
        raise CheckpointFormatError(f"{path!r}: symbol file larger than {MAX_SYMBOL_BYTES} bytes")
    try:
        graph = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointFormatError(f"{path!r}: not a JSON symbol file: {error}") from None
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list):
        raise CheckpointFormatError(f"{path!r}: a symbol file needs a 'nodes' list")
    layers = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not all(
            isinstance(node.get(k), str) for k in ("op", "name")
        ):
            raise CheckpointFormatError(
                f"{path!r}: nodes[{index}] must be an object with string 'op' and 'name'"
            )
        if node["op"] != "null":
            layers.append({"name": node["name"], "op": node["op"]})
    return {"file": path, "layers": layers}


def inspect_file(path, bins: int = 32, histograms: bool = False) -> dict:
    """Describe a checkpoint: its arrays with their statistics, and any symbol layers.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.
    bins : int
        Histogram bins (with ``histograms``).
    histograms : bool
        Also compute each array's histogram (key ``"histogram"``, a
        :class:`paramlab.summary.Histogram`, not JSON-ready).

    Returns
    -------
    dict
        ``file``, ``format``, ``container`` ('dict' or 'list'), ``size_bytes``,
        ``arrays`` (one dict per array: ``name``, ``shape``, ``dtype``, ``stype``,
        ``size``, ``nbytes``, ``stats``) and ``symbol`` (see :func:`symbol_layers`).
    """
    path = os.fspath(path)
    records, names = read_file(path)
    arrays = []
    for index, record in enumerate(records):
        dense = record.to_dense()
        if histograms:
            stats, hist = summary.summarize(dense, bins=bins, sample_histogram=True)
        else:
            stats, hist = summary.stats(dense), None
        row = {
            "name": names[index] if names is not None else f"[{index}]",
            "shape": list(record.shape),
            "dtype": str(record.dtype),
            "stype": record.stype,
            "size": int(stats.count),
            "nbytes": _stored_bytes(record),
            "stats": {
                k: _json_number(v)
                for k, v in stats.as_dict().items()
                if k not in ("shape", "dtype")
            },
        }
        if hist is not None:
            row["histogram"] = hist
        arrays.append(row)
        records[index] = None  # keep one dense copy at a time
    return {
        "file": path,
        "format": format_of(path),
        "container": "list" if names is None else "dict",
        "size_bytes": os.path.getsize(path),
        "arrays": arrays,
        "symbol": symbol_layers(path),
    }


# ----------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _aligned(header: list[str], rows: list[list[str]], left: int) -> list[str]:
    """Columns padded to a common width; the first ``left`` columns left-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_table(report: dict) -> str:
    """The human-readable form of :func:`inspect_file`'s report."""
    arrays = report["arrays"]
    lines = [
        f"{report['file']}: {report['format']} format, {report['container']} of "
        f"{_count(len(arrays), 'array')}, {report['size_bytes']} bytes"
    ]
    if arrays:
        header = ["name", "shape", "dtype", "stype", "size", *[t for _, t in _STAT_COLUMNS]]
        rows = [
            [
                a["name"],
                str(tuple(a["shape"])),
                a["dtype"],
                a["stype"],
                str(a["size"]),
                *[_cell(a["stats"][k]) for k, _ in _STAT_COLUMNS],
            ]
            for a in arrays
        ]
        lines += ["", *_aligned(header, rows, left=4)]
    total = sum(a["size"] for a in arrays)
    nbytes = sum(a["nbytes"] for a in arrays)
    lines += [
        "",
        f"total: {_count(len(arrays), 'array')}, {_count(total, 'element')}, "
        f"{nbytes} bytes of data",
    ]
    symbol = report.get("symbol")
    if symbol is not None:
        layers = symbol["layers"]
        lines += ["", f"layers in {os.path.basename(symbol['file'])} ({len(layers)}):"]
        if layers:
            table = _aligned(["name", "op"], [[x["name"], x["op"]] for x in layers], left=2)
            lines += ["  " + line for line in table]
    return "\n".join(lines)


def _json_report(report: dict) -> str:
    clean = {
        **report,
        "arrays": [{k: v for k, v in a.items() if k != "histogram"} for a in report["arrays"]],
    }
    return json.dumps(clean, indent=1, allow_nan=False)


def write_histograms(report: dict, out) -> None:
    """Write a PNG grid of the arrays' histograms (needs ``histograms=True`` reports)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ._io import atomic_writer

    arrays = report["arrays"]
    ncols = max(1, min(4, len(arrays)))
    nrows = max(1, math.ceil(len(arrays) / ncols))
    fig = Figure(figsize=(3.6 * ncols, 2.6 * nrows), dpi=80)
    FigureCanvasAgg(fig)
    if not arrays:
        fig.text(0.5, 0.5, "no arrays", ha="center", va="center")
    for index, array in enumerate(arrays):
        axes = fig.add_subplot(nrows, ncols, index + 1)
        hist = array["histogram"]
        axes.stairs(hist.counts, hist.edges, fill=True)
        axes.set_title(f"{array['name']} {tuple(array['shape'])}", fontsize=8)
        axes.tick_params(labelsize=6)
    fig.tight_layout()
    with atomic_writer(out) as handle:
        fig.savefig(handle, format="png")


# ----------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paramlab", description="paramlab tools")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser(
        "inspect", help="list the arrays of a checkpoint with their statistics"
    )
    inspect.add_argument("file", help="a .params/.nd, .npz or .safetensors checkpoint")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--png", metavar="OUT.png", help="write a grid of histograms")
    inspect.add_argument("--bins", type=int, default=32, help="histogram bins (default 32)")
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad usage or bad file)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.bins < 1:
        print("paramlab inspect: error: --bins must be at least 1", file=sys.stderr)
        return 2
    try:
        report = inspect_file(args.file, bins=args.bins, histograms=args.png is not None)
        if args.png is not None:
            write_histograms(report, args.png)
    except (CheckpointFormatError, OSError, ValueError, ImportError) as error:
        print(f"paramlab inspect: error: {_one_line(error)}", file=sys.stderr)
        return 2
    print(_json_report(report) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
