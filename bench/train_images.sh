#!/usr/bin/env bash
# Rebuilds the shipped image-classifier weights (src/shopguard/store/images/weights/) and the
# detectors' calibration. Needs the official Fashion-MNIST splits: apt-get install dataset-fashion-mnist
# (/usr/share/datasets/fashion-mnist; or pass --data DIR). Run from the repository root:
#   nice -n 10 bash bench/train_images.sh            (THREADS=6 for the figures in BENCHMARKS.md)
# The standard model is the earlier one (SmallCNN, 6 epochs on the shared 9,000-image subset):
#   python3 -m shopguard.store.images.images_train --name standard --method standard --epochs 6 --dataset subset
set -euo pipefail
export PYTHONPATH="$PWD/src"
T="python3 -m shopguard.store.images.images_train --threads ${THREADS:-2} --seed 0 --arch StrideCNN --epochs 10 --batch-size 256"
$T --name robust --method fgsm_rs --eps 0.1 --lr 0.01
$T --name robust02 --method n_fgsm --eps 0.2 --eps-ramp 0.3 --lr 0.003
for m in standard robust robust02; do
  python3 -c "from shopguard.adversarial.calibrate import calibrate_image_detector as c; print(c('$m', n=6000, dataset='full', target_fpr=0.01))"
done
