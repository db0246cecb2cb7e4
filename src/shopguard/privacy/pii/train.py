"""Train the shipped name/address tagger: ``python -m shopguard.privacy.pii.train``.

Training data (all deterministic from ``--seed``):

* the template-disjoint *train* part of ``pii_presidio_synth`` (the
  *test* part, the same :func:`split_by_template` call, is kept for
  ``bench/pii.py``);
* synthetic chat / support sentences with Faker people and addresses in 33
  locales (:mod:`._synth`), the way the store's customers write;
* negatives: sentences of the ``fake_reviews_salminen`` *dev* split (its *test*
  split is kept for the false-positive benchmark), which also give the
  "common lower-case word" gazetteer.
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from shopguard.core.errors import DataValidationError
from shopguard.privacy.pii._detector import DEFAULT_MODEL_PATH
from shopguard.privacy.pii._synth import faker_gazetteers, synth_sentences
from shopguard.privacy.pii._tagger import TokenTagger
from shopguard.privacy.pii.presidio_synth import gold_spans, load_records, split_by_template

__all__ = ["DEFAULT_DATA_DIR", "build_training_set", "main", "train"]

logger = logging.getLogger(__name__)

#: ``../shared/data`` beside the repository.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4] / "../shared/data"
PRESIDIO_FILE = "pii_presidio_synth/synth_dataset_v2.subset.json"
REVIEWS_FILE = "fake_reviews_salminen/reviews.csv"
PRESIDIO_WEIGHT = 3
_SENT = re.compile(r"(?<=[.!?])\s+")
_LOWER_WORD = re.compile(r"\b[a-z][a-z']+\b")
_CAP_WORD = re.compile(r"\b[A-Z]\w+")


def review_texts(data_dir: Path, split: str) -> list[str]:
    """Review texts of one ``orig_split`` (``dev`` or ``test``) of fake_reviews_salminen."""
    path = data_dir / REVIEWS_FILE
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [row["text"] for row in csv.DictReader(fh) if row["orig_split"] == split]
    except (OSError, KeyError) as exc:
        raise DataValidationError("cannot read the reviews dataset", file=str(path)) from exc


def build_training_set(
    data_dir: Path, *, n_synth: int, n_negative: int, random_state: int
) -> tuple[list[str], list[list[tuple[str, int, int]]], dict[str, set[str]]]:
    """Texts, tagger spans and gazetteers for :meth:`TokenTagger.fit`."""
    records = load_records(data_dir / PRESIDIO_FILE)
    train_recs, _ = split_by_template(records, random_state=random_state)
    texts: list[str] = []
    labels: list[list[tuple[str, int, int]]] = []
    # the dataset's own (training) templates count three times the synthetic ones
    for rec in [r for r in train_recs for _ in range(PRESIDIO_WEIGHT)]:
        texts.append(rec.text)
        labels.append(
            [
                (g.type.value, g.start, g.end)
                for g in gold_spans(rec)
                if g.type is not None and g.type.value in ("PERSON", "POSTAL_ADDRESS")
            ]
        )
    s_texts, s_labels = synth_sentences(n_synth, random_state=random_state)
    texts += s_texts
    labels += s_labels
    gaz = faker_gazetteers()
    reviews = review_texts(data_dir, "dev")
    # Reviews name authors and characters; a sentence with a capitalised known
    # name after its first word would teach the tagger that names are not PII.
    names = gaz["first"] | gaz["last"]
    sentences = [
        s
        for r in reviews
        for s in _SENT.split(r)
        if 3 < len(s) < 300
        and not any(w.lower() in names for w in _CAP_WORD.findall(s.split(" ", 1)[-1]))
    ]
    texts += sentences[:n_negative]
    labels += [[] for _ in sentences[:n_negative]]
    words = Counter(w for r in reviews for w in _LOWER_WORD.findall(r))
    gaz["common"] = {w for w, c in words.items() if c >= 3}
    return texts, labels, gaz


def train(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    n_synth: int = 10000,
    n_negative: int = 1000,
    random_state: int = 0,
    C: float = 1.0,
) -> TokenTagger:
    """Fit the tagger on the training set built from ``data_dir``."""
    texts, labels, gaz = build_training_set(
        data_dir, n_synth=n_synth, n_negative=n_negative, random_state=random_state
    )
    logger.info("training PII tagger on %d texts", len(texts))
    return TokenTagger(C=C).fit(texts, labels, gazetteers=gaz)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: train and write the tagger archive."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    p.add_argument("--n-synth", type=int, default=10000)
    p.add_argument("--n-negative", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    tagger = train(
        args.data_dir.resolve(),
        n_synth=args.n_synth,
        n_negative=args.n_negative,
        random_state=args.seed,
    )
    tagger.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(tagger.vocab_)} features)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
