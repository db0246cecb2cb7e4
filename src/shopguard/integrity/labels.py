"""Label-poisoning detection for fraud training data.

Confident learning (cleanlab) on out-of-fold probabilities finds labels that
disagree with what the rest of the data says. Plain confident learning trusts
its probabilities, which the poison itself shapes: a model cross-validated on
20 % flipped labels learns part of the flips. This detector adds:

1. **Iterative re-estimation.** Suspected flips are taken out of training
   and the out-of-fold probabilities recomputed, twice, so the second pass
   judges each label with a model the first pass's suspects no longer bend.
2. **Two model families.** Probabilities are the mean of a gradient-boosted
   tree model and a logistic regression (different inductive biases average
   out where one of them memorised the poison).
3. **The store's own signals.** Labels confirmed by an independent channel
   (``trusted``: e.g. a chargeback with the issuer's reason code) are never
   flagged and count double in training.
4. **Per-source influence bounding.** When labels come from several sources
   (chargeback feed, manual review, processor flags), each source's training
   weight is capped at ``max_source_share`` of the total, and a source whose
   suspected-flip rate is far above the others' has its weight cut by its
   estimated clean fraction: a poisoned source cannot dominate the model.
5. **Cross-source audit.** Each source's labels are judged by a model of the
   *other* sources; a feed whose labels of one class are contradicted
   significantly more often than the other feeds' is poisoned (a targeted flip
   hides one fraud pattern as legitimate: inside the batch it is
   self-consistent, so confident learning and the neighbour signals vouch for
   it, but the other feeds still know the pattern). Its contradicted rows, and
   the rest of their campaign (same terminal or card window), are suspects from
   the first round on and count with the corrected label in the consistency
   signals.

References
----------
.. [1] Northcutt, Jiang, Chuang, "Confident learning: estimating uncertainty in
   dataset labels", JAIR 70 (2021).
.. [2] Steinhardt, Koh, Liang, "Certified defenses for data poisoning attacks",
   NeurIPS 2017 (bounding an attacker's influence).
.. [3] Jagielski et al., "Manipulating machine learning: poisoning attacks and
   countermeasures for regression learning", IEEE S&P 2018 (trimmed training).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from cleanlab.filter import find_label_issues
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shopguard.core.errors import DataValidationError

__all__ = ["LabelAudit", "LabelIssueDetector", "oof_probabilities", "source_weights"]


def label_context(
    labels: NDArray[np.int64],
    groups: Mapping[str, tuple[NDArray[Any], NDArray[Any], float]],
) -> NDArray[np.float64]:
    """The store's own consistency signals: for each row and each group (e.g. the same
    card within 14 days, the same terminal within 28 days), how many *other* rows of
    the group in the window carry a positive label, how many rows the window has, and
    the positive share. Frauds come in campaigns (a compromised card or terminal); a
    lone fraud label among clean neighbours, or a clean label inside a fraud run, is
    what a flipped label looks like.

    ``groups`` maps a name to ``(group_ids, times_in_days, window_days)``.
    """
    cols = []
    n = len(labels)
    for ids, times, window in groups.values():
        t = np.asarray(times, dtype=np.float64)
        pos = np.zeros(n)
        tot = np.zeros(n)
        codes = np.unique(np.asarray(ids).astype(str), return_inverse=True)[1]
        order = np.lexsort((t, codes))
        sc, st, sy = codes[order], t[order], labels[order].astype(np.float64)
        bounds = np.flatnonzero(np.diff(sc)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
            tt = st[lo:hi]
            cum = np.r_[0.0, np.cumsum(sy[lo:hi])]
            a = np.searchsorted(tt, tt - window, side="left")
            b = np.searchsorted(tt, tt + window, side="right")
            idx = order[lo:hi]
            pos[idx] = cum[b] - cum[a] - sy[lo:hi]
            tot[idx] = (b - a) - 1
        cols += [pos, tot, pos / np.maximum(tot, 1.0)]
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def _models(random_state: int) -> list[Any]:
    return [
        HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.1, max_leaf_nodes=15, random_state=random_state
        ),
        make_pipeline(
            SimpleImputer(strategy="median"),
            StandardScaler(),
            LogisticRegression(C=1.0, max_iter=2000),
        ),
    ]


def oof_probabilities(
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    *,
    sample_weight: NDArray[np.float64] | None = None,
    train_mask: NDArray[np.bool_] | None = None,
    folds: int = 5,
    ensemble: bool = True,
    random_state: int = 0,
) -> NDArray[np.float64]:
    """Out-of-fold ``P(y=1)`` for every row; rows outside ``train_mask`` never train a fold."""
    n = len(y)
    w = np.ones(n) if sample_weight is None else sample_weight
    keep = np.ones(n, dtype=bool) if train_mask is None else train_mask
    p = np.zeros(n)
    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    models = _models(random_state) if ensemble else _models(random_state)[:1]
    for tr, te in cv.split(x, y):
        tr = tr[keep[tr]]
        fold = np.zeros(len(te))
        for m in models:
            name = type(m).__name__
            if name == "Pipeline":
                m.fit(x[tr], y[tr], logisticregression__sample_weight=w[tr])
            else:
                m.fit(x[tr], y[tr], sample_weight=w[tr])
            fold += m.predict_proba(x[te])[:, 1]
        p[te] = fold / len(models)
    return p


def source_weights(
    sources: NDArray[Any], suspected: NDArray[np.bool_], *, max_share: float = 0.5
) -> NDArray[np.float64]:
    """Per-row training weights bounding each label source's influence.

    A source's weight is cut by its estimated clean fraction when its suspected
    rate is more than twice the median source's, and no source holds more than
    ``max_share`` of the total weight.
    """
    names, inv = np.unique(sources, return_inverse=True)
    rates = np.array([suspected[inv == i].mean() for i in range(len(names))])
    median = float(np.median(rates))
    w_src = np.ones(len(names))
    for i, r in enumerate(rates):
        if len(names) > 1 and r > 2 * median + 0.02:
            w_src[i] = max(0.05, 1.0 - r)
    counts = np.bincount(inv, minlength=len(names)).astype(float)
    for _ in range(100):
        mass = w_src * counts
        share = mass / mass.sum()
        over = share > max_share + 1e-9
        if not over.any() or len(names) == 1:
            break
        w_src[over] *= max_share / share[over] * (1 - 1e-9)
    return np.asarray(w_src[inv], dtype=np.float64)


@dataclass(frozen=True)
class LabelAudit:
    """Result of a label audit: the suspected rows and per-source figures."""

    suspected: NDArray[np.bool_]
    pred_probs: NDArray[np.float64]
    weights: NDArray[np.float64]
    source_rates: dict[str, float] = field(default_factory=dict)
    #: Feeds judged poisoned by the cross-source audit: (source, poisoned label, z).
    poisoned_sources: tuple[tuple[str, int, float], ...] = ()

    @property
    def n_suspected(self) -> int:
        return int(self.suspected.sum())

    def summary(self) -> dict[str, Any]:
        return {
            "rows": len(self.suspected),
            "suspected": self.n_suspected,
            "suspected_rate": round(float(self.suspected.mean()), 4) if len(self.suspected) else 0,
            "source_suspected_rates": {k: round(v, 4) for k, v in self.source_rates.items()},
            "poisoned_sources": [
                {"source": s, "label": g, "z": z} for s, g, z in self.poisoned_sources
            ],
        }


class LabelIssueDetector:
    """Find flipped or injected labels in a binary (fraud) training set.

    Parameters
    ----------
    rounds:
        Re-estimation passes (1 = plain confident learning on the ensemble).
    folds:
        Cross-validation folds for out-of-fold probabilities.
    max_source_share:
        Largest share of training weight any one label source may hold.
    source_z:
        One-sided two-proportion z above which a source's share of labels (of one class)
        that a model of the *other* sources contradicts is judged to exceed the other
        sources' share: the feed is then taken as poisoned for that class.
    campaign_share:
        Fraud share (caught rows counted as frauds) of a group window above which a
        legitimate label of a poisoned feed is taken as part of the hidden campaign.
    random_state:
        Seed of folds and models.
    """

    def __init__(
        self,
        *,
        rounds: int = 3,
        folds: int = 5,
        max_source_share: float = 0.5,
        source_z: float = 4.0,
        campaign_share: float = 0.3,
        random_state: int = 0,
    ) -> None:
        self.campaign_share = campaign_share
        self.source_z = source_z
        self.rounds = rounds
        self.folds = folds
        self.max_source_share = max_source_share
        self.random_state = random_state

    def fit(
        self,
        x: NDArray[np.float64],
        y: Sequence[int] | NDArray[np.int64],
        *,
        sources: Sequence[str] | NDArray[Any] | None = None,
        trusted: NDArray[np.bool_] | None = None,
        groups: Mapping[str, tuple[NDArray[Any], NDArray[Any], float]] | None = None,
    ) -> Self:
        """Audit labels ``y`` of rows ``x``.

        Parameters
        ----------
        sources:
            Which feed each label came from (influence is bounded per source, and each
            feed is audited by a model of the other feeds).
        trusted:
            Labels confirmed by an independent channel (never flagged).
        groups:
            Campaign groups for :func:`label_context` (e.g. card and terminal with
            times in days and a window); their label-consistency signals are added
            to the audit model's inputs (not to the fraud model's).
        """
        labels = np.asarray(y, dtype=np.int64)
        x = np.asarray(x, dtype=np.float64)
        n = len(labels)
        if x.ndim != 2 or len(x) != n:
            raise DataValidationError("features and labels differ in length")
        if set(np.unique(labels)) - {0, 1} or len(np.unique(labels)) != 2:
            raise DataValidationError("labels must be 0/1 with both classes present")
        src = np.asarray(["all"] * n if sources is None else sources, dtype=object)
        conf = np.zeros(n, dtype=bool) if trusted is None else np.asarray(trusted, dtype=bool)
        # A poisoned feed first: its contradicted rows are suspects from the start, leave the
        # training folds, and count with the label the other feeds give them in the
        # consistency signals (so the campaign's other flipped rows no longer vouch for them).
        seeded = self._cross_source(x, labels, src) & ~conf
        if groups and seeded.any():
            seeded |= self._campaign(labels, src, seeded, groups) & ~conf
        if groups:
            x = np.column_stack([x, label_context(np.where(seeded, 1 - labels, labels), groups)])
        weights = np.where(conf, 2.0, 1.0)
        suspected = seeded.copy()
        probs = np.zeros(n)
        for _ in range(max(1, self.rounds)):
            w = weights * source_weights(src, suspected, max_share=self.max_source_share)
            probs = oof_probabilities(
                x,
                labels,
                sample_weight=w,
                train_mask=~suspected,
                folds=self.folds,
                random_state=self.random_state,
            )
            pred = np.column_stack([1 - probs, probs])
            found = find_label_issues(labels, pred, filter_by="both")
            found = (found | seeded) & ~conf
            if np.array_equal(found, suspected):
                break
            suspected = found
        self.labels_ = labels
        self.sources_ = src
        self.suspected_ = suspected
        self.pred_probs_ = probs
        self.weights_ = weights * source_weights(src, suspected, max_share=self.max_source_share)
        names = np.unique(src)
        self.source_rates_ = {str(s): float(suspected[src == s].mean()) for s in names}
        return self

    def _cross_source(
        self, x: NDArray[np.float64], labels: NDArray[np.int64], src: NDArray[Any]
    ) -> NDArray[np.bool_]:
        """Rows of a poisoned feed: each source is audited by a model of the *other* sources.

        A targeted flip through one feed (the frauds of one pattern marked legitimate) is
        self-consistent inside the batch -- the campaign's neighbours carry the same flipped
        labels, so confident learning and the consistency signals vouch for it -- but the other
        feeds still know the pattern. For each source and each given label, the share of its
        rows that the other sources' model contradicts is compared with the same share in the
        other sources (one-sided two-proportion z); the most deviating (source, label) above
        ``source_z`` is judged poisoned and its contradicted rows are returned. A random flip
        spreads over every feed alike and does not fire this test.
        """
        out = np.zeros(len(labels), dtype=bool)
        self.suspect_sources_: list[tuple[str, int, float]] = []
        names = np.unique(src)
        if len(names) < 2:
            return out
        p = np.full(len(labels), np.nan)
        for name in names:
            mine = src == name
            others = ~mine
            if int(mine.sum()) < 50 or len(np.unique(labels[others])) < 2:
                continue
            models = _models(self.random_state)
            q = np.zeros(int(mine.sum()))
            for m in models:
                m.fit(x[others], labels[others])
                q += m.predict_proba(x[mine])[:, 1] / len(models)
            p[mine] = q
        known = ~np.isnan(p)
        against = known & (((labels == 1) & (p < 0.5)) | ((labels == 0) & (p > 0.5)))
        best: tuple[float, str, int] | None = None
        for name in names:
            for given in (0, 1):
                a = (src == name) & known & (labels == given)
                b = (src != name) & known & (labels == given)
                n1, n2 = int(a.sum()), int(b.sum())
                if n1 < 50 or n2 < 50:
                    continue
                pooled = (against[a].sum() + against[b].sum()) / (n1 + n2)
                se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
                z = float((against[a].mean() - against[b].mean()) / se) if se > 0 else 0.0
                if best is None or z > best[0]:
                    best = (z, str(name), given)
        if best is None or best[0] <= self.source_z:
            return out
        z, name, given = best
        self.suspect_sources_.append((name, given, round(z, 1)))
        return np.asarray(against & (src == name) & (labels == given), dtype=bool)

    def _campaign(
        self,
        labels: NDArray[np.int64],
        src: NDArray[Any],
        seeded: NDArray[np.bool_],
        groups: Mapping[str, tuple[NDArray[Any], NDArray[Any], float]],
    ) -> NDArray[np.bool_]:
        """The rest of a hidden fraud campaign in the poisoned feed.

        The other feeds' model catches most of a campaign hidden as legitimate, not all of
        it. A legitimate label of the poisoned feed whose group window (same terminal, same
        card), with the caught rows counted as frauds, holds at least two frauds and a fraud
        share above ``campaign_share`` sits inside the campaign and is suspect too. Applied to
        hidden frauds only (frauds come in runs on a terminal or card; for injected fraud
        labels this expansion is neither built nor measured).
        """
        out = np.zeros(len(labels), dtype=bool)
        name, given, _ = self.suspect_sources_[0]
        if given != 0:
            return out
        corrected = np.where(seeded, 1 - labels, labels)
        cand = (src == name) & (labels == 0) & ~seeded
        ctx = label_context(corrected, groups)
        # The campaign's grouping is the one the caught rows cluster in most (most caught rows
        # have another caught row in their window); in another, e.g. a card's few rows of a
        # sampled batch, a fraud share says nothing about a hidden campaign.
        clustered = label_context(seeded.astype(np.int64), groups)
        together = [float(np.mean(clustered[seeded, 3 * g] >= 1)) for g in range(len(groups))]
        g = int(np.argmax(together))
        if together[g] < 0.5:
            return out
        pos, share = ctx[:, 3 * g], ctx[:, 3 * g + 2]
        return np.asarray(cand & (pos >= 2) & (share > self.campaign_share), dtype=bool)

    def training_mask(self) -> NDArray[np.bool_]:
        """Rows to train the production model on: suspects are dropped where their source
        looks poisoned (elevated suspect rate); elsewhere a suspect is more often a hard,
        correct example than a flip, and its source weight already bounds it."""
        rates = np.array([self.source_rates_[str(s)] for s in self.sources_])
        median = float(np.median(list(self.source_rates_.values())))
        elevated = rates > 2 * median + 0.02
        return np.asarray(~(self.suspected_ & elevated), dtype=bool)

    def audit(self) -> LabelAudit:
        return LabelAudit(
            self.suspected_,
            self.pred_probs_,
            self.weights_,
            self.source_rates_,
            tuple(self.suspect_sources_),
        )

    def risk_score(self) -> NDArray[np.float64]:
        """Per row, the probability mass against its given label (higher = more suspect)."""
        p = self.pred_probs_
        return np.asarray(np.where(self.labels_ == 1, 1.0 - p, p), dtype=np.float64)
