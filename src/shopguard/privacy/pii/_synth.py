"""Synthetic training sentences with names and addresses, and Faker gazetteers.

Faker (already a dependency of the store generator) provides name, street,
city and country lists in many locales, and fake people and addresses to put
into chat / support / review templates, as the store's customers would write.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from faker import Faker

__all__ = ["LOCALES", "faker_gazetteers", "synth_sentences"]

#: Latin-script Faker locales used for gazetteers and sentences.
LOCALES: tuple[str, ...] = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_IE", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH",
    "es_ES", "es_MX", "it_IT", "nl_NL", "nl_BE", "pt_BR", "pt_PT", "pl_PL", "da_DK", "sv_SE",
    "no_NO", "fi_FI", "cs_CZ", "sk_SK", "hu_HU", "sl_SI", "hr_HR", "ro_RO", "tr_TR", "et_EE",
    "lt_LT", "lv_LV", "is_IS",
)  # fmt: skip

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _words(items: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for it in items:
        out.update(w.lower() for w in _WORD.findall(str(it)) if not w.isdigit())
    return out


def _name_of(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)) and x:
        return str(x[-1])
    return str(getattr(x, "name", ""))


def faker_gazetteers(locales: Iterable[str] | None = None) -> dict[str, set[str]]:
    """Word sets ``first``, ``last``, ``street``, ``city``, ``country`` from Faker's providers.

    By default from every locale Faker ships.
    """
    if locales is None:
        from faker.config import AVAILABLE_LOCALES

        locales = sorted(AVAILABLE_LOCALES)
    gaz: dict[str, set[str]] = {k: set() for k in ("first", "last", "street", "city", "country")}
    attrs = {
        "first": ("first_names", "first_names_male", "first_names_female"),
        "last": ("last_names",),
        "street": ("street_suffixes", "street_prefixes", "street_titles", "street_names"),
        "city": ("cities", "city_names", "city_suffixes", "city_prefixes", "cities_only"),
        "country": ("countries", "states", "provinces", "regions", "departments"),
    }
    for loc in locales:
        with warnings.catch_warnings():
            # Faker warns when a deprecated alias locale (fr_QC) is built; its lists are still fine
            warnings.simplefilter("ignore", UserWarning)
            fake = Faker(loc)
        for prov in fake.providers:
            for key, names in attrs.items():
                for a in names:
                    v = getattr(prov, a, None)
                    if isinstance(v, dict):
                        gaz[key] |= _words(v.keys())
                    elif isinstance(v, (list, tuple, set, frozenset)):
                        gaz[key] |= _words(_name_of(x) for x in v)
    gaz["street"] |= {"apt", "suite", "unit", "box", "po", "psc", "floor", "flat", "no"}
    return gaz


_PERSON_T = (
    "My name is {p}.", "Hi, this is {p}, I ordered a jacket last week.", "Please ship it to {p}.",
    "{p} left a great review.", "Can {p} pick up the parcel for me?", "I spoke with {p} at support.",
    "Thanks {p}, the refund arrived.", "The account belongs to {p}", "Dear {p},",
    "Regards,\n{p}", "gift for {p} - please wrap it", "Contact person: {p}",
    "I am writing on behalf of {p} who bought the shoes.", "{p} and {q} both ordered the same lamp.",
    "Is {p} allowed to use my store credit?", "Order placed by {p} yesterday",
    "Name: {p}\nEmail: on file", "Please change the name on my account to {p}.",
    "{p} said the size runs small.", "My husband {p} received a broken mug.",
    "Ask {p} about the return.", "Best, {p}", "Signed for by {p} at the door",
    "I'd like to add {p} as an authorised user", "Sent from {p}'s phone",
    "{p}: is my parcel on the way?", "Agent: hello {p}, how can I help?",
    "We bought it for {p}, {q} and {r}.", "{p} told {q} the charger was faulty.",
    "The courier handed it to {p}'s neighbour.", "Was it {p} or {q} who called?",
    "According to {p}, the stitching came loose.", "{p} wrote: the lamp flickers.",
    "Refund it to {p} please", "{p}'s order is missing a sock.", "Hello, I'm {p}",
    "my daughter {p} needs a new size", "I reviewed the book by {p} last year.",
    "Customer {p} complained twice.", "Can you confirm the recipient is {p}?",
    "{p}\n{q}", "Spoke to {p} and {q} on the phone.", "This was recommended by {p}.",
    "Surname: {p}", "Hi {p}!", "Thank you, {p}.", "{p} (the account owner) approved it.",
)  # fmt: skip
_ADDR_T = (
    "Please deliver to {a}.", "My new address is {a}", "Ship to: {a}",
    "I moved to {a} last month, please update my profile.", "The parcel went to {a} by mistake.",
    "{p}\n{a}", "Billing address: {a}", "Send the replacement to {p}, {a}.",
    "Can you change the delivery address to {a}?", "Return label from {a} please",
    "{p} lives at {a}", "Address:\n{a}", "I live at {a} and the courier never came.",
    "{p}\n\n{a}", "> {p}\n> {a}", "{a}", "From: {p}\nTo: {a}", "Invoice address\n{p}\n{a}",
    "Our band played in {c} last year.", "The {c} branch was closed.", "I flew to {c} on Monday.",
    "Our office is at {a}.", "Deliver to {p} at {a} before Friday.",
)  # fmt: skip
_NEG_T = (
    "The {w} arrived two days late but works fine.", "I love this {w}, five stars!",
    "Can I return the {w} if it does not fit?", "Where is my order? It has been a week.",
    "The colour is different from the picture.", "Great value for money, would buy again.",
    "Customer service was quick to answer.", "Does this {w} come in a larger size?",
    "The box was damaged but the {w} is OK.", "Please cancel my subscription.",
    "I was charged twice for the same order.", "Shipping to Europe takes how long?",
    "Made in Italy, the quality of the {w} is excellent.", "Works with Apple and Samsung phones.",
    "The New York store had it cheaper.", "Bought it on Black Friday, very happy.",
    "Amazon Basics version is better.", "Monday delivery would be great.",
)  # fmt: skip
_NOUNS = ("lamp", "jacket", "mug", "charger", "sofa", "backpack", "kettle", "dress", "blender")
_TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Mrs", "Miss", "Prof.")


def _person(fake: Faker, rng: np.random.Generator) -> tuple[str, str]:
    """(prefix kept out of the span, the person's name)."""
    r = rng.random()
    first, last = fake.first_name(), fake.last_name()
    if r < 0.55:
        return "", f"{first} {last}"
    if r < 0.65:
        return "", f"{first} {chr(65 + int(rng.integers(0, 26)))}. {last}"
    if r < 0.75:
        return "", f"{first} {chr(65 + int(rng.integers(0, 26)))} {last}"
    if r < 0.85:
        return _TITLES[int(rng.integers(0, len(_TITLES)))] + " ", last
    if r < 0.92:
        return "", first
    return "", f"{last}, {first}" if rng.random() < 0.3 else f"{first} {last}".upper()


def _city(fake: Faker) -> str:
    # Some locales (it_IT) build their city list from a set, so fake.city() changes
    # with PYTHONHASHSEED; a sorted copy keeps training reproducible.
    for provider in fake.providers:
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list | tuple) and cities:
            return str(fake.random_element(tuple(sorted(cities))))
    return str(fake.city())


def _address(fake: Faker, rng: np.random.Generator) -> str:
    street = fake.street_address().replace("\n", ", ")
    city = _city(fake)
    post = fake.postcode()
    country = fake.current_country() if rng.random() < 0.5 else ""
    r = rng.random()
    if r < 0.3:
        s = f"{street}, {city} {post}"
    elif r < 0.5:
        s = f"{street}\n{post} {city}"
    elif r < 0.65:
        s = f"{street}\n{city}, {post}"
    elif r < 0.75:
        s = f"{street}, {city}"
    elif r < 0.85:
        s = f"{street}\nApt. {int(rng.integers(1, 999))}\n{city}\n{country or 'Spain'} {post}"
    else:
        s = street
    if country and rng.random() < 0.4 and "\n" not in s[-20:]:
        s = f"{s}, {country}"
    m = re.match(r"\d+", s)
    if m and rng.random() < 0.15:
        # house numbers with a letter: 221B, 12a
        s = s[: m.end()] + "ABCDabc"[int(rng.integers(0, 7))] + s[m.end() :]
    if rng.random() < 0.2 and s[:1].isalpha():
        # a building number before a street that already carries one
        s = f"{int(rng.integers(1, 99999))} {s}"
    if "\n" in s and rng.random() < 0.3:
        sep = ("\n ", "\n> ", "\n- ", "\n| ", "\n\n ")[int(rng.integers(0, 5))]
        s = s.replace("\n", sep)
    return s


def synth_sentences(
    n: int, *, random_state: int = 0, locales: Iterable[str] = LOCALES
) -> tuple[list[str], list[list[tuple[str, int, int]]]]:
    """``n`` template sentences and their spans ``(label, start, end)``."""
    rng = np.random.default_rng(random_state)
    fakes = []
    for k, loc in enumerate(locales):
        f = Faker(loc)
        f.seed_instance(random_state * 1000 + k)
        fakes.append(f)
    texts: list[str] = []
    labels: list[list[tuple[str, int, int]]] = []
    for _ in range(n):
        fake = fakes[int(rng.integers(0, len(fakes)))]
        r = rng.random()
        if r < 0.45:
            tpl = _PERSON_T[int(rng.integers(0, len(_PERSON_T)))]
        elif r < 0.85:
            tpl = _ADDR_T[int(rng.integers(0, len(_ADDR_T)))]
        else:
            tpl = _NEG_T[int(rng.integers(0, len(_NEG_T)))]
        text = ""
        spans: list[tuple[str, int, int]] = []
        for part in re.split(r"(\{[pqrawc]\})", tpl):
            if part in ("{p}", "{q}", "{r}"):
                pre, name = _person(fake, rng)
                text += pre
                spans.append(("PERSON", len(text), len(text) + len(name)))
                text += name
            elif part == "{a}":
                addr = _address(fake, rng)
                spans.append(("POSTAL_ADDRESS", len(text), len(text) + len(addr)))
                text += addr
            elif part == "{c}":
                text += _city(fake) if rng.random() < 0.7 else fake.current_country()
            elif part == "{w}":
                text += _NOUNS[int(rng.integers(0, len(_NOUNS)))]
            else:
                text += part
        if rng.random() < 0.15:
            text = text.lower()
        texts.append(text)
        labels.append(spans)
    return texts, labels
