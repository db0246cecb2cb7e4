"""Adversarial robustness: evasion attacks, robustness evaluation, unusual-input detection.

* :mod:`.attacks` - FGSM, PGD (L-inf, random start), APGD and Square (ART) on the image model;
* :mod:`.robustness` - clean and robust accuracy tables;
* :mod:`.detectors` - unusual-input detectors (compiled isolation forest, image squeezing);
* :mod:`.guard` - the gateway guard ``adversarial.unusual_input``;
* :mod:`.fraud_evasion` - the constrained evasion attack on the fraud scorer and its hardening.

References
----------
Biggio, Roli, "Wild patterns: Ten years after the rise of adversarial machine learning",
Pattern Recognition 84, 2018.
"""
