"""Cost of the gateway's fairness hook per fraud decision: group lookup, mitigation, counters.

Run: ``PYTHONPATH=src python bench/fairness_hook.py`` (prints medians of 5 runs of 20,000
decisions over a 20,000-customer table with two monitored attributes).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shopguard.core.events import EventBus
from shopguard.fairness.mitigation import GroupScoreShift
from shopguard.fairness.serving import FraudMitigation, LiveFairness, save_mitigation

REGIONS = ["US", "UK", "EU-north", "EU-south"]


def main() -> None:
    n = 20_000
    rng = np.random.default_rng(0)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "region": rng.choice(REGIONS, n),
            "age_band": rng.choice(["18-24", "25-34", "35-54", "55+"], n),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "default" / "fraud").mkdir(parents=True)
        s, g = rng.random(5000), rng.choice(REGIONS, 5000)
        shift = GroupScoreShift(min_group_size=10).fit(s, np.zeros(5000, dtype=int), g)
        save_mitigation(FraudMitigation("region", shift, "bench"), root / "default" / "fraud")
        ids = [f"C{i}" for i in rng.integers(0, n, 20_000)]
        for methods in ({}, {"fraud": "threshold"}):
            live = LiveFairness(
                methods=methods,
                model_dir=lambda tenant, model: root / tenant / model,
                bus=EventBus(),
                attributes=("region", "age_band"),
            )
            live.fraud_score("default", customers, "C1", 0.5)  # loads the tables once
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                for c in ids:
                    score, _, groups = live.fraud_score("default", customers, c, 0.42)
                    live.observe("default", groups, score >= 0.8)
                runs.append((time.perf_counter() - t) / len(ids) * 1e6)
            label = "threshold mitigation + monitor" if methods else "monitor only"
            print(f"{label}: median {statistics.median(runs):.1f} us per decision", flush=True)


if __name__ == "__main__":
    main()
