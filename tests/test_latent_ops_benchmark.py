"""The benchmark script that needs no ComfyUI runs on its smallest input (the others: tests/integration/test_benchmark_scripts.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_latent_ops_benchmark_runs_with_the_official_transcription():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fastdrag_latent_ops.py"), "--sizes", "16", "--drags", "1", "2",
         "--repeat", "1", "--reference", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line for line in run.stdout.splitlines() if line.strip().startswith("16²")]
    assert len(rows) == 2 and all(row.split("|")[-1].strip().isdigit() for row in rows), run.stdout
