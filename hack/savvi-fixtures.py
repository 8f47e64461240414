#!/usr/bin/env python3
"""Writes test/fixtures/savvi/*.json: p-values (and confidence sequences) that the reference
implementation of Lindon & Malek's tests, the `savvi` package, gives for fixed count sequences.
test/unit/analysis/savvi.test.ts checks src/analysis against them.

savvi is a reference, not a dependency of the product; to regenerate the fixtures:
    python3 -m venv .venv-savvi && .venv-savvi/bin/pip install savvi==0.3.1 matplotlib  # savvi imports it undeclared
    .venv-savvi/bin/python hack/savvi-fixtures.py
"""
import json
import pathlib
from importlib.metadata import version

import numpy as np
from scipy.special import gammaln
from savvi.multinomial import InhomogeneousPoissonProcess, Multinomial

K = 100
ALPHA = 0.025  # the per-test level of one signal at α = 0.05 (α/2 for the rate test, α/2 for SRM)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "savvi"


def cumulative_sequence(rng, split, rates, snapshots, trials_per_snapshot):
    """Cumulative [stable, canary] trials and events, one Poisson batch of traffic per snapshot."""
    shares = np.array(split, dtype=float) / 100
    trials = np.zeros(2, dtype=np.int64)
    events = np.zeros(2, dtype=np.int64)
    out = []
    for _ in range(snapshots):
        n = rng.poisson(trials_per_snapshot)
        batch = rng.multinomial(n, shares)
        trials += batch
        events += rng.binomial(batch, rates)
        out.append({"stable": {"trials": int(trials[0]), "events": int(events[0])},
                    "canary": {"trials": int(trials[1]), "events": int(events[1])}})
    return out


def increments(sequence, kind):
    previous = np.zeros(2, dtype=np.int64)
    for snapshot in sequence:
        current = np.array([snapshot["stable"][kind], snapshot["canary"][kind]], dtype=np.int64)
        yield current - previous
        previous = current


def finite_or_none(value):
    return float(value) if value is not None and np.isfinite(value) else None


def rate_case(name, split, rates, snapshots, trials_per_snapshot, seed, served_split=None):
    """savvi's p-values for the designed split; the traffic follows served_split when given (an SRM)."""
    rng = np.random.default_rng(seed)
    sequence = cumulative_sequence(rng, served_split or split, np.array(rates), snapshots, trials_per_snapshot)
    rho = np.array(split, dtype=float) / 100
    # weights [-1, 1]: the contrast δ_canary − δ_stable, the log rate ratio
    rate = InhomogeneousPoissonProcess(ALPHA, rho, np.array([[-1, 1]]), k=K)
    srm = Multinomial(ALPHA, rho, k=K)
    expected = []
    for events, trials in zip(increments(sequence, "events"), increments(sequence, "trials")):
        rate.update(events)
        rate.infer()
        srm.update(trials)
        # infer() without the confidence set, which savvi's solver cannot find for large counts:
        # the same running minimum of 1/BF
        srm.p_value = np.fmin(srm.p_value, srm.calculate_p_value())
        expected.append({
            "rateP": float(rate.p_value[0]),
            "srmP": float(srm.p_value[0]),
            "logRatioInterval": [finite_or_none(rate.conf_int[0, 0]), finite_or_none(rate.conf_int[0, 1])],
        })
    return {"name": name, "split": {"stable": split[0], "canary": split[1]}, "rates": rates, "snapshots": sequence, "expected": expected}


def lean_case(name, counts):
    """Discordant pairs [shadowOnlySpam, stableOnlySpam], cumulative; H₀: ½ each."""
    test = Multinomial(ALPHA, np.array([0.5, 0.5]), k=K)
    previous = np.zeros(2, dtype=np.int64)
    expected = []
    for pair in counts:
        current = np.array(pair, dtype=np.int64)
        test.update(current - previous)
        test.infer()
        previous = current
        expected.append(float(test.p_value[0]))
    return {"name": name, "discordant": counts, "expectedP": expected}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    header = {"generatedBy": "hack/savvi-fixtures.py", "savvi": version("savvi"), "k": K, "alpha": ALPHA}
    cases = [
        rate_case("A/A 90/10 at 1%", [90, 10], [0.01, 0.01], 60, 500, 1),
        rate_case("canary 3x worse, 90/10 at 1%", [90, 10], [0.01, 0.03], 60, 500, 2),
        rate_case("canary better, 50/50 at 5%", [50, 50], [0.05, 0.02], 40, 300, 3),
        rate_case("A/A 95/5 at 0.5%", [95, 5], [0.005, 0.005], 60, 2000, 4),
        rate_case("canary 2x worse, 80/20 at 0.2%, large counts", [80, 20], [0.002, 0.004], 50, 20000, 5),
        rate_case("split broken: 85/15 served, 90/10 designed", [90, 10], [0.01, 0.01], 40, 400, 6, served_split=[85, 15]),
    ]
    (OUT / "rate-and-srm.json").write_text(json.dumps({**header, "cases": cases}, indent=1) + "\n")

    lean = [
        lean_case("no lean", [[i // 2, i - i // 2] for i in range(0, 400, 8)]),
        lean_case("shadow flags more", [[(3 * i) // 4, i - (3 * i) // 4] for i in range(0, 300, 6)]),
        lean_case("stable flags more", [[i // 5, i - i // 5] for i in range(0, 200, 4)]),
    ]
    (OUT / "lean.json").write_text(json.dumps({**header, "cases": lean}, indent=1) + "\n")

    points = [1e-3, 0.05, 0.5, 1, 1.5, 2, 2.5, 5, 10, 14.5, 15, 15.5, 20, 99.5, 100, 1234.5, 1e5, 1e6 + 0.25, 1e8]
    (OUT / "log-gamma.json").write_text(json.dumps({**header, "points": [[x, float(gammaln(x))] for x in points]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
