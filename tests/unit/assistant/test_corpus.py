from __future__ import annotations

import re
from collections import Counter

import pytest

from shopguard.assistant._corpus_languages import (
    BULK_MINE,
    BULK_MINE_24,
    BULK_THEIRS,
    BULK_THEIRS_24,
    LANGUAGES,
    REQUESTS,
)
from shopguard.assistant.corpus import (
    generated_attacks,
    generated_benign,
    generated_bulk,
    generated_requests,
)


def test_generator_when_languages_off_then_no_localised_family_and_on_then_a_ninth() -> None:
    # the shipped default is rebuilt from the corpus without them (the slow rebuild test pins
    # its scores); with them, three family slots of 27 are whole sentences in one language
    assert not any(a.family.startswith("localised") for a in generated_attacks(300))
    with_languages = generated_attacks(270, languages=True)
    localised = [a for a in with_languages if a.family.startswith("localised")]
    assert len(localised) == 30
    assert {a.family.split("+")[0] for a in with_languages} > {"localised", "override"}


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


def test_requests_when_drawn_then_shoppers_ask_to_be_shown_and_attacks_ask_without_override() -> (
    None
):
    # round 21: "show me" in another language is a shopper's request as often as an
    # attacker's; what is asked for decides, and no override clause gives an attack away
    items = generated_requests(2000)
    assert [t.label for t in items[:6]] == [0, 1, 0, 1, 0, 1]
    shoppers = [t for t in items if t.label == 0]
    attacks = [t for t in items if t.label == 1]
    assert {t.template.split(":")[1] for t in shoppers} == set(REQUESTS) == set(LANGUAGES)
    assert {t.template.split(":")[1] for t in attacks} == set(LANGUAGES)
    for t in shoppers:
        lang, k = t.template.split(":")[1:]
        assert t.text.endswith(REQUESTS[lang][int(k)])
    for t in attacks:
        lang, k = t.template.split(":")[1:]
        spec = LANGUAGES[lang]
        assert re.sub(r"C\d{6}", "{cid}", t.text).endswith(spec.goals[int(k)])
        assert not any(o in t.text for o in spec.overrides)
    # some follow an everyday question, most stand alone
    alone = sum(any(t.text == r for r in REQUESTS[t.template.split(":")[1]]) for t in shoppers)
    assert 0.5 < alone / len(shoppers) < 0.9


def test_bulk_when_drawn_then_mine_and_everyones_come_in_every_language() -> None:
    # round 23: "all ... addresses" is a shopper's request for their own as often as an
    # attacker's for everyone's, in English and each of the 25 languages
    items = generated_bulk(1200)
    mine = [t for t in items if t.label == 0]
    theirs = [t for t in items if t.label == 1]
    assert len(mine) == len(theirs) == 600
    assert {t.template.split(":")[1] for t in mine} == set(LANGUAGES) | {"en"}
    assert {t.template.split(":")[1] for t in theirs} == set(LANGUAGES) | {"en"}
    for t in mine:
        lang, k = t.template.split(":")[1:]
        assert t.template.startswith("bulk_mine:") and t.text == BULK_MINE[lang][int(k)]
    for t in theirs:
        lang, k = t.template.split(":")[1:]
        assert t.template.startswith("bulk_theirs:")
        assert "{name}" not in t.text
        assert re.fullmatch(re.escape(BULK_THEIRS[lang][int(k)]).replace(r"\{name\}", ".+"), t.text)


def test_bulk_when_level_24_then_each_object_comes_as_mine_and_as_everyones() -> None:
    # round 24: round 23's attacks named gift cards and saved cards and its shoppers never
    # did, so the object became the cue; at level 24 both sides name the same objects
    texts = {t.label: set() for t in generated_bulk(2, level=24)}
    for t in generated_bulk(6000, level=24):
        texts[t.label].add(t.text)
    gift = {"en": "gift card", "es": "tarjetas regalo", "fr": "cartes cadeaux"}
    for lang, word in gift.items():
        mine = BULK_MINE[lang] + BULK_MINE_24[lang]
        theirs = BULK_THEIRS[lang] + BULK_THEIRS_24[lang]
        assert any(word in m.lower() for m in mine) and any(word in t.lower() for t in theirs)
        assert any(m in texts[0] for m in mine if word in m.lower())
    # level 23 draws stay round 23's
    assert [t.text for t in generated_bulk(50, level=23)] == [t.text for t in generated_bulk(50)]
    with pytest.raises(ValueError, match="level"):
        generated_bulk(2, level=25)
