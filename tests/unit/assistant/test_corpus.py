from __future__ import annotations

import re
from collections import Counter

from shopguard.assistant._corpus_languages import LANGUAGES
from shopguard.assistant.corpus import generated_attacks, generated_benign


def test_generator_when_languages_off_then_corpus_is_the_one_round5_trained_on() -> None:
    # the shipped default is rebuilt from this corpus: the round-10 option must not change it
    plain = generated_attacks(300, random_state=4)
    assert not any(a.family.startswith("localised") for a in plain)
    assert [a.text for a in plain] == [
        a.text for a in generated_attacks(300, random_state=4, languages=False)
    ]


def test_generator_when_languages_on_then_every_language_speaks_on_both_sides() -> None:
    # round 10's point: a whole sentence in Swedish or Arabic is no cue by itself, so each
    # language must come as attacks *and* as shoppers' messages
    attacks = [
        a for a in generated_attacks(6000, languages=True) if a.template.startswith("localised:")
    ]
    benign = [
        b
        for b in generated_benign(6000, languages=True)
        if b.template.startswith("localised_benign:")
    ]
    attack_langs = Counter(a.template.split(":")[1] for a in attacks)
    benign_langs = Counter(b.template.split(":")[1] for b in benign)
    assert set(attack_langs) == set(benign_langs) == set(LANGUAGES)
    assert all(a.label == 1 for a in attacks) and all(b.label == 0 for b in benign)
    # an attack is an override and a goal of one language, never an English goal
    sv = LANGUAGES["sv"]
    swedish = [a for a in attacks if a.template.startswith("localised:sv:") and "+" not in a.family]
    assert swedish
    for a in swedish:
        head = sv.overrides[int(a.template.rsplit(":", 1)[1])]
        assert a.text.startswith(head)
        assert re.sub(r"C\d{6}", "{cid}", a.text[len(head) + 1 :]) in sv.goals
