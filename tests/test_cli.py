"""``paramlab inspect`` (paramlab.cli)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import paramlab as mx
from paramlab import cli, summary
from paramlab.gluon import nn

DATA = Path(__file__).resolve().parent / "data" / "mxnet-params"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def expected_arrays(name):
    """(name, dense values) of a fixture, in file order, from expected.json."""
    spec = EXPECTED[name]
    arrays = spec["arrays"]
    items = (
        arrays.items()
        if isinstance(arrays, dict)
        else ((f"[{i}]", a) for i, a in enumerate(arrays))
    )
    out = []
    for key, a in items:
        out.append((key, np.array(a["values"], a["dtype"]).reshape(a["shape"]), a))
    return out


def cells(stats):
    """The table cells of the statistics, formatted as the table formats them."""
    d = stats.as_dict()
    return [cli._cell(d[k]) for k, _ in cli._STAT_COLUMNS]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_lists_every_array_with_its_exact_statistics(name, capsys):
    code, out, err = run(["inspect", DATA / name], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    for key, dense, spec in expected_arrays(name):
        row = next(line for line in lines if line.split()[:1] == [key])
        fields = row.split()
        assert spec["dtype"] in fields and spec["stype"] in fields
        assert fields[-9:] == cells(summary.stats(dense)), key
        assert str(int(np.prod(spec["shape"]))) in fields


def test_table_has_aligned_columns_and_known_values(capsys):
    code, out, _ = run(["inspect", DATA / "block_emb_dense_bn.params"], capsys)
    assert code == 0
    table = [line for line in out.splitlines() if line.startswith(("name", "0.", "1.", "2."))]
    header = table[0]
    assert {line.index("float32") for line in table[1:]} == {header.index("dtype")}
    assert len({len(line) for line in table}) == 1  # numbers are right-aligned to one edge
    row = next(line for line in table if line.startswith("0.weight")).split()
    # 0.weight holds -1, -0.875, ..., 1.875
    assert row[:5] == ["0.weight", "(6,", "4)", "float32", "default"]
    assert row[6:] == ["0.4375", "0.865273", "-1", "1.875", "4.75", "1", "0", "0", "0"]
    assert "7 arrays" in out and "51 elements" in out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_json_report_parses_and_matches_the_statistics(name, capsys):
    code, out, _ = run(["inspect", DATA / name, "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["format"] == "mxnet"
    assert report["container"] == EXPECTED[name]["container"]
    assert report["size_bytes"] == EXPECTED[name]["size_bytes"]
    rows = {a["name"]: a for a in report["arrays"]}
    for key, dense, spec in expected_arrays(name):
        row = rows[key]
        assert row["shape"] == spec["shape"] and row["dtype"] == spec["dtype"]
        assert row["stype"] == spec["stype"] and row["size"] == dense.size
        want = {
            k: v for k, v in summary.stats(dense).as_dict().items() if k not in ("shape", "dtype")
        }
        want = {
            k: (str(v) if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in want.items()
        }
        assert row["stats"] == want


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_png_grid_is_written(name, tmp_path, capsys):
    out_png = tmp_path / "hist.png"
    code, out, _ = run(["inspect", DATA / name, "--png", out_png, "--bins", 8], capsys)
    assert code == 0 and "array" in out
    data = out_png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    assert os.listdir(tmp_path) == ["hist.png"]


@pytest.mark.parametrize("ext", ["npz", "safetensors", "params"])
def test_inspects_every_format(ext, tmp_path, capsys):
    net = nn.Sequential()
    net.add(nn.Dense(3, in_units=2), nn.Dense(1, in_units=3))
    net.initialize(mx.init.One())
    path = tmp_path / f"m.{ext}"
    net.save_parameters(str(path))
    code, out, _ = run(["inspect", path, "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["format"] == ("mxnet" if ext == "params" else ext)
    assert [a["name"] for a in report["arrays"]] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert report["arrays"][0]["stats"]["mean"] == 1.0
    assert report["arrays"][1]["stats"]["zeros"] == 3


def test_sparse_arrays_show_their_storage_type(capsys):
    code, out, _ = run(["inspect", DATA / "nd_dict_sparse.nd", "--json"], capsys)
    assert code == 0
    rows = {a["name"]: a for a in json.loads(out)["arrays"]}
    assert rows["rsp"]["stype"] == "row_sparse" and rows["csr"]["stype"] == "csr"
    assert rows["rsp"]["size"] == 10  # the dense view's elements


def test_nonfinite_statistics_stay_valid_json(tmp_path, capsys):
    path = tmp_path / "odd.nd"
    mx.nd.save(
        str(path), {"x": mx.nd.array([np.nan, np.inf, -np.inf, 1e308, 1e308], dtype="float64")}
    )
    code, out, _ = run(["inspect", path, "--json"], capsys)
    assert code == 0
    stats = json.loads(out)["arrays"][0]["stats"]
    assert stats["nan"] == 1 and stats["posinf"] == 1 and stats["neginf"] == 1
    assert stats["l2"] == "inf"


# ----------------------------------------------------------------------------- symbol files
SYMBOL = {
    "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "dense0_weight", "inputs": []},
        {"op": "FullyConnected", "name": "dense0_fwd", "inputs": [[0, 0, 0], [1, 0, 0]]},
        {"op": "Activation", "name": "dense0_relu_fwd", "inputs": [[2, 0, 0]]},
    ],
    "arg_nodes": [0, 1],
    "heads": [[3, 0, 0]],
}


def exported(tmp_path, symbol_text):
    shutil.copy(DATA / "module_arg_aux.params", tmp_path / "model-0000.params")
    (tmp_path / "model-symbol.json").write_text(symbol_text)
    return tmp_path / "model-0000.params"


def test_layers_of_the_matching_symbol_file_are_listed(tmp_path, capsys):
    path = exported(tmp_path, json.dumps(SYMBOL))
    code, out, _ = run(["inspect", path], capsys)
    assert code == 0
    assert "layers in model-symbol.json (2):" in out
    assert any(line.split() == ["dense0_fwd", "FullyConnected"] for line in out.splitlines())
    assert "dense0_weight" not in out.split("layers in")[1]
    code, out, _ = run(["inspect", path, "--json"], capsys)
    assert json.loads(out)["symbol"]["layers"] == [
        {"name": "dense0_fwd", "op": "FullyConnected"},
        {"name": "dense0_relu_fwd", "op": "Activation"},
    ]


def test_no_symbol_section_without_export_naming(capsys):
    code, out, _ = run(["inspect", DATA / "module_arg_aux.params", "--json"], capsys)
    assert code == 0 and json.loads(out)["symbol"] is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not a JSON symbol file"),
        ('{"nodes": 3}', "'nodes' list"),
        ("[1, 2]", "'nodes' list"),
        ('{"nodes": [{"op": 1, "name": "x"}]}', "nodes\\[0\\]"),
        ("[" * 100000 + "]" * 100000, "not a JSON symbol file"),
    ],
)
def test_bad_symbol_file_exits_2_with_one_line(tmp_path, capsys, text, message):
    path = exported(tmp_path, text)
    code, out, err = run(["inspect", path], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "model-symbol.json" in err
    assert re.search(message, err)


def test_oversized_symbol_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "MAX_SYMBOL_BYTES", 64)
    path = exported(tmp_path, json.dumps(SYMBOL))
    code, _, err = run(["inspect", path], capsys)
    assert code == 2 and "larger than 64 bytes" in err


# ---------------------------------------------------------------------- errors and entry points
@pytest.mark.parametrize("content", [b"", b"garbage bytes", b"PK\x03\x04junk"])
@pytest.mark.parametrize("ext", ["params", "npz", "safetensors"])
def test_bad_file_exits_2_with_one_line(tmp_path, capsys, content, ext):
    path = tmp_path / f"bad.{ext}"
    path.write_bytes(content)
    code, out, err = run(["inspect", path], capsys)
    assert code == 2 and out == ""
    assert err.startswith("paramlab inspect: error: ") and err.count("\n") == 1
    assert "bad." in err


def test_missing_file_exits_2(tmp_path, capsys):
    code, _, err = run(["inspect", tmp_path / "none.params"], capsys)
    assert code == 2 and "No such file" in err


def test_usage_errors_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["inspect"]) == 2
    assert cli.main(["inspect", str(DATA / "nd_list.nd"), "--bins", "0"]) == 2
    capsys.readouterr()


def test_module_entry_point_and_light_import(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "paramlab.cli", "inspect", str(DATA / "dense_float16.params")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0 and "float16" in proc.stdout
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, paramlab, paramlab.cli; print('matplotlib' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.stdout.strip() == "False"
    proc = subprocess.run(
        [sys.executable, "-m", "paramlab.cli", "inspect", str(tmp_path / "missing.npz")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2


def test_console_script_if_installed():
    script = Path(sys.executable).parent / "paramlab"
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run(
        [str(script), "inspect", str(DATA / "nd_single.nd"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["container"] == "list"
