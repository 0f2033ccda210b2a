"""bench/radio.py runs in its quick mode and both slot back-ends keep the issue's radio budget.

The budget is a count of commands, not a timing: at most two writes and two single-slot reads
per stay, one inventory at import and no full read after it, nothing in steady state; and what
the adapter counted is what the simulated lock received.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "radio.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("radio", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(600)  # two peers and a simulated week of passes on a loaded machine
def test_the_quick_month_keeps_both_slot_back_ends_within_the_radio_budget(capsys):
    figures = load_bench().main(["--quick"])
    assert "zwave_js" in [f.backend for f in figures]
    for figure in figures:
        line = "\n".join(figure.lines())
        assert figure.stays > 0
        assert figure.inventory.reads == figure.slots, line
        assert figure.month.writes <= 2 * figure.stays, line
        assert figure.month.reads <= 2 * figure.stays, line
        assert figure.busiest_pass_reads < figure.slots, line
        assert (figure.steady.writes, figure.steady.reads) == (0, 0), line
        at_lock = sum(figure.month.at_lock.values())
        assert at_lock == figure.month.writes + figure.month.reads, line
    printed = capsys.readouterr().out
    assert "Lock Code Manager" in printed
    assert "Keymaster" in printed
