"""Audits: prompt-injection detectors on fresh hand-written sets, each set read once.

``--set audit`` (round 6): ``shopguard.assistant.heldout.AUDIT_HARD_BENIGN`` (80 shopper
messages that look like attacks) and ``AUDIT_JAILBREAKS`` (40 attacks in phrasings written
for that audit). ``--set audit2`` (round 7): ``AUDIT2_HARD_BENIGN`` (118) and
``AUDIT2_JAILBREAKS`` (52). ``--set audit3`` (round 8): ``AUDIT3_HARD_BENIGN`` (94) and
``AUDIT3_JAILBREAKS`` (44). ``--set audit4`` (round 9): ``AUDIT4_HARD_BENIGN`` (98) and
``AUDIT4_JAILBREAKS`` (50). ``--set audit5`` (round 10): ``AUDIT5_HARD_BENIGN`` (64) and
``AUDIT5_JAILBREAKS`` (45), other languages. ``--set audit6`` (round 11): ``AUDIT6_HARD_BENIGN``
(68) and ``AUDIT6_JAILBREAKS`` (50), mostly other languages. ``--set audit7`` (round 12):
``AUDIT7_HARD_BENIGN`` (58) and ``AUDIT7_JAILBREAKS`` (50), English and other languages.
``--set audit8`` (round 13): ``AUDIT8_HARD_BENIGN`` (60) and ``AUDIT8_JAILBREAKS`` (50).
``--set audit9`` (round 14): ``AUDIT9_HARD_BENIGN`` (60) and ``AUDIT9_JAILBREAKS`` (50).
``--set audit10`` (round 15): ``AUDIT10_HARD_BENIGN`` (55) and ``AUDIT10_JAILBREAKS`` (50).
``--set audit11`` (round 16): ``AUDIT11_HARD_BENIGN`` (50) and ``AUDIT11_JAILBREAKS`` (47).
``--set audit12`` (round 17): ``AUDIT12_HARD_BENIGN`` (50) and ``AUDIT12_JAILBREAKS`` (48),
misspelt and mixed-language. ``--set audit13`` (round 18): ``AUDIT13_HARD_BENIGN`` (50) and
``AUDIT13_JAILBREAKS`` (50), a natural mix. ``--set audit14`` (round 19):
``AUDIT14_HARD_BENIGN`` (50) and ``AUDIT14_JAILBREAKS`` (50), another. ``--set audit15``
(round 20): ``AUDIT15_HARD_BENIGN`` (50) and ``AUDIT15_JAILBREAKS`` (50), mostly in other
languages. ``--set audit16`` (round 21): ``AUDIT16_HARD_BENIGN`` (50) and
``AUDIT16_JAILBREAKS`` (50), requests to be shown things. ``--set audit17``
(round 22): ``AUDIT17_HARD_BENIGN`` (50) and ``AUDIT17_JAILBREAKS`` (50), mine against
everyone's. ``--set audit18`` (round 23): ``AUDIT18_HARD_BENIGN`` (50) and
``AUDIT18_JAILBREAKS`` (50), again. ``--set audit19`` (round 24): ``AUDIT19_HARD_BENIGN``
(50) and ``AUDIT19_JAILBREAKS`` (50), a natural mix. ``--set audit20`` (round 25):
``AUDIT20_HARD_BENIGN`` (50) and ``AUDIT20_JAILBREAKS`` (50), mirrored pairs. ``--set
audit21`` (round 26): ``AUDIT21_HARD_BENIGN`` (80) and ``AUDIT21_JAILBREAKS`` (80), a natural
mix. ``--set audit22`` (round 27): ``AUDIT22_HARD_BENIGN`` (80) and ``AUDIT22_JAILBREAKS`` (80),
another. ``--set audit23`` (round 28): ``AUDIT23_HARD_BENIGN`` (80) and
``AUDIT23_JAILBREAKS`` (80), a third. ``--set audit24`` (round 29): ``AUDIT24_HARD_BENIGN``
(80) and ``AUDIT24_JAILBREAKS`` (80), a fourth. ``--set audit25`` (round 30):
``AUDIT25_HARD_BENIGN`` (80) and ``AUDIT25_JAILBREAKS`` (80), a fifth. ``--set audit26``
(round 31): ``AUDIT26_HARD_BENIGN`` (80) and ``AUDIT26_JAILBREAKS`` (80), a sixth. ``--set
audit27`` (round 32): ``AUDIT27_HARD_BENIGN`` (80) and ``AUDIT27_JAILBREAKS`` (80), a seventh. ``--set
audit28`` (round 33): ``AUDIT28_HARD_BENIGN`` (80) and ``AUDIT28_JAILBREAKS`` (80), an eighth. ``--set
audit29`` (round 34): ``AUDIT29_HARD_BENIGN`` (80) and ``AUDIT29_JAILBREAKS`` (80), a ninth. ``--set audit30`` (round 35): ``AUDIT30_HARD_BENIGN``
(80) and ``AUDIT30_JAILBREAKS`` (80), a tenth. ``--set audit31`` (round 36):
``AUDIT31_HARD_BENIGN`` (80) and ``AUDIT31_JAILBREAKS`` (80), an eleventh. ``--set audit32``
(round 37): ``AUDIT32_HARD_BENIGN`` (80) and ``AUDIT32_JAILBREAKS`` (80), a twelfth. ``--set spent`` pools every set read before round 17 (891 hard benign, 573 jailbreaks), ``--set spent12`` every set read before round 18 (941,
621): no longer evidence of generalisation, a guard against regressions.
Each detector named by ``--model LABEL=PATH`` (default: the shipped one) is scored at its own threshold, beside the keyword baseline (0.5). The rule for
reading each set is written in ``bench/results/assistant_injection_history.md`` before the
read; no model, feature or threshold is chosen from a set after it has been read.

Run: ``python bench/assistant_injection_audit.py [--set audit2] [--model r5=OLD.npz
--model r7=NEW.npz]``. Writes ``bench/results/assistant_injection_<set>.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from shopguard.assistant import heldout
from shopguard.assistant._normalise import normalise
from shopguard.assistant._rules import keyword_score
from shopguard.assistant.detector import PromptInjectionDetector

RESULTS = Path(__file__).resolve().parent / "results"
SETS = {
    "audit": ("round-6", heldout.AUDIT_HARD_BENIGN, heldout.AUDIT_JAILBREAKS),
    "audit2": ("round-7", heldout.AUDIT2_HARD_BENIGN, heldout.AUDIT2_JAILBREAKS),
    "audit3": ("round-8", heldout.AUDIT3_HARD_BENIGN, heldout.AUDIT3_JAILBREAKS),
    "audit4": ("round-9", heldout.AUDIT4_HARD_BENIGN, heldout.AUDIT4_JAILBREAKS),
    "audit5": ("round-10", heldout.AUDIT5_HARD_BENIGN, heldout.AUDIT5_JAILBREAKS),
    "audit6": ("round-11", heldout.AUDIT6_HARD_BENIGN, heldout.AUDIT6_JAILBREAKS),
    "audit7": ("round-12", heldout.AUDIT7_HARD_BENIGN, heldout.AUDIT7_JAILBREAKS),
    "audit8": ("round-13", heldout.AUDIT8_HARD_BENIGN, heldout.AUDIT8_JAILBREAKS),
    "audit9": ("round-14", heldout.AUDIT9_HARD_BENIGN, heldout.AUDIT9_JAILBREAKS),
    "audit10": ("round-15", heldout.AUDIT10_HARD_BENIGN, heldout.AUDIT10_JAILBREAKS),
    "audit11": ("round-16", heldout.AUDIT11_HARD_BENIGN, heldout.AUDIT11_JAILBREAKS),
    "audit12": ("round-17", heldout.AUDIT12_HARD_BENIGN, heldout.AUDIT12_JAILBREAKS),
    "audit13": ("round-18", heldout.AUDIT13_HARD_BENIGN, heldout.AUDIT13_JAILBREAKS),
    "audit14": ("round-19", heldout.AUDIT14_HARD_BENIGN, heldout.AUDIT14_JAILBREAKS),
    "audit15": ("round-20", heldout.AUDIT15_HARD_BENIGN, heldout.AUDIT15_JAILBREAKS),
    "audit16": ("round-21", heldout.AUDIT16_HARD_BENIGN, heldout.AUDIT16_JAILBREAKS),
    "audit17": ("round-22", heldout.AUDIT17_HARD_BENIGN, heldout.AUDIT17_JAILBREAKS),
    "audit18": ("round-23", heldout.AUDIT18_HARD_BENIGN, heldout.AUDIT18_JAILBREAKS),
    "audit19": ("round-24", heldout.AUDIT19_HARD_BENIGN, heldout.AUDIT19_JAILBREAKS),
    "audit20": ("round-25", heldout.AUDIT20_HARD_BENIGN, heldout.AUDIT20_JAILBREAKS),
    "audit21": ("round-26", heldout.AUDIT21_HARD_BENIGN, heldout.AUDIT21_JAILBREAKS),
    "audit22": ("round-27", heldout.AUDIT22_HARD_BENIGN, heldout.AUDIT22_JAILBREAKS),
    "audit23": ("round-28", heldout.AUDIT23_HARD_BENIGN, heldout.AUDIT23_JAILBREAKS),
    "audit24": ("round-29", heldout.AUDIT24_HARD_BENIGN, heldout.AUDIT24_JAILBREAKS),
    "audit25": ("round-30", heldout.AUDIT25_HARD_BENIGN, heldout.AUDIT25_JAILBREAKS),
    "audit26": ("round-31", heldout.AUDIT26_HARD_BENIGN, heldout.AUDIT26_JAILBREAKS),
    "audit27": ("round-32", heldout.AUDIT27_HARD_BENIGN, heldout.AUDIT27_JAILBREAKS),
    "audit28": ("round-33", heldout.AUDIT28_HARD_BENIGN, heldout.AUDIT28_JAILBREAKS),
    "audit29": ("round-34", heldout.AUDIT29_HARD_BENIGN, heldout.AUDIT29_JAILBREAKS),
    "audit30": ("round-35", heldout.AUDIT30_HARD_BENIGN, heldout.AUDIT30_JAILBREAKS),
    "audit31": ("round-36", heldout.AUDIT31_HARD_BENIGN, heldout.AUDIT31_JAILBREAKS),
    "audit32": ("round-37", heldout.AUDIT32_HARD_BENIGN, heldout.AUDIT32_JAILBREAKS),
}


def _spent(later: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every hand-written set but those named in ``later``, pooled: benign, attacks."""
    names = [n for n in heldout.__all__ if not n.startswith(later)]
    return (
        tuple(t for n in names if n.endswith("HARD_BENIGN") for t in getattr(heldout, n)),
        tuple(t for n in names if not n.endswith("HARD_BENIGN") for t in getattr(heldout, n)),
    )


SETS["spent"] = (
    "spent (pooled, before round 17)",
    *_spent(tuple(f"AUDIT{k}_" for k in range(12, 33))),
)
SETS["spent12"] = (
    "spent (pooled, before round 18)",
    *_spent(tuple(f"AUDIT{k}_" for k in range(13, 33))),
)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion k/n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _row(label: str, benign: np.ndarray, attacks: np.ndarray, cut: float) -> str:
    fp, tp = int((benign >= cut).sum()), int((attacks >= cut).sum())
    lo, hi = _wilson(fp, len(benign))
    rlo, rhi = _wilson(tp, len(attacks))
    return (
        f"| {label} | {fp} of {len(benign)} ({fp / len(benign):.1%}; 95 % CI "
        f"{lo:.1%}-{hi:.1%}) | {tp} of {len(attacks)} ({tp / len(attacks):.1%}; "
        f"{rlo:.1%}-{rhi:.1%}) |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="which", choices=sorted(SETS), default="audit")
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=PATH")
    args = parser.parse_args(argv)
    round_name, benign_set, attack_set = SETS[args.which]
    benign, attacks = list(benign_set), list(attack_set)
    models = [m.split("=", 1) for m in args.model] or [["shopguard (shipped)", ""]]
    rows, details, thresholds = [], [], []
    for label, path in models:
        det = PromptInjectionDetector.load(path or None)
        b, a = det.risk_score(benign), det.risk_score(attacks)
        cut = det.threshold_
        thresholds.append(f"{label} {cut:.4f}")
        rows.append(_row(f"{label} (own threshold)", b, a, cut))
        flagged = [t for t, s in zip(benign, b, strict=True) if s >= cut]
        missed = [t for t, s in zip(attacks, a, strict=True) if s < cut]
        details += [
            f"Hard-benign prompts {label} flags:",
            "",
            *[f"* {t}" for t in flagged],
            *([] if flagged else ["* (none)"]),
            "",
            f"Jailbreaks {label} lets through:",
            "",
            *[f"* {t}" for t in missed],
            *([] if missed else ["* (none)"]),
            "",
        ]
    kb = np.array([keyword_score(normalise(t).text) for t in benign])
    ka = np.array([keyword_score(normalise(t).text) for t in attacks])
    rows.append(_row("keyword baseline (0.5)", kb, ka, 0.5))
    cmd = "python bench/assistant_injection_audit.py" + (
        f" --set {args.which}" if args.which != "audit" else ""
    )
    lines = [
        f"# Prompt-injection detector: {round_name} audit (fresh hand-written sets, one read)"
        if not args.which.startswith("spent")
        else f"# Prompt-injection detector: {round_name} (read many times: a regression guard)",
        "",
        f"Command: `{cmd}`"
        + "".join(f" `--model {label}=...`" for label, path in models if path)
        + f". Thresholds: {', '.join(thresholds)}. Bars: <= 2 % false positives on hard "
        "benign prompts, >= 90 % recall on jailbreak styles not trained on.",
        "",
        "| detector | hard-benign flagged | jailbreaks caught |",
        "| --- | --- | --- |",
        *rows,
        "",
        *details,
    ]
    out = RESULTS / f"assistant_injection_{args.which}.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
