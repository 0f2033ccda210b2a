"""bench/device_ops.py runs in its quick mode and its figures meet the issue's budget."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "device_ops.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("device_ops", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_quick_month_keeps_every_back_end_within_its_write_budget(capsys):
    in_process = ["--backend", "virtual", "--backend", "ttlock", "--backend", "nuki"]
    figures = load_bench().main(["--quick", *in_process])  # Seam's node peer takes a minute
    assert [f.backend for f in figures] == ["virtual", "ttlock", "nuki"]
    for figure in figures:
        assert figure.stays > 0
        assert figure.by_kind["create_code"] >= figure.stays, figure.line()
        assert figure.writes <= 2 * figure.stays, figure.line()
        assert figure.steady_writes == 0, figure.line()
    assert "writes/stay" in capsys.readouterr().out
