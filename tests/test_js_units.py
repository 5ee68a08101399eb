"""The points editor's pure JS modules (js/lib) under Node's built-in test runner (js/tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_js_unit_tests_pass():
    if shutil.which("node") is None:
        pytest.skip("no node: install Node.js (>= 18) to run js/tests")
    result = subprocess.run(["node", "--test", "js/tests/"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
