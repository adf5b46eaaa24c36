import json
import re
import subprocess
import sys

import pytest

from mcising.cli import main

JSON_KEYS = ["method", "n_nodes", "n_edges", "theta", "w", "eps", "entropy",
             "entropy_stderr", "log_z", "mean_energy", "heat_capacity", "mean_activity",
             "seconds"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_entropy_table(capsys):
    status, out, _ = run(capsys, "entropy", "--graph", "grid_2d:4,4", "--theta", "5",
                         "--w", "0.5:3.5:0.5", "--eps", "1")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["W", "theta", "eps", "entropy", "stderr", "log_Z", "<H>",
                                "C", "method"]
    rows = [line.split() for line in lines[1:]]
    assert [r[0] for r in rows] == ["0.5", "1", "1.5", "2", "2.5", "3", "3.5"]
    peak = max(rows, key=lambda r: float(r[3]))
    assert peak[0] == "1.5" and peak[-1] == "exact"


def test_entropy_json_keys_and_plot(capsys, tmp_path):
    plot = tmp_path / "curve.png"
    status, out, _ = run(capsys, "entropy", "--graph", "cycle:8", "--theta", "1,2",
                         "--w", "1", "--eps", "0.5:1:0.5", "--json", "--plot", str(plot))
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 4
    assert list(records[0])[: len(JSON_KEYS)] == JSON_KEYS
    assert records[0]["entropy_stderr"] == 0 and records[0]["n_edges"] == 8
    assert {(r["theta"], r["eps"]) for r in records} == {(1, 0.5), (1, 1), (2, 0.5),
                                                         (2, 1)}
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_entropy_bits(capsys):
    _, nats, _ = run(capsys, "entropy", "--graph", "path:3", "--eps", "0", "--json")
    _, bits, _ = run(capsys, "entropy", "--graph", "path:3", "--eps", "0", "--json",
                     "--bits")
    assert json.loads(nats)["entropy"] == pytest.approx(3 * 0.6931471805599453)
    assert json.loads(bits)["entropy"] == pytest.approx(3.0)
    assert json.loads(bits)["entropy_units"] == "bits"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--graph", "nosuch:1"], "not a known generator"),
        (["--graph", "cycle:4", "--w", "1:0:1"], "start <= stop"),
        (["--graph", "cycle:4", "--eps", "-1"], "eps must be >= 0"),
        (["--graph", "cycle:60", "--method", "exact", "--exact-backend", "enumerate"],
         "limit of 34 nodes"),
        (["--graph", "missing.txt"], "does not exist"),
    ],
)
def test_entropy_errors_are_one_line(capsys, argv, match):
    status, out, err = run(capsys, "entropy", *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("mcising: error: ") and re.search(match, err)


def test_node_activity_carries_labels(capsys):
    status, out, _ = run(capsys, "entropy", "--graph", "grid_2d:2,2", "--theta", "1",
                         "--json", "--node-activity")
    record = json.loads(out)
    assert status == 0 and record["node_labels"] == ["(0, 0)", "(0, 1)", "(1, 0)",
                                                     "(1, 1)"]
    assert len(record["node_activity"]) == 4 and record["node_activity_stderr"] == [0] * 4


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "mcising", "entropy", "--graph", "complete:4", "--json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_edges"] == 6


def test_ctrl_c_exits_130(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("mcising.cli.entropy.entropy", interrupted)
    status, _, err = run(capsys, "entropy", "--graph", "cycle:4")
    assert status == 130 and err.strip() == "mcising: interrupted"
