"""Loader and entity mapping for presidio-research's synthetic PII dataset.

Mapping onto :class:`PiiType` (used for training and for evaluation):

* ``PERSON`` -> PERSON, ``EMAIL_ADDRESS`` -> EMAIL, ``PHONE_NUMBER`` -> PHONE,
  ``CREDIT_CARD`` -> CREDIT_CARD, ``IBAN_CODE`` -> IBAN, ``IP_ADDRESS`` ->
  IP_ADDRESS, ``US_SSN`` -> US_SSN.
* ``STREET_ADDRESS`` and ``ZIP_CODE`` -> POSTAL_ADDRESS; a ``GPE`` (city,
  country) -> POSTAL_ADDRESS when it is part of an address, i.e. chained to a
  street or zip span with only punctuation and white space between them.
* ``DATE_TIME`` -> DATE_OF_BIRTH when the text speaks of a birth (born, birth,
  DOB); any other date is out of scope.
* Out of scope (``None``): ``ORGANIZATION``, ``TITLE``, ``NRP``,
  ``DOMAIN_NAME``, ``AGE``, ``US_DRIVER_LICENSE``, a stand-alone ``GPE`` and a
  non-birth ``DATE_TIME``. Scorers ignore tokens inside out-of-scope spans
  (neither a hit nor a false positive, for every system scored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopguard.core.errors import DataValidationError
from shopguard.privacy.pii._types import PiiType

__all__ = ["GoldSpan", "Record", "gold_spans", "load_records", "split_by_template"]

_DIRECT: dict[str, PiiType] = {
    "PERSON": PiiType.PERSON,
    "EMAIL_ADDRESS": PiiType.EMAIL,
    "PHONE_NUMBER": PiiType.PHONE,
    "CREDIT_CARD": PiiType.CREDIT_CARD,
    "IBAN_CODE": PiiType.IBAN,
    "IP_ADDRESS": PiiType.IP_ADDRESS,
    "US_SSN": PiiType.US_SSN,
    "STREET_ADDRESS": PiiType.POSTAL_ADDRESS,
    "ZIP_CODE": PiiType.POSTAL_ADDRESS,
}
_BIRTH = re.compile(r"(?i)\b(?:born|birth|dob|birthday)\b")


@dataclass(frozen=True, slots=True)
class Record:
    """One sentence of the dataset with its original spans ``(entity_type, start, end)``."""

    text: str
    spans: tuple[tuple[str, int, int], ...]
    template_id: int


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """A gold span mapped onto our types; ``type`` None means out of scope."""

    type: PiiType | None
    start: int
    end: int


def load_records(path: str | Path) -> list[Record]:
    """Read ``synth_dataset_v2*.json`` (a JSON list of records)."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        return [
            Record(
                text=r["full_text"],
                spans=tuple(
                    (s["entity_type"], int(s["start_position"]), int(s["end_position"]))
                    for s in r["spans"]
                ),
                template_id=int(r["template_id"]),
            )
            for r in raw
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataValidationError("not a presidio synthetic PII dataset", file=str(p)) from exc


def gold_spans(rec: Record) -> list[GoldSpan]:
    """The record's spans mapped onto :class:`PiiType` (see the module docstring)."""
    spans = sorted(rec.spans, key=lambda s: s[1])
    addr_like = {"STREET_ADDRESS", "ZIP_CODE", "GPE"}
    # chain address-like spans separated only by punctuation / white space
    cluster = [-1] * len(spans)
    cid = 0
    for i, (t, s, _e) in enumerate(spans):
        if t not in addr_like:
            continue
        prev = next(
            (j for j in range(i - 1, -1, -1) if spans[j][0] in addr_like and cluster[j] >= 0),
            None,
        )
        if (
            prev is not None
            and not any(c.isalnum() for c in rec.text[spans[prev][2] : s])
            and all(spans[k][0] in addr_like for k in range(prev + 1, i))
        ):
            cluster[i] = cluster[prev]
        else:
            cluster[i] = cid
            cid += 1
    is_addr = {
        c
        for c, (t, _, _) in zip(cluster, spans, strict=True)
        if c >= 0 and t in ("STREET_ADDRESS", "ZIP_CODE")
    }
    birth = _BIRTH.search(rec.text) is not None
    out: list[GoldSpan] = []
    for c, (t, s, e) in zip(cluster, spans, strict=True):
        typ: PiiType | None
        if t in _DIRECT:
            typ = _DIRECT[t]
        elif t == "GPE":
            typ = PiiType.POSTAL_ADDRESS if c in is_addr else None
        elif t == "DATE_TIME":
            typ = PiiType.DATE_OF_BIRTH if birth else None
        else:
            typ = None
        out.append(GoldSpan(typ, s, e))
    return out


def split_by_template(
    records: Sequence[Record], *, test_fraction: float = 0.3, random_state: int = 0
) -> tuple[list[Record], list[Record]]:
    """Split records so that no template appears in both parts: ``(train, test)``.

    Stratified by each template's rarest in-scope entity type, so rare types
    (IP address, SSN, e-mail, date of birth) land in the test part too: within
    each stratum a ``test_fraction`` share of templates (at least one) is held
    out, and a stratum of one template goes to the test part.
    """
    by_t: dict[int, set[str]] = {}
    for r in records:
        kinds = by_t.setdefault(r.template_id, set())
        for g in gold_spans(r):
            if g.type is not None:
                kinds.add(g.type.value)
    n_templates: dict[str, int] = {}
    for kinds in by_t.values():
        for k in kinds:
            n_templates[k] = n_templates.get(k, 0) + 1
    strata: dict[str, list[int]] = {}
    for t in sorted(by_t):
        key = min(by_t[t], key=lambda k: (n_templates[k], k)) if by_t[t] else ""
        strata.setdefault(key, []).append(t)
    rng = np.random.default_rng(random_state)
    test_t: set[int] = set()
    for key in sorted(strata):
        ts = np.array(strata[key])
        rng.shuffle(ts)
        n_test = max(1, round(len(ts) * test_fraction))
        test_t.update(int(x) for x in ts[:n_test])
    train = [r for r in records if r.template_id not in test_t]
    test = [r for r in records if r.template_id in test_t]
    return train, test
