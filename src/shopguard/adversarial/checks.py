"""Scorecard checks of the adversarial area: robust accuracy, detection of attacked images, and
evasion of the hardened fraud model.

The image checks use the ``adversarial_images`` resource
(:func:`shopguard.adversarial.demo.demo_resources`): the served image model's name and the 100
shipped images of the official test split. The fraud check uses ``fraud_evasion``: the store's
directory, whose transactions it splits in time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

if TYPE_CHECKING:
    from shopguard.store.images import ImageClassifier

__all__ = [
    "DETECTION_BAR",
    "EVASION_BAR",
    "FPR_BAR",
    "MIN_CAUGHT",
    "ROBUST_ACCURACY_BAR",
    "ROBUST_ACCURACY_FLOOR",
]

#: Issue 7's target: accuracy under PGD-50 (L-inf eps 0.1, random start) of at least 0.80. The
#: shipped robust model holds 0.800 on the fixed 1,000 test images (the standard one 0.07): the
#: target is met with no margin (bench/results/adversarial_images.md), so on the demo's 100-image
#: sample it lands either side of it. The check guards what ships:
#: it fails below ROBUST_ACCURACY_FLOOR (a model without adversarial training scores ~0.07,
#: so turning the defence off fails it) and states the target in its evidence.
ROBUST_ACCURACY_BAR = 0.80
ROBUST_ACCURACY_FLOOR = 0.60
DETECTION_BAR = 0.95
FPR_BAR = 0.02
#: Largest share of the frauds a hardened fraud model catches that the evasion search may push
#: under its threshold. Measured: 47 % on the 10,000-customer benchmark store against 85 % for
#: the standard model (bench/results/adversarial_fraud.md), the split this check uses.
EVASION_BAR = 0.60
#: Fewest later frauds the standard model must catch for an evasion rate to mean anything.
MIN_CAUGHT = 10


def _sample(ctx: CheckContext) -> tuple[ImageClassifier, NDArray[np.uint8], NDArray[np.uint8]]:
    from shopguard.store.images import load_classifier

    res = ctx["adversarial_images"]
    return load_classifier(res["model"]), res["images"], res["labels"]


@checks.register
class RobustAccuracy(Check):
    """The served image model keeps its accuracy under a PGD attack (L-inf eps 0.1, 50 steps, random start)."""

    name = "adversarial.robust_accuracy"
    area = Area.ADVERSARIAL
    title = "Image classifier accuracy under PGD (eps 0.1) stays above the bar"
    requires = ("adversarial_images",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.adversarial.attacks import Attack, AttackSpec
        from shopguard.adversarial.robustness import accuracy_under

        model, X, y = _sample(ctx)
        clean = accuracy_under(model, X, y, None)
        robust = accuracy_under(model, X, y, AttackSpec(Attack.PGD50, 0.1, steps=50))
        fig = Figure("pgd50_eps0.1_accuracy", round(robust, 4), ROBUST_ACCURACY_FLOOR)
        target = "met" if robust >= ROBUST_ACCURACY_BAR else "not met"
        evidence = (
            f"{len(y)} test images: clean {clean:.3f}, PGD-50 eps 0.1 {robust:.3f} "
            f"(floor {ROBUST_ACCURACY_FLOOR}; issue 7 target {ROBUST_ACCURACY_BAR} {target})"
        )
        return (Status.PASS if robust >= ROBUST_ACCURACY_FLOOR else Status.FAIL), fig, evidence


@checks.register
class AttackedImagesFlagged(Check):
    """The unusual-input detector flags PGD-attacked images (eps 0.1) and passes clean ones."""

    name = "adversarial.attacked_images_flagged"
    area = Area.ADVERSARIAL
    title = "Unusual-input detector flags adversarial images at a low false-positive rate"
    requires = ("adversarial_images",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.adversarial.attacks import Attack, AttackSpec, run_attack
        from shopguard.adversarial.service import image_detector_path, load_image_detector

        model, X, y = _sample(ctx)
        det = load_image_detector(model, image_detector_path(model.name))
        adv = run_attack(model, X, y, AttackSpec(Attack.PGD, 0.1, steps=20))
        detected = float(det.flag(adv).mean())
        fpr = float(det.flag(X).mean())
        fig = Figure("detection_rate_pgd_eps0.1", round(detected, 4), DETECTION_BAR)
        evidence = f"{len(y)} images: PGD eps 0.1 flagged {detected:.3f}, clean flagged {fpr:.3f} (bar <= {FPR_BAR})"
        ok = detected >= DETECTION_BAR and fpr <= FPR_BAR
        return (Status.PASS if ok else Status.FAIL), fig, evidence


@checks.register
class FraudEvasionHardened(Check):
    """Fraudster-controlled changes push few caught frauds past the hardened fraud model.

    The store's transactions are split in time as in ``bench/adversarial_fraud.py``: a standard
    model and its hardened copy (adversarial training on the fraudster's variants,
    :func:`harden_fraud_model`) learn from the first 45 days, and the evasion search (48
    variants of basket, hour, device, IP country and shipping) runs on the later days' frauds
    against both. The check passes when the hardened model's evasion rate is at most
    :data:`EVASION_BAR`; the standard model's rate, in the evidence, shows the attack works
    without the hardening. A store too small for the standard model to catch
    :data:`MIN_CAUGHT` later frauds cannot measure it: the check is skipped, saying so.
    """

    name = "adversarial.fraud_evasion_hardened"
    area = Area.ADVERSARIAL
    title = "Hardened fraud model resists evasion by fraudster-controlled fields"
    requires = ("fraud_evasion",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.adversarial.fraud_evasion import (
            evasion_search,
            harden_fraud_model,
            split_in_time,
        )
        from shopguard.store.fraud import train_fraud
        from shopguard.store.schema import load_store

        tx = load_store(ctx["fraud_evasion"]["store_dir"]).transactions
        train, test, _ = split_in_time(tx)
        standard = train_fraud(train, random_state=0, validation_days=0)
        std = evasion_search(standard, test, train, name="standard")
        if std.caught_before < MIN_CAUGHT:
            return (
                Status.SKIPPED,
                None,
                f"store too small to measure evasion: the standard model catches "
                f"{std.caught_before} of {std.n_frauds} later frauds (needs {MIN_CAUGHT})",
            )
        hardened = harden_fraud_model(standard, train)
        hard = evasion_search(hardened, test, train, name="hardened")
        fig = Figure("fraud_evasion_rate_hardened", round(hard.evasion_rate, 4), EVASION_BAR)
        evidence = (
            f"days 46+, {hard.n_frauds} frauds: hardened model evaded {hard.evaded} of "
            f"{hard.caught_before} caught ({hard.evasion_rate:.3f}, bar <= {EVASION_BAR}); "
            f"standard model {std.evaded} of {std.caught_before} ({std.evasion_rate:.3f}); "
            f"AP {std.average_precision:.3f} -> {hard.average_precision:.3f}"
        )
        ok = hard.caught_before > 0 and hard.evasion_rate <= EVASION_BAR
        return (Status.PASS if ok else Status.FAIL), fig, evidence
