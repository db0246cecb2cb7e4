"""PII detection in text: shopguard vs Microsoft Presidio on presidio-research's synthetic set.

Run: ``python bench/pii.py`` (single process). Prints a markdown table; the
same is in ``bench/results/pii.md``.

* Data: ``../shared/data/pii_presidio_synth``, split by ``template_id``
  (``split_by_template(test_fraction=0.3, random_state=0)``); the shipped
  tagger was trained on the other templates only, so every test sentence comes
  from a template never seen in training.
* Entity mapping and out-of-scope handling: see
  ``shopguard.privacy.pii.presidio_synth`` (its docstring). Presidio's output
  is mapped the same way: LOCATION/ADDRESS -> POSTAL_ADDRESS, DATE_TIME ->
  DATE_OF_BIRTH only in texts that mention a birth, US_PASSPORT -> PASSPORT;
  its other types (URL, US_DRIVER_LICENSE, ...) are dropped.
* Scoring is token-level, as presidio-research's evaluator: a token is a word
  or symbol; its gold label is the type of the span covering it; its predicted
  label the type of the predicted entity covering it. Tokens inside
  out-of-scope gold spans are skipped. Precision, recall and F2 (beta = 2).
* Speed: texts/s of ``detect`` over the test texts, best of 3 passes, one process.
* Optional third column: ``PII_BENCH_SPACY_MODEL=<dir of a spaCy en_core_web_sm model>``
  adds Presidio with that NER model (none can be downloaded here; see the results file).
* False positives: share of entity-free review sentences (fake_reviews_salminen
  *test* split, sentences with no digit, ``@`` or URL; the flagged ones were
  read by hand) on which a system reports any entity.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shopguard.privacy.pii import PiiDetector, PiiType  # noqa: E402
from shopguard.privacy.pii.presidio_synth import (  # noqa: E402
    gold_spans,
    load_records,
    split_by_template,
)
from shopguard.privacy.pii.train import DEFAULT_DATA_DIR, PRESIDIO_FILE, review_texts  # noqa: E402

_TOKEN = re.compile(r"\w+|[^\w\s]")
_BIRTH = re.compile(r"(?i)\b(?:born|birth|dob|birthday)\b")
TYPES = [
    PiiType.PERSON,
    PiiType.POSTAL_ADDRESS,
    PiiType.EMAIL,
    PiiType.PHONE,
    PiiType.CREDIT_CARD,
    PiiType.IBAN,
    PiiType.IP_ADDRESS,
    PiiType.US_SSN,
    PiiType.DATE_OF_BIRTH,
]
Spans = list[tuple[str, int, int]]


def presidio_system(spacy_model: str | None = None) -> Callable[[str], Spans] | None:
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError:
        return None

    class BlankSpacy(SpacyNlpEngine):  # type: ignore[misc]
        """spaCy tokenizer only: no English model can be downloaded here, so no NER."""

        def load(self) -> None:
            # a model directory is loaded as data (config + weights); its package code never runs
            self.nlp = {"en": spacy.load(spacy_model) if spacy_model else spacy.blank("en")}

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    engine = AnalyzerEngine(nlp_engine=BlankSpacy(), supported_languages=["en"])
    mapping = {
        "PERSON": "PERSON",
        "EMAIL_ADDRESS": "EMAIL",
        "PHONE_NUMBER": "PHONE",
        "CREDIT_CARD": "CREDIT_CARD",
        "IBAN_CODE": "IBAN",
        "IP_ADDRESS": "IP_ADDRESS",
        "US_SSN": "US_SSN",
        "LOCATION": "POSTAL_ADDRESS",
        "US_PASSPORT": "PASSPORT",
    }

    def run(text: str) -> Spans:
        out = []
        for r in engine.analyze(text, language="en"):
            t = mapping.get(r.entity_type)
            if r.entity_type == "DATE_TIME" and _BIRTH.search(text):
                t = "DATE_OF_BIRTH"
            if t is not None:
                out.append((t, r.start, r.end))
        return out

    return run


def shopguard_system() -> Callable[[str], Spans]:
    det = PiiDetector()

    def run(text: str) -> Spans:
        return [(e.type.value, e.start, e.end) for e in det.detect(text)]

    return run


def score(
    texts: Sequence[str], gold: Sequence[list], preds: Sequence[Spans]
) -> dict[str, Counter[str]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for text, g, p in zip(texts, gold, preds, strict=True):
        for m in _TOKEN.finditer(text):
            a, b = m.span()
            gl = [s.type for s in g if s.start < b and a < s.end]
            if gl and gl[0] is None:
                continue  # out of scope
            gt = gl[0].value if gl else None
            pl = [t for t, s, e in p if s < b and a < e]
            pt = pl[0] if pl else None
            if gt is not None and pt == gt:
                tp[gt] += 1
            else:
                if pt is not None:
                    fp[pt] += 1
                if gt is not None:
                    fn[gt] += 1
    return {"tp": tp, "fp": fp, "fn": fn}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f2 = 5 * p * r / (4 * p + r) if p + r and p == p and r == r else float("nan")
    return p, r, f2


def timed(system: Callable[[str], Spans], texts: Sequence[str]) -> tuple[list[Spans], float]:
    best = float("inf")
    preds: list[Spans] = []
    for _ in range(3):
        t0 = time.perf_counter()
        preds = [system(t) for t in texts]
        best = min(best, time.perf_counter() - t0)
    return preds, len(texts) / best


# Read by hand: the first 1,000 candidate sentences that name a person (authors,
# actors, characters) -- found by reading every sentence any system flagged.
# They are removed from the entity-free set; names nobody flagged stay in it,
# which can only make the false-positive rate look worse.
HAND_CHECKED_PERSONS = re.compile(
    r"\b(?:Lane Hart|Patton|Coppola|George C|Scott|Zac|Rory|Macomber|Jo Marie|Huxley|Nimoy|John|"
    r"Shaun|Randi Fang|Borg|Austen|James|Elliot|Knightley|Patterson|Carey|Dean Banks|DEAN BANKS|"
    r"Van Dyke|Tyler Moore|Heath|Niall|Shirleen Davies|Nikki|Libby|Jax|Larsen|Deacon|Johnny|"
    r"juliette|Leonardo|Charlie Harris|Nan Boyce|Sarah Alt|Koontz|Rafferty|Holly|Mancini|Seraphina|"
    r"Olivia|Fang|Ryker|Allie Brosh)\b"
)


def benign_sentences(data_dir: Path, n: int = 1000) -> tuple[list[str], int]:
    """Entity-free review sentences, and how many the hand check removed."""
    out = []
    for r in review_texts(data_dir, "test"):
        for s in re.split(r"(?<=[.!?])\s+", r):
            if 20 <= len(s) <= 300 and not re.search(r"\d|@|https?:|www\.", s):
                out.append(s)
    out = out[:n]
    kept = [s for s in out if not HAND_CHECKED_PERSONS.search(s)]
    return kept, len(out) - len(kept)


def main() -> int:
    data_dir = DEFAULT_DATA_DIR.resolve()
    _, test = split_by_template(load_records(data_dir / PRESIDIO_FILE), random_state=0)
    texts = [r.text for r in test]
    gold = [gold_spans(r) for r in test]
    benign, n_removed = benign_sentences(data_dir)
    systems: dict[str, Callable[[str], Spans]] = {"shopguard": shopguard_system()}
    pres = presidio_system()
    if pres is not None:
        systems["presidio (patterns, no NER)"] = pres
    model_dir = os.environ.get("PII_BENCH_SPACY_MODEL")
    if model_dir:
        pres_sm = presidio_system(model_dir)
        if pres_sm is not None:
            systems["presidio + spaCy sm"] = pres_sm
    results = {}
    for name, sysf in systems.items():
        sysf(texts[0])  # warm up (model load)
        preds, tps = timed(sysf, texts)
        c = score(texts, gold, preds)
        flagged = [s for s in benign if sysf(s)]
        results[name] = (c, tps, flagged)
    n_templates = len({r.template_id for r in test})
    print(
        f"test: {len(texts)} texts from {n_templates} unseen templates; "
        f"entity-free: {len(benign)} review sentences ({n_removed} naming a person removed "
        "by hand check)\n"
    )
    names = list(results)
    head = "| entity | support | " + " | ".join(f"{n} P | {n} R | {n} F2" for n in names) + " |"
    print(head)
    print("|" + "---|" * (2 + 3 * len(names)))
    for t in [*(x.value for x in TYPES), "overall"]:
        row = [t]
        sup = None
        for n in names:
            c = results[n][0]
            if t == "overall":
                tp, fp, fn = (sum(c[k].values()) for k in ("tp", "fp", "fn"))
            else:
                tp, fp, fn = c["tp"][t], c["fp"][t], c["fn"][t]
            sup = tp + fn
            row += [f"{v:.3f}" for v in prf(tp, fp, fn)]
        print("| " + " | ".join([row[0], str(sup), *row[1:]]) + " |")
    print()
    print("| system | texts/s | entity-free sentences flagged |")
    print("|---|---|---|")
    for n in names:
        _, tps, flagged = results[n]
        print(
            f"| {n} | {tps:,.0f} | {len(flagged)}/{len(benign)} ({len(flagged) / len(benign):.1%}) |"
        )
    if "-v" in sys.argv:
        for n in names:
            print(f"\n## flagged by {n}")
            det = shopguard_system() if n == "shopguard" else systems[n]
            for s in results[n][2]:
                print("-", repr(s), [s[a:b] + "/" + t for t, a, b in det(s)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
