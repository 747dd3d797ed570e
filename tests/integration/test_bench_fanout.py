"""bench/fanout.py with a handful of clients, so the benchmark cannot rot: both modes run
(one node, two nodes through Redis), every client gets every event, the JSON line has its
figures. Timings are the benchmark's business, not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_fanout_bench_runs_both_modes_and_loses_nothing(redis_url: str, tmp_path: Path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "fanout.py"), "--clients", "6", "--events", "5",
                          "--redis-url", redis_url], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    line = json.loads(run.stdout.strip().splitlines()[-1])
    assert line["bench"] == "fanout" and (line["clients"], line["events"]) == (6, 5)
    for mode in ("one_node", "two_nodes"):
        for who in ("", "baseline_"):
            assert line[f"{mode}_{who}lost"] == 0, (mode, who)
            assert line[f"{mode}_{who}msgs_per_s"] > 0
            assert 0 < line[f"{mode}_{who}p50_ms"] <= line[f"{mode}_{who}p99_ms"]
        assert line[f"{mode}_ratio"] > 0
    assert line["ratio"] == min(line["one_node_ratio"], line["two_nodes_ratio"])
