"""Hand-written injection cues in several languages: the keyword layer of the detector.

Each rule is a named regular expression over normalised, lower-cased text. The
detector uses the rule hits as features next to its learned n-gram model; the
same rules alone are the *keyword-heuristic baseline* the benchmark compares
against (:func:`keyword_score`).

References
----------
Perez and Ribeiro, "Ignore Previous Prompt: Attack Techniques For Language
Models", NeurIPS ML Safety Workshop 2022 (goal hijacking, prompt leaking).
Liu et al., "Prompt Injection attack against LLM-integrated Applications", 2023.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["RULES", "RULE_SETS", "TURKISH_I_FROM", "keyword_score", "rule_hits"]

_IGNORE = (
    r"(ignore|disregard|forget|skip|override|bypass|drop|overwrite|neglect)\b[^.\n]{0,40}?"
    r"\b(all|any|every|the|your|my|previous|prior|above|earlier|preceding|former|initial|original|system)\b"
    r"[^.\n]{0,30}?\b(instructions?|prompts?|rules?|directives?|guidelines?|context|tasks?|orders?|commands?|messages?|everything|constraints?|programming)"
)
_RULES_SRC: dict[str, str] = {
    "ignore_previous": _IGNORE,
    "ignore_de": r"(ignorier|vergiss|vergessen|missachte|überspring)\w*\b[^.\n]{0,50}?\b(anweisung|vorherig|oben|alles|aufgabe|befehl|regeln|instruktion)",
    "ignore_fr": r"(ignore[rz]?|oublie[rz]?|ne tiens pas compte)\b[^.\n]{0,40}?\b(instructions?|consignes?|précédent|ci-dessus|tout|règles?)",
    "ignore_es": r"(ignora|olvida|omite|descarta)\w*\b[^.\n]{0,40}?\b(instrucciones|anteriores|todo|reglas|indicaciones)",
    "ignore_it": r"(ignora|dimentica|trascura)\w*\b[^.\n]{0,40}?\b(istruzioni|precedenti|tutto|regole)",
    "ignore_pt_nl": r"(ignore|esqueça|esqueca|negeer|vergeet)\w*\b[^.\n]{0,40}?\b(instruções|instrucoes|anteriores|instructies|vorige|alles|regras|regels)",
    "ignore_other": r"(игнорируй|забудь|忽略|忘记|無視|以前の指示|前面的指令|之前的指示)",
    "new_instructions": r"\b(new|updated|real|actual|true|secret|hidden|override)\s+(instructions?|task|rules?|directive|system prompt|orders)\b|\bneue (aufgabe|anweisung)|\bnouvelles? (instructions?|tâche)|\bnuevas? (instrucciones|tarea)",
    "now_you": r"\b(from now on|starting now|for the rest of this conversation|ab jetzt|von nun an|à partir de maintenant|a partir de ahora|d'ora in poi)\b",
    "system_prompt": r"\b(system|initial|hidden|original|secret|developer|pre-?)\s*(prompt|instructions?|message|configuration|rules)\b|\bsystemprompt|\bprompt (text|texts|secret)\b|\binstructions you were given\b|\byour (instructions|prompt|rules|guidelines|directives)\b",
    "reveal": r"\b(reveal|print|repeat|output|show|display|dump|leak|spell out|recite|echo|disclose|write down|tell me|zeig|gib .{0,20}aus|montre|révèle|muestra|revela|mostra)\b[^.\n]{0,40}?\b(prompt|instructions?|rules|system|configuration|everything above|text above|words above|canary|secret|password|api key|anweisungen|consignes|instrucciones)",
    "persona": r"\b(you are now|you're now|act as|pretend (to be|you are|you're)|roleplay as|role-play as|play the role of|imagine you are|from now on you are|du bist jetzt|tu es maintenant|ahora eres|sei ora)\b",
    "unrestricted": r"\b(no (rules|restrictions|limits|filters|guidelines|censorship|ethics)|without (any )?(restrictions|rules|filters|limits|censorship)|unrestricted|unfiltered|uncensored|jailbr[eo]ak|developer mode|dan mode|do anything now|god mode|sudo mode|admin mode|maintenance mode|debug mode|evil (bot|assistant)|anti-?dan)\b",
    "dan": r"\b(dan|stan|dude|aim|kevin|mongo tom)\b[^.\n]{0,30}\b(mode|prompt|persona|character|which stands for)",
    "other_customer": r"\b(another|other|different|all|every|someone else'?s?|a random)\s+(customers?|users?|shoppers?|accounts?|buyers?|persons?|people)('s)?\b[^.\n]{0,40}?\b(orders?|emails?|address(es)?|phone|data|details|card|history|information|info)|\bcustomer(_id)?\s*[:=#]?\s*c\d{6}\b|\b(all|every|list)\b[^.\n]{0,20}\b(orders|customers|emails|addresses)\b",
    "tool_abuse": r"\b(refund|reimburse|credit|transfer|pay out|send)\b[^.\n]{0,40}?\b(\d{3,}|all|every|maximum|full amount|without (approval|review|checking|a human))|\b(call|invoke|execute|run|use)\s+(the\s+)?(tool|function)\b|\bstart_return\b|\border_status\b|\bskip (the )?(approval|human|review|verification)",
    "exfil_markup": r"!\[[^\]]*\]\(https?://|<img[^>]+src=|<script|javascript:|\{\{|\}\}|<\|im_start\|>|<\|system\|>|\[inst\]|\[/inst\]|<<sys>>|###\s*(system|instruction)|^\s*(system|assistant)\s*:",
    "to_ai": r"\b(note|message|instruction|attention|hey|dear)\s+(to|for)?\s*(the\s+)?(ai|assistant|chatbot|bot|llm|language model|gpt)\b|\b(ai|assistant|chatbot|bot)\s*(:|,)\s*(ignore|you must|please|do not|say|tell|reply)",
    "say_exact": r"\b(say|reply|respond|answer|write|output|print)\b[^.\n]{0,20}\b(only|exactly|just|verbatim|with)\b[^.\n]{0,10}[\"'“‘]",
    "harmful_goal": r"\b(hack|exploit|malware|phishing|steal|password|credentials|bomb|weapon|drugs)\b",
}
RULES: dict[str, re.Pattern[str]] = {
    k: re.compile(v, re.IGNORECASE | re.MULTILINE) for k, v in _RULES_SRC.items()
}
# How much each rule alone says "injection" (used by the keyword baseline only).
_WEIGHTS = {
    "ignore_previous": 0.9,
    "ignore_de": 0.8,
    "ignore_fr": 0.8,
    "ignore_es": 0.8,
    "ignore_it": 0.8,
    "ignore_pt_nl": 0.8,
    "ignore_other": 0.8,
    "new_instructions": 0.5,
    "now_you": 0.3,
    "system_prompt": 0.5,
    "reveal": 0.6,
    "persona": 0.3,
    "unrestricted": 0.7,
    "dan": 0.6,
    "other_customer": 0.5,
    "tool_abuse": 0.4,
    "exfil_markup": 0.5,
    "to_ai": 0.5,
    "say_exact": 0.3,
    "harmful_goal": 0.2,
}


# Cheap substring pre-checks (lower case): a rule's regex runs only when one of them occurs,
# which keeps a 512-token message well under a millisecond.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "ignore_previous": (
        "ignor",
        "disregard",
        "forget",
        "skip",
        "overrid",
        "bypass",
        "drop",
        "overwrit",
        "neglect",
    ),
    "ignore_de": ("ignorier", "vergiss", "vergessen", "missacht", "überspring"),
    "ignore_fr": ("ignor", "oubli", "ne tiens pas"),
    "ignore_es": ("ignora", "olvida", "omite", "descarta"),
    "ignore_it": ("ignora", "dimentica", "trascura"),
    "ignore_pt_nl": ("ignore", "esque", "negeer", "vergeet"),
    "ignore_other": (
        "игнор",
        "забудь",
        "忽略",
        "忘记",
        "無視",
        "以前の指示",
        "前面的指令",
        "之前的指示",
    ),
    "new_instructions": (
        "instruction",
        "task",
        "rule",
        "directive",
        "prompt",
        "orders",
        "neue",
        "nouvelle",
        "nouvel",
        "nueva",
        "nuevo",
    ),
    "now_you": (
        "now on",
        "starting now",
        "rest of this",
        "ab jetzt",
        "von nun",
        "partir de",
        "ora in poi",
    ),
    "system_prompt": (
        "prompt",
        "instruction",
        "message",
        "configuration",
        "rules",
        "guideline",
        "directive",
    ),
    "reveal": (
        "prompt",
        "instruction",
        "rules",
        "system",
        "configuration",
        "above",
        "canary",
        "secret",
        "password",
        "api key",
        "anweisung",
        "consigne",
        "instrucciones",
        # round 23's objects (a rule set's regex only matches around its own objects, so
        # more triggers change no older set's answer)
        "regel",
        "vorgabe",
        "règle",
        "regla",
        "regol",
        "regra",
        "istruzion",
        "instruç",
        "instructie",
    ),
    "persona": (
        "you are now",
        "you're now",
        "act as",
        "pretend",
        "roleplay",
        "role-play",
        "role of",
        "imagine you",
        "from now on you",
        "du bist jetzt",
        "tu es maintenant",
        "ahora eres",
        "sei ora",
    ),
    "unrestricted": (
        "no ",
        "without",
        "unrestrict",
        "unfilter",
        "uncensor",
        "jailbr",
        "mode",
        "do anything now",
        "evil",
        "dan",
    ),
    "dan": ("dan", "stan", "dude", "aim", "kevin", "mongo"),
    "other_customer": (
        "customer",
        "user",
        "shopper",
        "account",
        "buyer",
        "person",
        "people",
        "all",
        "every",
        "list",
    ),
    "tool_abuse": (
        "refund",
        "reimburs",
        "credit",
        "transfer",
        "pay out",
        "send",
        "tool",
        "function",
        "start_return",
        "order_status",
        "skip",
    ),
    "exfil_markup": (
        "](http",
        "<img",
        "<script",
        "javascript:",
        "{{",
        "}}",
        "<|",
        "[inst]",
        "[/inst]",
        "<<sys>>",
        "###",
        "system",
        "assistant",
    ),
    "to_ai": (" ai", "ai:", "ai,", "assistant", "bot", "llm", "language model", "gpt"),
    "say_exact": ("say", "reply", "respond", "answer", "write", "output", "print"),
    "harmful_goal": (
        "hack",
        "exploit",
        "malware",
        "phishing",
        "steal",
        "password",
        "credential",
        "bomb",
        "weapon",
        "drug",
    ),
}


_TRIGGER_RX = {k: re.compile("|".join(re.escape(t) for t in v)) for k, v in _TRIGGERS.items()}
_WINDOW = 150


# Round 22: two rules narrowed, as a rule set of its own (a detector names the set it was
# trained with; round 21's read found both firing on shoppers, on the text or its gloss).
# ``reveal`` fires on instructions or rules only when they are the assistant's ("your",
# "system", "hidden", "above", "you were given" ...), never a product's care instructions
# or a loyalty scheme's rules; the prompt, the configuration, secrets and "everything
# above" still fire after any request verb.
_VERBS = (
    r"(reveal|print|repeat|output|show|display|dump|leak|spell out|recite|echo|disclose|"
    r"write down|tell me|copy out|zeig|gib .{0,20}aus|montre|révèle|muestra|revela|mostra)"
)
_HIDDEN_OBJECTS = (
    r"(prompt|configuration|everything above|text above|words above|canary|secret|password|"
    r"api key)"
)
_OWNER = (
    r"(your|yours|system|hidden|internal|initial|original|secret|developers?'?s?|above|"
    r"previous|prior|earlier|dein\w*|tes|tus|tue|tuoi|vos)"
)
_RULE_OBJECTS = r"(instructions?|rules|guidelines|anweisungen|consignes|instrucciones)"
_GIVEN = (
    r"(above|you (were|have been|got) (given|told)|you (follow|received|got)|given to you|"
    r"(they|we) gave you)"
)
_REVEAL_22 = (
    rf"\b{_VERBS}\b[^.\n]{{0,40}}?\b{_HIDDEN_OBJECTS}"
    rf"|\b{_VERBS}\b[^.\n]{{0,30}}?\b{_OWNER}\b[^.\n]{{0,20}}?\b{_RULE_OBJECTS}"
    rf"|\b{_VERBS}\b[^.\n]{{0,40}}?\b{_RULE_OBJECTS}\b[^.\n]{{0,12}}?\b{_GIVEN}"
)
# ``other_customer``'s bulk branch ("all / every / list ... orders / customers / e-mails /
# addresses") no longer fires in a sentence that says the things are the speaker's own
# ("all my past orders", "every review I've written", a gloss's "my"); naming another
# customer or a customer id still fires anywhere.
_OTHER_NAMED = (
    r"\b(another|other|different|all|every|someone else'?s?|a random)\s+(customers?|users?|"
    r"shoppers?|accounts?|buyers?|persons?|people)('s)?\b[^.\n]{0,40}?\b(orders?|emails?|"
    r"address(es)?|phone|data|details|card|history|information|info)"
    r"|\bcustomer(_id)?\s*[:=#]?\s*c\d{6}\b"
)
_BULK = re.compile(
    r"\b(all|every|list)\b[^.\n]{0,20}\b(orders|customers|emails|addresses)\b", re.IGNORECASE
)
_MINE = re.compile(
    r"\b(my|mine|our|ours|i (placed|made|bought|ordered|wrote|have)|i've|i'd)\b", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?\n]")
# Round 23: ``reveal`` also fires when the assistant is named *after* the instructions or
# rules, in the same sentence ("the instructions your developers wrote", "die Regeln, die
# man dir vorgegeben hat", a gloss's "show instructions your developer"); round 22's wanted
# it before them, and lost those.
_OWNER_AFTER = (
    r"(your|yours|you (were|have been|got|received)|for you|to you|given you|dir|dich|toi|"
    r"tes|tus|tuoi|σου|тебе|тебя|тобі|developers?|operators?|bosses|makers)"
)
_RULE_OBJECTS_23 = (
    r"(instructions?|rules|guidelines|anweisungen|regeln|vorgaben|consignes|règles|"
    r"instrucciones|reglas|istruzioni|regole|instruções|regras|instructies|regels)"
)
_REVEAL_23 = (
    _REVEAL_22
    + rf"|\b{_VERBS}\b[^.\n]{{0,40}}?\b{_RULE_OBJECTS_23}\b[^.\n]{{0,40}}?\b{_OWNER_AFTER}\b"
)


class _Matcher(Protocol):
    def search(self, string: str, pos: int = ..., endpos: int = ...) -> object: ...


class _OtherCustomer:
    """Round 22's ``other_customer``: another customer named (a regex), or a bulk request
    ("list all orders") in a sentence that names nothing as the speaker's own. Searched like
    a compiled pattern, so :func:`rule_hits` treats it as any other rule."""

    named = re.compile(_OTHER_NAMED, re.IGNORECASE | re.MULTILINE)

    def search(self, string: str, pos: int = 0, endpos: int | None = None) -> bool:
        end = len(string) if endpos is None else min(endpos, len(string))
        if self.named.search(string, pos, end):
            return True
        for m in _BULK.finditer(string, pos, end):
            start = max(
                (
                    e.end()
                    for e in _SENTENCE_END.finditer(string, max(pos, m.start() - 200), m.start())
                ),
                default=max(pos, m.start() - 200),
            )
            stop = _SENTENCE_END.search(string, m.end(), end)
            if not _MINE.search(string, start, stop.start() if stop else end):
                return True
        return False


RULE_SETS: dict[int, dict[str, _Matcher]] = {
    11: dict(RULES),
    22: RULES
    | {
        "reveal": re.compile(_REVEAL_22, re.IGNORECASE | re.MULTILINE),
        "other_customer": _OtherCustomer(),
    },
}
RULE_SETS[23] = RULE_SETS[22] | {"reveal": re.compile(_REVEAL_23, re.IGNORECASE | re.MULTILINE)}
#: Rule set 33 (round 33) has round 23's rules; a detector with it also reads the Turkish
#: dotless ı as a letter when it looks for homoglyphs (:func:`._normalise.normalise`).
RULE_SETS[33] = dict(RULE_SETS[23])
#: The first rule set whose detectors read the dotless ı as a letter.
TURKISH_I_FROM = 33


def rule_hits(text: str, rule_set: int = 11) -> list[str]:
    """Names of the rules that match ``text`` (already normalised and lower-cased), by the
    rules of ``rule_set`` (:data:`RULE_SETS`: round 11's, round 22's narrowed two, or round
    23's with the assistant named after the instructions too; 33 has 23's rules).

    On long texts each rule runs only over windows of 150 characters around its trigger
    words (every rule's match lies within such a window), so long benign texts stay cheap.
    """
    if rule_set not in RULE_SETS:
        raise ValueError(f"no rule set {rule_set}")
    hits = []
    for name, rx in RULE_SETS[rule_set].items():
        if len(text) < 2 * _WINDOW:
            if any(t in text for t in _TRIGGERS[name]) and rx.search(text):
                hits.append(name)
            continue
        spans: list[list[int]] = []
        for m in _TRIGGER_RX[name].finditer(text):
            lo, hi = max(0, m.start() - _WINDOW), m.end() + _WINDOW
            if spans and lo <= spans[-1][1]:
                spans[-1][1] = hi
            else:
                spans.append([lo, hi])
        if spans and any(rx.search(text, lo, hi) for lo, hi in spans):
            hits.append(name)
    return hits


def keyword_score(text: str) -> float:
    """The keyword-heuristic baseline: noisy-or of the weights of the rules that hit."""
    miss = 1.0
    for name in rule_hits(text.lower()):
        miss *= 1.0 - _WEIGHTS[name]
    return 1.0 - miss
