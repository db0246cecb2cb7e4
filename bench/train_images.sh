#!/usr/bin/env bash
# Rebuilds the shipped image-classifier weights (src/shopguard/store/images/weights/) and the
# detectors' calibration. Run from the repository root: nice -n 10 bash bench/train_images.sh
set -euo pipefail
export PYTHONPATH="$PWD/src"
T="python3 -m shopguard.store.images.images_train --threads 2 --seed 0"
$T --name standard --method standard --epochs 6
$T --name robust --method fgsm_rs --eps 0.1 --epochs 6
python3 -m shopguard.adversarial.calibrate --model standard
python3 -m shopguard.adversarial.calibrate --model robust
