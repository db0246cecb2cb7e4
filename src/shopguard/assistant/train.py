"""Rebuild the shipped prompt-injection detector: ``python -m shopguard.assistant.train``.

Training data: deepset/prompt-injections' *train* split (Apache-2.0), the
store's generated attacks and benign shopper messages, with attacks and shopper messages
written wholly in 25 languages (:mod:`shopguard.assistant.corpus`,
:mod:`._corpus_languages`), and genuine and generated product reviews
from Salminen et al. 2022 (CC BY 4.0) as benign documents. Each text is scored with more
views: the English gloss of its words in other languages (:mod:`._gloss`, round 11), read
sentence by sentence, and its sentences with misspelt injection words respelt
(:mod:`._respell`; round 17). The
decision threshold is read on :mod:`shopguard.assistant.validation` (hand-written
hard-benign prompts) and on reviews that neither training nor the benchmark uses
(:func:`validation_reviews`). The default since round 36's read
(``bench/results/assistant_injection_history.md``) is one logistic model over those
features, trained on the spent hand-written held-out sets too (:data:`SPENT_SETS_36`, every
set read before round 36 but ``AUDIT14_*``), human-written rows weighed above generated ones
(:data:`ONE_MODEL_WEIGHTS`), keyword rule set 33, blended with the packaged sentence encoder
fine-tuned on the same rows (round 9's member, :func:`attach_finetuned`; torch at build time
only, about 27 minutes on two cores; scoring runs the encoder in numpy), and its threshold,
read on the blended scores, held to 2 % of the hand-written shoppers by their out-of-fold
scores as well as by the validation texts. Round 33 (the default before it, the same model
without the encoder, under a minute) is ``--round33 --out FILE``. deepset's *test* split and
``AUDIT14_*`` are never used here.

``--round5 --out FILE`` builds the default of rounds 5 to 10: no whole-sentence text in
other languages, no gloss. The rounds below are round 5 with one change each.

``--round7 --out FILE`` builds round 7's candidate instead (not shipped: it failed the
deepset floor of its pre-registered rule, ``bench/results/assistant_injection_history.md``):
the hand-written attacks of the spent held-out sets join training
(:data:`SPENT_ATTACKS`), the threshold is read on every hand-written hard-benign
prompt the model does not train on (:data:`CALIBRATION_BENIGN`), and the learner
is a linear SVM on IDF-weighted features.

``--round8`` builds round 8's detector: round 5's data, learner and calibration, with the
normalised text's vector from a small pretrained sentence encoder (:mod:`._encoder`)
appended to the features. It failed its rule for replacing round 5 (one hard-benign
condition) and ships beside it as the opt-in ``recall`` detector
(``injection_detector_recall.npz``).

``--round9 --out FILE`` builds round 9's candidate (not shipped: it flagged more fresh
hard-benign prompts than round 5, which its rule forbade): round 5's model blended with the
sentence encoder fine-tuned on the same training texts (:mod:`._finetune`, torch; five
out-of-fold fine-tunes for the calibration and one on everything, about 15 minutes on two
cores). ``--ft-epochs`` / ``--ft-sample`` make a quick, weaker trial build.

``--round10 --out FILE`` builds round 10's candidate (not shipped: one deepset-test attack
short of its rule's floor): round 5 with generated attacks and shopper messages written
wholly in 25 languages (:mod:`._corpus_languages`). It catches 15 of 45 fresh non-English
jailbreaks where round 5 catches 4; a store can load the file
(``SHOPGUARD_ASSISTANT_INJECTION_DETECTOR_FILE``, ``score-prompts --model``).

``--round12 --out FILE`` builds round 12's candidate: round 11 with round 12's additions to
the gloss lexicon (:data:`._gloss.LEXICON_12`: "what you were told", "no longer", "stop",
"set aside").

``--round13 --out FILE`` builds round 13's candidate: round 12 with rules over the gloss
(:func:`._gloss.gloss_rule`): a gloss asking for another customer's data, a refund without a
check, no restrictions, or the hidden setup is flagged whatever the n-grams say.

``--round14 --out FILE`` builds round 14's candidate: round 11 trained on every spent
hand-written set too (:data:`SPENT_SETS`, weighted like deepset's rows, grouped by set).

``--round15 --out FILE`` builds round 15's candidate: round 14 with ``AUDIT9_*`` too
(:data:`SPENT_SETS_15`) and one more operating-point constraint, at most
:data:`HANDWRITTEN_OOF_FPR` of the hand-written hard-benign prompts flagged by their
out-of-fold scores (each set scored by models that never saw it).

``--round16 --out FILE`` builds round 16's candidate: round 15 with ``AUDIT10_*`` too
(:data:`SPENT_SETS_16`), deepset's rows weighted :data:`DEEPSET_WEIGHT_16` and
:data:`HANDWRITTEN_OOF_FPR_16` of the hand-written hard-benign prompts allowed out of fold.

``--round11 --out FILE`` builds round 11's detector, the default of rounds 11 to 16: the gloss
decides the language once per text, and nothing is respelt.

``--round18 --out FILE`` builds round 18's candidate: round 17 with the sentence encoder's
vector (as round 8 added it to round 5).

``--round17 --out FILE`` builds round 17's detector, the default before round 19: no second
opinion.

``--round19 --out FILE`` builds round 19's detector, the default from round 19 to round 33:
round 17 with the second opinion
(:meth:`~shopguard.assistant.detector.PromptInjectionDetector.attach_second`).

Session 15's candidates, none shipped (each failed its rule on a fresh set):
``--round20 --out FILE`` is round 19 with a gloss opinion (:func:`gloss_opinion`;
``--gloss-opinion-on R19 --out FILE`` attaches it to an existing round-19 file instead);
``--round21`` retrains round 19 with generated requests in the 25 languages
(:func:`.corpus.generated_requests`); ``--round22`` adds the narrowed keyword rules (rule set
22, :data:`._rules.RULE_SETS`); ``--round23`` rule set 23 and generated requests for all of
one's own things against everyone's (:func:`.corpus.generated_bulk`); ``--round24`` the
same balanced object by object; ``--round25`` round 19 with rule set 23 and nothing else.

Session 16's candidates: ``--round26 --out FILE`` is round 25 with a second opinion that also
reads the six sets that judged rounds 20 to 25 (:data:`SPENT_SETS_26`); ``--round27 --out
FILE`` is one model and no second opinion: round 19's features with rule set 23, trained on
every spent hand-written set but ``AUDIT14_*`` (:data:`SPENT_SETS_27`, weighted
:data:`HANDWRITTEN_WEIGHT_27`), its threshold read by round 19's primary rule; ``--round28 --out FILE`` is round 27 with
``AUDIT22_*`` too (:data:`SPENT_SETS_28`) and a threshold that also flags at most
:data:`HANDWRITTEN_OOF_FPR` of the hand-written shoppers by their out-of-fold scores;
``--round29 --out FILE`` is round 28 with ``AUDIT23_*`` too (:data:`SPENT_SETS_29`), deepset's
rows weighted as the hand-written ones and the threshold at :data:`HANDWRITTEN_OOF_FPR_16`
(the issue's 2 %) of the hand-written shoppers out of fold; ``--round30 --out FILE`` is
round 29 with ``AUDIT24_*`` too (:data:`SPENT_SETS_30`) and the training reviews weighted as
every other human-written row; ``--round31 --out FILE`` is round 30 with ``AUDIT25_*`` too
(:data:`SPENT_SETS_31`) and deepset's rows weighted :data:`DEEPSET_WEIGHT_31`, four times the
other human-written rows; ``--round32 --out FILE`` is round 31 with ``AUDIT26_*`` too
(:data:`SPENT_SETS_32`) and the generated texts weighted :data:`GENERATED_WEIGHT_32`, so the
human-written rows outweigh them 16 to 1 as in round 19's recipe. ``--round33 --out FILE`` (the
default from round 33's read to round 36's) is round 32 with ``AUDIT27_*`` too
(:data:`SPENT_SETS_33`) and rule set 33, whose homoglyph signal reads the Turkish dotless ı
as a letter. ``--round34 --out FILE`` is round 33 with ``AUDIT28_*`` too
(:data:`SPENT_SETS_34`) and round 9's fine-tuned encoder blended in (:func:`attach_finetuned`),
the hand-written shoppers' 2 % read on the blended out-of-fold scores. ``--round35 --out
FILE`` is round 34 with ``AUDIT29_*`` too (:data:`SPENT_SETS_35`), ``--round36 --out FILE``
round 35 with ``AUDIT30_*`` too (:data:`SPENT_SETS_36`), ``--round37 --out FILE`` round 36
with ``AUDIT31_*`` too (:data:`SPENT_SETS_37`).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from shopguard.assistant import heldout
from shopguard.assistant._finetune import FineTuneConfig, finetune, steps
from shopguard.assistant._gloss import concepts
from shopguard.assistant.corpus import (
    generated_attacks,
    generated_benign,
    generated_bulk,
    generated_requests,
)
from shopguard.assistant.detector import (
    DEFAULT_DETECTOR_PATH,
    RECALL_DETECTOR_PATH,
    PromptInjectionDetector,
    TunedMember,
    concept_vectoriser,
)
from shopguard.assistant.validation import VAL_HARD_BENIGN
from shopguard.core.errors import DataValidationError, ModelError

__all__ = [
    "CALIBRATION_BENIGN",
    "SPENT_ATTACKS",
    "load_deepset",
    "training_groups",
    "training_set",
    "validation_reviews",
]

DEEPSET_WEIGHT = 16.0
#: Hand-written attacks of held-out sets that earlier rounds have read (and so spent for
#: measurement): round 7's candidate trains on them, weighted like deepset's rows.
SPENT_ATTACKS: tuple[str, ...] = heldout.UNSEEN_JAILBREAKS + heldout.AUDIT_JAILBREAKS
HANDWRITTEN_WEIGHT = DEEPSET_WEIGHT
#: Round 14: every hand-written held-out set read and spent by round 13, by name (label 1
#: for the jailbreak sets). ``AUDIT9_*`` judged round 14 and is not among them.
SPENT_SETS: tuple[str, ...] = (
    "HARD_BENIGN",
    "UNSEEN_JAILBREAKS",
    "AUDIT_HARD_BENIGN",
    "AUDIT_JAILBREAKS",
    *(f"AUDIT{k}_{kind}" for k in range(2, 9) for kind in ("HARD_BENIGN", "JAILBREAKS")),
)
#: Round 15: round 14's sets and ``AUDIT9_*``, which judged round 14.
SPENT_SETS_15: tuple[str, ...] = (*SPENT_SETS, "AUDIT9_HARD_BENIGN", "AUDIT9_JAILBREAKS")
#: Round 15's extra operating-point constraint: at most this share of the hand-written
#: hard-benign training prompts flagged by out-of-fold (set-held-out) scores.
HANDWRITTEN_OOF_FPR = 0.01
#: Round 16: round 15's sets and ``AUDIT10_*``; deepset's rows weigh four times as much and
#: the hand-written hard-benign prompts may have 2 % flagged out of fold (chosen on
#: deepset-train out-of-fold recall and the hand-written sets' set-held-out scores).
SPENT_SETS_16: tuple[str, ...] = (*SPENT_SETS_15, "AUDIT10_HARD_BENIGN", "AUDIT10_JAILBREAKS")
DEEPSET_WEIGHT_16 = 4 * DEEPSET_WEIGHT
HANDWRITTEN_OOF_FPR_16 = 0.02
#: Round 19's second opinion: every hand-written set read by round 18 (``AUDIT14_*`` judged
#: round 19 and is not among them).
SPENT_SETS_19: tuple[str, ...] = (
    *SPENT_SETS_16,
    *(f"AUDIT{k}_{kind}" for k in (11, 12, 13) for kind in ("HARD_BENIGN", "JAILBREAKS")),
)
#: Round 26's second opinion: round 19's sets and the six read in session 15 (``AUDIT15_*``
#: to ``AUDIT20_*``, which judged rounds 20 to 25); ``AUDIT14_*`` stays out.
SPENT_SETS_26: tuple[str, ...] = (
    *SPENT_SETS_19,
    *(f"AUDIT{k}_{kind}" for k in range(15, 21) for kind in ("HARD_BENIGN", "JAILBREAKS")),
)
#: Round 27's one model: round 26's sets and ``AUDIT21_*`` (which judged round 26), its
#: hand-written rows weighted sixteen times the usual (chosen with the other knobs by
#: ``bench/assistant_injection_cv.py``); ``AUDIT14_*`` stays out.
SPENT_SETS_27: tuple[str, ...] = (*SPENT_SETS_26, "AUDIT21_HARD_BENIGN", "AUDIT21_JAILBREAKS")
HANDWRITTEN_WEIGHT_27 = 16 * HANDWRITTEN_WEIGHT
#: Round 28: round 27's sets and ``AUDIT22_*`` (which judged round 27); its threshold also
#: holds :data:`HANDWRITTEN_OOF_FPR` of the hand-written shoppers by their out-of-fold scores.
SPENT_SETS_28: tuple[str, ...] = (*SPENT_SETS_27, "AUDIT22_HARD_BENIGN", "AUDIT22_JAILBREAKS")
#: Round 29: round 28's sets and ``AUDIT23_*``; deepset's training rows weigh what the
#: hand-written rows weigh, and the threshold holds :data:`HANDWRITTEN_OOF_FPR_16` (the issue's
#: 2 %) of the hand-written shoppers by their out-of-fold scores.
SPENT_SETS_29: tuple[str, ...] = (*SPENT_SETS_28, "AUDIT23_HARD_BENIGN", "AUDIT23_JAILBREAKS")
#: Round 30: round 29's sets and ``AUDIT24_*``; the training reviews weigh what every other
#: human-written row weighs.
SPENT_SETS_30: tuple[str, ...] = (*SPENT_SETS_29, "AUDIT24_HARD_BENIGN", "AUDIT24_JAILBREAKS")
#: Round 31: round 30's sets and ``AUDIT25_*``; deepset's training rows weigh four times the
#: other human-written rows (as round 16 weighed them four times round 14's).
SPENT_SETS_31: tuple[str, ...] = (*SPENT_SETS_30, "AUDIT25_HARD_BENIGN", "AUDIT25_JAILBREAKS")
DEEPSET_WEIGHT_31 = 4 * HANDWRITTEN_WEIGHT_27
#: Round 32: round 31's sets and ``AUDIT26_*``; the generated texts weigh 16, so the
#: human-written rows outweigh them 16 to 1 as in round 19's recipe.
SPENT_SETS_32: tuple[str, ...] = (*SPENT_SETS_31, "AUDIT26_HARD_BENIGN", "AUDIT26_JAILBREAKS")
GENERATED_WEIGHT_32 = HANDWRITTEN_WEIGHT_27 / HANDWRITTEN_WEIGHT
#: Round 33: round 32's sets and ``AUDIT27_*`` (which judged round 32), with rule set 33.
SPENT_SETS_33: tuple[str, ...] = (*SPENT_SETS_32, "AUDIT27_HARD_BENIGN", "AUDIT27_JAILBREAKS")
#: Round 34: round 33's sets and ``AUDIT28_*`` (which judged round 33), with round 9's
#: fine-tuned encoder blended in.
SPENT_SETS_34: tuple[str, ...] = (*SPENT_SETS_33, "AUDIT28_HARD_BENIGN", "AUDIT28_JAILBREAKS")
#: Round 35: round 34's sets and ``AUDIT29_*`` (which judged round 34), the same member.
SPENT_SETS_35: tuple[str, ...] = (*SPENT_SETS_34, "AUDIT29_HARD_BENIGN", "AUDIT29_JAILBREAKS")
#: Round 36: round 35's sets and ``AUDIT30_*`` (which judged round 35), the same member.
SPENT_SETS_36: tuple[str, ...] = (*SPENT_SETS_35, "AUDIT30_HARD_BENIGN", "AUDIT30_JAILBREAKS")
#: Round 37: round 36's sets and ``AUDIT31_*`` (which judged round 36), the same member.
SPENT_SETS_37: tuple[str, ...] = (*SPENT_SETS_36, "AUDIT31_HARD_BENIGN", "AUDIT31_JAILBREAKS")
#: Rounds 27 to 37, one model each: the weights of deepset's, the hand-written, the review
#: and the generated training rows (:func:`_weights`' order).
ONE_MODEL_WEIGHTS: dict[int, tuple[float, float, float, float]] = {
    27: (DEEPSET_WEIGHT, HANDWRITTEN_WEIGHT_27, 1.0, 1.0),
    28: (DEEPSET_WEIGHT, HANDWRITTEN_WEIGHT_27, 1.0, 1.0),
    29: (HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, 1.0, 1.0),
    30: (HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, 1.0),
    31: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, 1.0),
    32: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
    33: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
    34: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
    35: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
    36: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
    37: (DEEPSET_WEIGHT_31, HANDWRITTEN_WEIGHT_27, HANDWRITTEN_WEIGHT_27, GENERATED_WEIGHT_32),
}
#: The rounds that blend round 9's fine-tuned encoder into their model (the default too).
TUNED_ROUNDS: tuple[int, ...] = (9, 34, 35, 36, 37)
#: Every hand-written hard-benign prompt the model does not train on: the validation
#: prompts (which steered the generator's benign families in round 5) and the spent
#: held-out prompts (which steered nothing in the generator). Round 5 reads the threshold
#: on the first alone; round 7's candidate on all of them.
CALIBRATION_BENIGN: tuple[str, ...] = (
    VAL_HARD_BENIGN + heldout.HARD_BENIGN + heldout.AUDIT_HARD_BENIGN
)
N_ATTACKS = 4800
N_BENIGN = 4800
#: Round 21: generated requests in the 25 languages, half shoppers', half attacks' goals.
N_REQUESTS = 800
#: Round 23: generated requests for all of one's own things or all of everyone's.
N_BULK = 600
#: The operating point: at most 1 % of the hand-written calibration prompts and 0.5 % of the
#: validation reviews are flagged (the bar on held-out hard-benign prompts is 2 %).
VAL_FPR = 0.01
VAL_REVIEW_FPR = 0.005
#: ... and at most 2 % of the grouped out-of-fold benign training texts (a guard).
OOF_GUARD_FPR = 0.02
SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
#: Round 9's fine-tuning, chosen on grouped cross-validation of the training texts
#: (``bench/results/assistant_learners.md``, section (h)).
ROUND9_FINETUNE = FineTuneConfig(epochs=5, lr=5e-5)


def load_deepset(data_dir: Path, split: str) -> tuple[list[str], list[int]]:
    """deepset/prompt-injections ``split`` (``train`` or ``test``) as texts and labels."""
    path = data_dir / "prompt_injection_deepset" / f"{split}.jsonl"
    if not path.is_file():
        raise DataValidationError(f"{path} not found")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [str(r["text"]) for r in rows], [int(r["label"]) for r in rows]


def training_set(
    data_dir: Path,
    *,
    random_state: int = 0,
    spent_attacks: bool = False,
    languages: bool = False,
) -> tuple[list[str], list[int]]:
    """Every training text and label (1 = injection)."""
    texts, labels, _ = training_groups(
        data_dir, random_state=random_state, spent_attacks=spent_attacks, languages=languages
    )
    return texts, labels


def training_groups(
    data_dir: Path,
    *,
    random_state: int = 0,
    spent_attacks: bool = False,
    languages: bool = False,
    spent_sets: Sequence[str] = (),
    requests: bool = False,
    bulk: int = 0,
) -> tuple[list[str], list[int], list[str]]:
    """Training texts, labels and groups: a generated text's template, else its own row.
    ``spent_attacks`` adds :data:`SPENT_ATTACKS` (round 7's candidate), ``spent_sets`` the
    named :mod:`.heldout` sets (rounds 14 and 15); ``languages`` the
    generator's whole-sentence texts in other languages (round 10's), ``requests`` round
    21's requests in them (:func:`.corpus.generated_requests`), ``bulk`` (23 or 24) that round's
    requests for all of one's own things or everyone's (:func:`.corpus.generated_bulk`)."""
    texts, labels = load_deepset(data_dir, "train")
    groups = [f"deepset:{i}" for i in range(len(texts))]
    for item in [
        *generated_attacks(N_ATTACKS, random_state=random_state, languages=languages),
        *generated_benign(N_BENIGN, random_state=random_state + 1, languages=languages),
    ]:
        texts.append(item.text)
        labels.append(item.label)
        groups.append(item.template)
    for item in [
        *(generated_requests(N_REQUESTS, random_state=random_state + 21) if requests else []),
        *(generated_bulk(N_BULK, random_state=random_state + 23, level=bulk) if bulk else []),
    ]:
        texts.append(item.text)
        labels.append(item.label)
        groups.append(item.template)
    if spent_sets:
        # grouped by set: cross-validation never vouches for a set with its own rows
        for name in spent_sets:
            rows = getattr(heldout, name)
            texts.extend(rows)
            labels.extend([int(name.endswith("JAILBREAKS"))] * len(rows))
            groups.extend([f"handwritten:{name}"] * len(rows))
    if spent_attacks:
        texts.extend(SPENT_ATTACKS)
        labels.extend([1] * len(SPENT_ATTACKS))
        groups.extend(f"handwritten:{i}" for i in range(len(SPENT_ATTACKS)))
    reviews = pd.read_csv(data_dir / "fake_reviews_salminen" / "reviews.csv")
    sample = reviews.sample(n=min(1500, len(reviews)), random_state=random_state)["text"]
    texts.extend(str(t) for t in sample)
    labels.extend([0] * len(sample))
    groups.extend(f"doc:{i}" for i in range(len(sample)))
    # A generator repeats short templates verbatim; duplicates only reweight a text and crowd
    # the benign tail the threshold used to be read from.
    seen: set[str] = set()
    keep = []
    for i, t in enumerate(texts):
        if t not in seen:
            seen.add(t)
            keep.append(i)
    return [texts[i] for i in keep], [labels[i] for i in keep], [groups[i] for i in keep]


def validation_reviews(data_dir: Path, n: int = 1000) -> list[str]:
    """Reviews in neither the training sample (``random_state=0``) nor the benchmark's
    held-out sample (``random_state=1`` of the rest): the operating point is read on these."""
    df = pd.read_csv(data_dir / "fake_reviews_salminen" / "reviews.csv")
    rest = df.drop(index=df.sample(n=min(1500, len(df)), random_state=0).index)
    rest = rest.drop(index=rest.sample(n=min(1500, len(rest)), random_state=1).index)
    return [str(t) for t in rest.sample(n=min(n, len(rest)), random_state=2)["text"]]


def attach_finetuned(
    det: PromptInjectionDetector,
    texts: Sequence[str],
    labels: Sequence[int],
    weights: Any,
    config: FineTuneConfig = ROUND9_FINETUNE,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> PromptInjectionDetector:
    """Round 9: fine-tune the sentence encoder on the texts ``det`` was just fitted on, once
    per fold of its calibration (out-of-fold head logits) and once on everything, and blend
    it into ``det`` (:meth:`PromptInjectionDetector.attach_tuned`). ``sample`` fine-tunes
    each time on at most that many texts (a quick trial build)."""
    from rich.progress import Progress

    from shopguard.assistant._encoder import shared_encoder

    enc = shared_encoder()
    # the text the detector serves the member (its own views: round 34's gloss and respelling)
    norm = [det._prepare(t)[0] for t in texts]
    y, w = np.asarray(labels), np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)

    def rows(idx: Any) -> Any:
        idx = np.asarray(idx)
        return idx if sample is None or len(idx) <= sample else rng.choice(idx, sample, False)

    fits = [rows(tr) for tr, _ in det.folds_] + [rows(np.arange(len(y)))]
    oof = np.zeros(len(y))
    with Progress(transient=True) as bar:
        task = bar.add_task(
            "fine-tuning the encoder", total=sum(steps(len(r), config) for r in fits)
        )

        def tick(_done: int, _total: int) -> None:
            bar.advance(task)

        for k, tr in enumerate(fits):
            ft = finetune(enc, [norm[i] for i in tr], y[tr], w[tr], config, progress=tick)
            member = TunedMember(ft.weights, ft.head_w, ft.head_b)
            if k < len(det.folds_):
                te = det.folds_[k][1]
                oof[te] = member.logits([norm[i] for i in te])
    return det.attach_tuned(member, oof, VAL_HARD_BENIGN)


def _weights(
    groups: Sequence[str],
    deepset_weight: float,
    handwritten_weight: float | None = None,
    review_weight: float = 1.0,
    generated_weight: float = 1.0,
) -> np.ndarray:
    """Each training text's weight: deepset's rows and the hand-written sets' count more
    (the generated corpus outnumbers them 8 to 1, and they are the only human-written
    texts; grouped cross-validation chose the weight). ``handwritten_weight``: the
    hand-written rows' (default :data:`HANDWRITTEN_WEIGHT`); ``review_weight``: the
    training reviews' (round 30: as every other human-written row); ``generated_weight``:
    the generated texts' (round 32: back at round 19's ratio to the human-written rows)."""
    return np.select(
        [
            np.array([g.startswith("deepset:") for g in groups]),
            np.array([g.startswith("handwritten:") for g in groups]),
            np.array([g.startswith("doc:") for g in groups]),
        ],
        [
            deepset_weight,
            HANDWRITTEN_WEIGHT if handwritten_weight is None else handwritten_weight,
            review_weight,
        ],
        generated_weight,
    )


def _handwritten_shoppers(groups: Sequence[str], labels: Sequence[int]) -> np.ndarray:
    """A mask of the hand-written hard-benign training texts (rounds 15, 16 and 19)."""
    return np.array(
        [g.startswith("handwritten:") and y == 0 for g, y in zip(groups, labels, strict=True)]
    )


def second_opinion(
    data_dir: Path,
    *,
    seed: int = 0,
    target_fpr: float = 0.01,
    requests: bool = False,
    rule_set: int = 11,
    bulk: int = 0,
    spent_sets: Sequence[str] = SPENT_SETS_19,
) -> PromptInjectionDetector:
    """Round 19's second opinion: round 17's features and recipe, trained on every spent
    hand-written set too (one group per set, weighted like deepset's rows), its threshold
    the lowest that flags at most 1 % of the validation prompts, 0.5 % of the validation
    reviews, 2 % of the out-of-fold benign training texts and 1 % of the hand-written
    shoppers by their set-held-out scores (round 15's operating point). ``requests``: round
    21's generated requests too; ``rule_set``: round 22's or 23's keyword rules; ``bulk``:
    round 23's or 24's generated requests for all of one's own things or everyone's;
    ``spent_sets``: the hand-written sets it reads (round 26: :data:`SPENT_SETS_26`)."""
    texts, labels, groups = training_groups(
        data_dir,
        random_state=seed,
        spent_sets=spent_sets,
        languages=True,
        requests=requests,
        bulk=bulk,
    )
    weights = _weights(groups, DEEPSET_WEIGHT)
    det = PromptInjectionDetector(
        gloss=True,
        gloss_by_sentence=True,
        respell=True,
        rule_set=rule_set,
        target_fpr=target_fpr,
        random_state=seed,
    ).fit(texts, labels, sample_weight=weights, groups=groups)
    return det.calibrate_on(
        [(VAL_HARD_BENIGN, VAL_FPR), (validation_reviews(data_dir), VAL_REVIEW_FPR)],
        oof_max_fpr=OOF_GUARD_FPR,
        oof_subsets=[(_handwritten_shoppers(groups, labels), HANDWRITTEN_OOF_FPR)],
    )


#: Round 20's gloss opinion: the inverse regularisation of its logistic model (fixed before
#: its first build; the concept strings have a few hundred distinct words).
GLOSS_OPINION_C = 4.0


def gloss_opinion(data_dir: Path, *, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Round 20's gloss opinion: a logistic model over the concept words of round 19's
    second-opinion texts (:func:`._gloss.concepts`: a text's gloss, else its English words
    that are the gloss's meanings). Returns its weights, intercept and threshold: the
    lowest that, among texts *with a gloss* (the only ones it scores), flags at most 1 % of
    the validation prompts, 0.5 % of the validation reviews, 2 % of the out-of-fold benign
    training texts and 1 % of the hand-written shoppers by their set-held-out scores."""
    texts, labels, groups = training_groups(
        data_dir, random_state=seed, spent_sets=SPENT_SETS_19, languages=True
    )
    y = np.asarray(labels)
    weights = _weights(groups, DEEPSET_WEIGHT)
    found = [concepts(t, by_sentence=True) for t in texts]
    X = concept_vectoriser().transform([c for c, _ in found])
    glossed = np.array([g for _, g in found])

    def model() -> LogisticRegression:
        return LogisticRegression(
            C=GLOSS_OPINION_C, solver="liblinear", max_iter=2000, class_weight="balanced"
        )

    oof = np.zeros(len(y))
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for tr, te in folds.split(X, y, groups):
        oof[te] = model().fit(X[tr], y[tr], sample_weight=weights[tr]).decision_function(X[te])
    final = model().fit(X, y, sample_weight=weights)

    def scored(rows: Sequence[str]) -> np.ndarray:
        mine = [concepts(t, by_sentence=True) for t in rows]
        kept = [c for c, g in mine if g]
        if not kept:
            return np.zeros(0)
        return np.asarray(final.decision_function(concept_vectoriser().transform(kept)))

    constraints = [
        (oof[glossed & (y == 0)], OOF_GUARD_FPR),
        (oof[glossed & _handwritten_shoppers(groups, labels)], HANDWRITTEN_OOF_FPR),
        (scored(VAL_HARD_BENIGN), VAL_FPR),
        (scored(validation_reviews(data_dir)), VAL_REVIEW_FPR),
    ]
    cut = -np.inf
    for scores, max_fpr in constraints:
        if len(scores):
            ranked = np.sort(scores)[::-1]
            k = math.floor(max_fpr * len(ranked))
            if k < len(ranked):
                cut = max(cut, float(np.nextafter(ranked[k], np.inf)))
    threshold = float(1.0 / (1.0 + math.exp(-cut))) if np.isfinite(cut) else 0.5
    return final.coef_[0].astype(np.float32), float(final.intercept_[0]), threshold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: the shipped file of the round built"
    )
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--oof-threshold",
        action="store_true",
        help="keep the out-of-fold threshold instead of reading it on the validation set",
    )
    parser.add_argument(
        "--round5",
        action="store_true",
        help="build round 5's detector (the default until round 11): no text in other "
        "languages beyond the older templates, no gloss",
    )
    parser.add_argument(
        "--round7",
        action="store_true",
        help="build round 7's (not shipped) candidate: spent attacks, 360 calibration "
        "prompts, linear SVM",
    )
    parser.add_argument(
        "--round8",
        action="store_true",
        help="build round 8's candidate: round 5 plus the sentence encoder's vector",
    )
    parser.add_argument(
        "--round9",
        action="store_true",
        help="build round 9's candidate: round 5 blended with the sentence encoder "
        "fine-tuned on the training texts (torch; about 15 minutes on two cores)",
    )
    parser.add_argument(
        "--round10",
        action="store_true",
        help="build round 10's candidate: round 5 with generated attacks and shopper messages "
        "written wholly in about 25 languages",
    )
    parser.add_argument(
        "--round11",
        action="store_true",
        help="build round 11's detector (the default until round 17): round 10's data with an "
        "English gloss of the words in other languages as one more view",
    )
    parser.add_argument(
        "--round12",
        action="store_true",
        help="build round 12's candidate: round 11 with round 12's additions to the gloss lexicon",
    )
    parser.add_argument(
        "--round13",
        action="store_true",
        help="build round 13's candidate: round 12 with rules over the gloss (another "
        "customer's data, a refund without a check, no restrictions, the hidden setup)",
    )
    parser.add_argument(
        "--round14",
        action="store_true",
        help="build round 14's candidate: round 11 trained on the spent hand-written sets too",
    )
    parser.add_argument(
        "--round15",
        action="store_true",
        help="build round 15's candidate: round 14 with AUDIT9 too and a threshold the "
        "hand-written hard-benign prompts hold (their set-held-out scores)",
    )
    parser.add_argument(
        "--round16",
        action="store_true",
        help="build round 16's candidate: round 15 with AUDIT10 too, deepset's rows weighed "
        "up and 2 %% of the hand-written hard-benign prompts allowed out of fold",
    )
    parser.add_argument(
        "--round17",
        action="store_true",
        help="build round 17's detector (the default until round 19): round 11 with the gloss "
        "read sentence by sentence and misspelt injection words respelt",
    )
    parser.add_argument(
        "--round18",
        action="store_true",
        help="build round 18's candidate: round 17 with the sentence encoder's vector",
    )
    parser.add_argument(
        "--round19",
        action="store_true",
        help="build round 19's detector (the default until round 33): round 17 "
        "with a second opinion trained on every spent hand-written set too",
    )
    parser.add_argument(
        "--round20",
        action="store_true",
        help="build round 20's candidate: round 19 with an opinion on the gloss alone for "
        "texts in other languages",
    )
    parser.add_argument(
        "--round21",
        action="store_true",
        help="build round 21's candidate: round 19 retrained with generated requests in the "
        "25 languages (shoppers asking to be shown their orders or the rules; goals alone)",
    )
    parser.add_argument(
        "--round22",
        action="store_true",
        help="build round 22's candidate: round 21 with the keyword rules 'reveal' and "
        "'other_customer' narrowed (a product's instructions, the shopper's own orders)",
    )
    parser.add_argument(
        "--round23",
        action="store_true",
        help="build round 23's candidate: round 22 with 'reveal' firing when the assistant is "
        "named after the instructions too, and generated requests for all of one's own things "
        "against all of everyone's",
    )
    parser.add_argument(
        "--round24",
        action="store_true",
        help="build round 24's candidate: round 23 with its generated requests balanced object "
        "by object (gift cards and saved cards mine too, orders everyone's too)",
    )
    parser.add_argument(
        "--round25",
        action="store_true",
        help="build round 25's candidate: round 19 with rule set 23 (the narrowed keyword "
        "rules) and nothing else",
    )
    parser.add_argument(
        "--round26",
        action="store_true",
        help="build round 26's candidate: round 25 with a second opinion that trains on the "
        "six hand-written sets read in session 15 (AUDIT15 to AUDIT20) too",
    )
    parser.add_argument(
        "--round27",
        action="store_true",
        help="build round 27's candidate: one model (no second opinion) with rule set 23, "
        "trained on every spent hand-written set but AUDIT14, those rows weighted 256",
    )
    parser.add_argument(
        "--round28",
        action="store_true",
        help="build round 28's candidate: round 27 with AUDIT22 too and a threshold that "
        "flags at most 1 %% of the hand-written shoppers by their out-of-fold scores",
    )
    parser.add_argument(
        "--round29",
        action="store_true",
        help="build round 29's candidate: round 28 with AUDIT23 too, deepset's rows weighted "
        "as the hand-written ones and 2 %% of the hand-written shoppers allowed out of fold",
    )
    parser.add_argument(
        "--round30",
        action="store_true",
        help="build round 30's candidate: round 29 with AUDIT24 too and the training reviews "
        "weighted as every other human-written row",
    )
    parser.add_argument(
        "--round31",
        action="store_true",
        help="build round 31's candidate: round 30 with AUDIT25 too and deepset's rows "
        "weighted four times the other human-written rows",
    )
    parser.add_argument(
        "--round32",
        action="store_true",
        help="build round 32's candidate: round 31 with AUDIT26 too and the generated texts "
        "weighted 16 (round 19's ratio to the human-written rows)",
    )
    parser.add_argument(
        "--round33",
        action="store_true",
        help="build round 33's detector (the default before round 36): round 32 with AUDIT27 "
        "too and rule set 33 (the Turkish dotless i is a letter, not a homoglyph)",
    )
    parser.add_argument(
        "--round34",
        action="store_true",
        help="build round 34's candidate: round 33 with AUDIT28 too and round 9's fine-tuned "
        "encoder blended in (about 30 minutes on two cores)",
    )
    parser.add_argument(
        "--round35",
        action="store_true",
        help="build round 35's candidate: round 34 with AUDIT29 too (about 30 minutes on two "
        "cores)",
    )
    parser.add_argument(
        "--round36",
        action="store_true",
        help="build round 36's detector (the default, so the flag changes nothing): round 35 "
        "with AUDIT30 too (about 27 minutes on two cores)",
    )
    parser.add_argument(
        "--round37",
        action="store_true",
        help="build round 37's candidate: round 36 with AUDIT31 too (about 27 minutes on two "
        "cores)",
    )
    parser.add_argument(
        "--gloss-opinion-on",
        type=Path,
        default=None,
        metavar="FILE",
        help="attach round 20's gloss opinion to the round-19 detector in FILE instead of "
        "retraining it (seconds, and round 19 kept to the last digit)",
    )
    parser.add_argument(
        "--ft-epochs", type=int, default=None, help="round 9: fine-tuning epochs (a trial build)"
    )
    parser.add_argument(
        "--ft-sample",
        type=int,
        default=None,
        help="round 9: fine-tune on at most this many texts each time (a trial build)",
    )
    args = parser.parse_args(argv)
    rounds = (args.round5, args.round7, args.round8, args.round9, args.round10, args.round11)
    later = (args.round12, args.round13, args.round14, args.round15, args.round16)
    newer = tuple(getattr(args, f"round{k}") for k in range(17, 38))
    if sum((*rounds, *later, *newer)) > 1:
        parser.error("--round5 to --round37 are different detectors; pick one")
    if not any((*rounds, *later, *newer)) and args.gloss_opinion_on is None:
        # no round named: the default recipe, round 36
        args.round36 = True
        newer = tuple(getattr(args, f"round{k}") for k in range(17, 38))
    tuned = any(getattr(args, f"round{k}") for k in TUNED_ROUNDS)
    requests = args.round21 or args.round22 or args.round23 or args.round24
    bulk = 24 if args.round24 else 23 if args.round23 else 0
    rule_set = (
        33
        if any(getattr(args, f"round{k}") for k in range(33, 38))
        else 23
        if any(getattr(args, f"round{k}") for k in range(23, 33))
        else 22
        if args.round22
        else 11
    )
    # round 17 (round 11 with two more views) is the shipped default; rounds 11 to 17 have
    # text in other languages and the gloss, rounds 12 to 16 are round 11 with changes,
    # rounds 7 to 10 round 5 with one change each
    round11 = not any(rounds[:-1])
    round17 = round11 and not any((args.round11, *later))  # rounds 18 and 19 too
    lexicon12 = args.round12 or args.round13
    # rounds 14 to 16 train on the spent hand-written sets; 15 and 16 let them hold the
    # threshold by their out-of-fold scores too
    # rounds 27 to 37 are one model trained on every spent set but AUDIT14, 28 with round
    # 15's constraint, 29 to 37 with round 16's (34 to 37 with a fine-tuned encoder blended in)
    handwritten = next(
        (k for k in (14, 15, 16, *range(27, 38)) if getattr(args, f"round{k}")),
        None,
    )
    spent_sets = {
        14: SPENT_SETS,
        15: SPENT_SETS_15,
        16: SPENT_SETS_16,
        27: SPENT_SETS_27,
        28: SPENT_SETS_28,
        29: SPENT_SETS_29,
        30: SPENT_SETS_30,
        31: SPENT_SETS_31,
        32: SPENT_SETS_32,
        33: SPENT_SETS_33,
        34: SPENT_SETS_34,
        35: SPENT_SETS_35,
        36: SPENT_SETS_36,
        37: SPENT_SETS_37,
    }
    oof_share = {
        15: HANDWRITTEN_OOF_FPR,
        16: HANDWRITTEN_OOF_FPR_16,
        28: HANDWRITTEN_OOF_FPR,
        29: HANDWRITTEN_OOF_FPR_16,
        30: HANDWRITTEN_OOF_FPR_16,
        31: HANDWRITTEN_OOF_FPR_16,
        32: HANDWRITTEN_OOF_FPR_16,
        33: HANDWRITTEN_OOF_FPR_16,
        34: HANDWRITTEN_OOF_FPR_16,
        35: HANDWRITTEN_OOF_FPR_16,
        36: HANDWRITTEN_OOF_FPR_16,
        37: HANDWRITTEN_OOF_FPR_16,
    }
    one_model = handwritten in ONE_MODEL_WEIGHTS
    if args.gloss_opinion_on is not None:
        if args.out is None or any((*rounds, *later, *newer)):
            parser.error("--gloss-opinion-on goes with --out and no other round")
        try:
            base = PromptInjectionDetector.load(args.gloss_opinion_on)
        except ModelError as exc:
            parser.error(str(exc))
        if not (base.gloss and base.gloss_by_sentence) or base.gloss_opinion_ is not None:
            parser.error("--gloss-opinion-on needs a round-19 detector (gloss read by sentence)")
        base.attach_gloss_opinion(*gloss_opinion(args.data, seed=args.seed)).save(args.out)
        print(f"gloss opinion attached -> {args.out}")
        return 0
    if (args.ft_epochs is not None or args.ft_sample is not None) and not tuned:
        parser.error("--ft-epochs and --ft-sample go with --round9 or --round34 to --round37")
    if (args.ft_epochs is not None and args.ft_epochs < 1) or (
        args.ft_sample is not None and args.ft_sample < 2
    ):
        parser.error("--ft-epochs must be at least 1 and --ft-sample at least 2")
    if args.out is None:
        # only round 8 (`recall`) and round 36 (the default) are shipped files
        if any((*rounds, *later, *newer)) and not (args.round8 or args.round36):
            parser.error("this round is not shipped: name the file with --out")
        args.out = RECALL_DETECTOR_PATH if args.round8 else DEFAULT_DETECTOR_PATH
    texts, labels, groups = training_groups(
        args.data,
        random_state=args.seed,
        spent_attacks=args.round7,
        spent_sets=spent_sets.get(handwritten, ()) if handwritten else (),
        languages=args.round10 or round11,
        requests=requests,
        bulk=bulk,
    )
    weights = (
        _weights(groups, *ONE_MODEL_WEIGHTS[handwritten])
        if handwritten in ONE_MODEL_WEIGHTS
        else _weights(groups, DEEPSET_WEIGHT_16 if args.round16 else DEEPSET_WEIGHT)
    )
    det = PromptInjectionDetector(
        learner="svm" if args.round7 else "logistic",
        C=1.0 if args.round7 else 32.0,
        idf=args.round7,
        encoder=args.round8 or args.round18,
        gloss=round11,
        lexicon=12 if lexicon12 else 11,
        gloss_rules=args.round13,
        gloss_by_sentence=round17,
        respell=round17,
        rule_set=rule_set,
        target_fpr=args.target_fpr,
        random_state=args.seed,
    ).fit(texts, labels, sample_weight=weights, groups=groups)
    if tuned:
        config = ROUND9_FINETUNE
        if args.ft_epochs is not None:
            config = FineTuneConfig(epochs=args.ft_epochs, lr=config.lr, batch=config.batch)
        attach_finetuned(det, texts, labels, weights, config, sample=args.ft_sample, seed=args.seed)
    oof_thr = det.threshold_
    calibration = CALIBRATION_BENIGN if args.round7 else VAL_HARD_BENIGN
    if not args.oof_threshold:
        det.calibrate_on(
            [(calibration, VAL_FPR), (validation_reviews(args.data), VAL_REVIEW_FPR)],
            oof_max_fpr=OOF_GUARD_FPR,
            oof_subsets=[(_handwritten_shoppers(groups, labels), oof_share[handwritten])]
            if handwritten in oof_share
            else (),
        )
    # round 19 and the rounds built on it; rounds 27 to 37 (36 is the default) are one model
    if round17 and not (args.round17 or args.round18 or one_model):
        det.attach_second(
            second_opinion(
                args.data,
                seed=args.seed,
                target_fpr=args.target_fpr,
                requests=requests,
                rule_set=rule_set,
                bulk=bulk,
                spent_sets=SPENT_SETS_26 if args.round26 else SPENT_SETS_19,
            )
        )
    if args.round20:
        det.attach_gloss_opinion(*gloss_opinion(args.data, seed=args.seed))
    det.save(args.out)
    y = np.asarray(labels)
    print(
        f"trained on {len(y)} texts ({int(y.sum())} injections); threshold {det.threshold_:.4f} "
        f"({det.calibration_}; out-of-fold {args.target_fpr:.0%} would be {oof_thr:.4f}); "
        f"out-of-fold FPR {det.oof_fpr_:.4f}, TPR {det.oof_tpr_:.4f} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
