"""benchmarks/paired.py: a checkout paired with itself steps in turns and ends identical."""

from pathlib import Path

from benchmarks import paired


def test_a_checkout_paired_with_itself(capsys):
    here = Path(__file__).resolve().parents[1]
    r = paired.run(here, scale=0.001, start=1, days=4, block=2)
    assert r["same"] and r["this_ms"] > 0 and r["other_ms"] > 0
    paired.report(r, here)
    assert "identical" in capsys.readouterr().out
    assert paired.main([]) == 0  # without --other (python -m benchmarks): nothing run
