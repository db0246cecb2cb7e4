"""Output filtering: nothing leaves the assistant that it must not say.

Every answer is scanned before it is sent:

* **canary tokens** planted in the system prompt: their appearance — verbatim,
  case-changed, spaced out, reversed or base64-encoded — proves the prompt
  leaked; the answer is refused and a critical alert raised;
* **system-prompt echoes**: any run of eight consecutive words of the system
  prompt is a leak even without the canary;
* **secrets and keys** (shopguard API keys, JWTs, cloud and private keys,
  ``password=`` assignments): redacted;
* **personal data not belonging to the asking customer**, found with
  :class:`shopguard.privacy.pii.PiiDetector`: redacted. The customer's own
  name, e-mail, phone, address and order numbers pass.

References
----------
OWASP Top 10 for LLM Applications 2025: LLM02 Sensitive Information
Disclosure, LLM07 System Prompt Leakage.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from shopguard.assistant._normalise import normalise
from shopguard.privacy.pii import PiiDetector, PiiType

__all__ = ["REFUSAL", "FilterResult", "OutputFilter"]

REFUSAL = (
    "Sorry, I can't share that. I can help with products, your orders, returns and our policies."
)
_SECRETS = re.compile(
    r"\bsgk_[A-Za-z0-9_\-]{16,}"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bsk-[A-Za-z0-9_\-]{20,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|\b(?:password|passwd|secret|api[_-]?key|token)\s*[:=]\s*\S{6,}",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9]+")
_SHINGLE = 8


@dataclass(frozen=True)
class FilterResult:
    """The text to send and what was done: finding names and counts, never the data."""

    text: str
    refused: bool
    findings: tuple[str, ...]


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


class OutputFilter:
    """Scan answers for canaries, system-prompt echoes, secrets and other people's data.

    Parameters
    ----------
    system_prompt : str
        The prompt whose echoes count as leaks.
    canaries : iterable of str
        Tokens planted in the system prompt.
    pii : PiiDetector, optional
        The privacy capability's detector (default: a new one).
    """

    def __init__(
        self, *, system_prompt: str, canaries: Iterable[str], pii: PiiDetector | None = None
    ) -> None:
        self.system_prompt = system_prompt
        self.canaries = tuple(canaries)
        self.pii = pii or PiiDetector()
        self._prompt_shingles = _shingles(system_prompt)
        self._canary_forms = {f for c in self.canaries for f in self._forms(c)}

    @staticmethod
    def _forms(canary: str) -> set[str]:
        sq = _squash(canary)
        b64 = base64.b64encode(canary.encode()).decode().rstrip("=")
        return {sq, sq[::-1], _squash(b64)}

    def leaks_canary(self, text: str) -> bool:
        """Whether ``text`` holds a canary in any of the forms an attacker might ask for."""
        norm = normalise(text)
        for view in (text, norm.text, *norm.views):
            sq = _squash(view)
            if any(f in sq for f in self._canary_forms):
                return True
            if any(c in view for c in self.canaries):
                return True
        return False

    def filter(self, text: str, *, allowed: Iterable[str] = ()) -> FilterResult:
        """Return what may be sent. ``allowed`` holds the asking customer's own values and
        catalogue text that may appear (product names are not personal data)."""
        if self.leaks_canary(text):
            return FilterResult(REFUSAL, True, ("canary_leak",))
        if self._prompt_shingles and _shingles(text) & self._prompt_shingles:
            return FilterResult(REFUSAL, True, ("system_prompt_echo",))
        findings: list[str] = []
        out, n = _SECRETS.subn("[secret removed]", text)
        if n:
            findings.append(f"secret:{n}")
        allowed_sq = {_squash(a) for a in allowed if a and len(_squash(a)) >= 3}
        allowed_blob = " ".join(sorted(allowed_sq))
        spans = []
        for ent in self.pii.detect(out):
            value = _squash(out[ent.start : ent.end])
            if not value:
                continue
            if value in allowed_sq:
                continue
            if ent.type in (PiiType.PERSON, PiiType.POSTAL_ADDRESS) and value in allowed_blob:
                continue  # part of a product name or of the customer's own address
            spans.append(ent)
        for ent in sorted(spans, key=lambda e: e.start, reverse=True):
            out = out[: ent.start] + "[redacted]" + out[ent.end :]
        if spans:
            kinds = sorted({e.type.value for e in spans})
            findings.extend(f"pii:{k}" for k in kinds)
        return FilterResult(out, False, tuple(findings))
