"""A realistic, deterministic synthetic online store.

:func:`generate_store` builds six tables (customers, products, sessions,
orders, transactions, reviews) from one seed; :func:`write_store` writes them
atomically as CSV or Parquet, and :func:`shopguard.store.schema.load_store`
reads them back (or a store's own data in the same layout).

What the data is made to contain, so the reference models have something to
learn and the detectors something to find:

* customers from a mix of locales (Faker, seeded per run) with test card
  numbers that pass Luhn, a home IP, a signup device and a jurisdiction;
* products in realistic categories with category-dependent log-normal prices
  and a long-tailed popularity;
* browsing sessions driven by per-customer category preferences, with
  co-purchase pairs (shoes with apparel, accessories with electronics...);
* payments in the layout of the *Reproducible Machine Learning for Credit Card
  Fraud Detection* handbook (``TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID,
  TERMINAL_ID, TX_AMOUNT, TX_FRAUD``) plus online-store signals;
* fraud from five named patterns (:data:`FRAUD_PATTERNS`) at about 1 % of
  transactions, learnable from the signals but blurred by legitimate noise
  (travellers, second devices, gifts shipped elsewhere, welcome discounts);
* reviews written from category vocabularies, whose helpful votes grow with
  length, specificity and verified purchase.

Every personal-looking value is synthetic: e-mail domains are the reserved
``example.*`` names, card numbers sit on well-known test BINs, and IP
addresses come from a made-up country map (:data:`IP_PREFIXES`).

References
----------
Le Borgne, Siblini, Lebichot, Bontempi, *Reproducible Machine Learning for
Credit Card Fraud Detection - Practical Handbook*, Université Libre de
Bruxelles, 2022. https://fraud-detection-handbook.github.io/fraud-detection-handbook/
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from faker import Faker

from shopguard.core.errors import ShopguardError

__all__ = [
    "CARD_TEST_BINS",
    "CATEGORIES",
    "COUNTRIES",
    "DEFAULT_START",
    "FRAUD_PATTERNS",
    "IP_PREFIXES",
    "PROMO_DISCOUNTS",
    "TABLES",
    "StoreData",
    "add_sensitive_attributes",
    "generate_store",
    "ip_country",
    "write_store",
]

#: The store's tables, in dependency order.
TABLES: tuple[str, ...] = ("customers", "products", "sessions", "orders", "transactions", "reviews")

#: Default first day of the generated window. Fixed (not "today") so a seed
#: always gives the same bytes.
DEFAULT_START = date(2025, 1, 6)

#: The named fraud patterns written to ``transactions.fraud_pattern``.
FRAUD_PATTERNS: tuple[str, ...] = (
    "card_testing",
    "account_takeover",
    "stolen_card",
    "promo_abuse",
    "friendly_fraud",
)

#: Test BIN prefixes (Visa 4111 11 / 4000 00 / 4242 42, Mastercard 5555 55 /
#: 5105 10 / 2223 00); every generated card number is 16 digits and passes Luhn.
CARD_TEST_BINS: tuple[str, ...] = ("411111", "400000", "424242", "555555", "510510", "222300")

# country code, Faker locale, share of customers
COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("US", "en_US", 0.40),
    ("GB", "en_GB", 0.14),
    ("DE", "de_DE", 0.14),
    ("FR", "fr_FR", 0.11),
    ("ES", "es_ES", 0.07),
    ("IT", "it_IT", 0.07),
    ("NL", "nl_NL", 0.07),
)
_EU = frozenset({"DE", "FR", "ES", "IT", "NL"})
# Where travellers go and where fraud traffic comes from (never customer homes).
_TRAVEL = ("CA", "MX", "JP", "TH", "PT", "CH")
_FRAUD_ORIGINS = ("BR", "NG", "RU", "VN", "RO", "ID", "CN")

#: Synthetic IP map: first octet -> country. Made up for the generator; it is
#: not a real geolocation table.
IP_PREFIXES: dict[str, tuple[int, ...]] = {
    "US": (24, 50, 64, 68, 73, 98),
    "GB": (51, 81, 86),
    "DE": (46, 79, 84),
    "FR": (37, 82, 90),
    "ES": (83, 88),
    "IT": (87, 93),
    "NL": (77, 145),
    "CA": (142,),
    "MX": (187,),
    "JP": (126,),
    "TH": (171,),
    "PT": (89,),
    "CH": (178,),
    "BR": (177, 179),
    "NG": (102, 105),
    "RU": (95, 176),
    "VN": (113, 115),
    "RO": (188,),
    "ID": (36, 110),
    "CN": (58, 60),
}
_ALL_IP_COUNTRIES = tuple(IP_PREFIXES)
_OCTET_COUNTRY: dict[int, str] = {o: c for c, octs in IP_PREFIXES.items() for o in octs}

#: Discount (fraction of the order total) per promotion code.
PROMO_DISCOUNTS: dict[str, float] = {"WELCOME10": 0.10, "SPRING15": 0.15, "FIRST20": 0.20}

# Fashion-MNIST classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat,
# 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
# category -> (share of catalogue, median price, log-sd, nouns with image slot or None)
CATEGORIES: dict[str, tuple[float, float, float, tuple[tuple[str, int | None], ...]]] = {
    "electronics": (
        0.14,
        110.0,
        0.95,
        (
            ("wireless earbuds", None),
            ("bluetooth speaker", None),
            ("smartwatch", None),
            ("tablet", None),
            ("noise-cancelling headphones", None),
            ("portable charger", None),
            ("mechanical keyboard", None),
            ("webcam", None),
            ("e-reader", None),
            ("action camera", None),
        ),
    ),
    "apparel": (
        0.18,
        32.0,
        0.50,
        (
            ("t-shirt", 0),
            ("jeans", 1),
            ("chinos", 1),
            ("pullover", 2),
            ("hoodie", 2),
            ("dress", 3),
            ("rain coat", 4),
            ("wool coat", 4),
            ("oxford shirt", 6),
            ("linen shirt", 6),
        ),
    ),
    "shoes": (
        0.09,
        70.0,
        0.45,
        (("sandals", 5), ("running sneakers", 7), ("canvas sneakers", 7), ("ankle boots", 9)),
    ),
    "bags": (
        0.05,
        55.0,
        0.60,
        (("backpack", 8), ("tote bag", 8), ("crossbody bag", 8), ("weekender bag", 8)),
    ),
    "home": (
        0.13,
        35.0,
        0.80,
        (
            ("coffee grinder", None),
            ("cast iron skillet", None),
            ("bed sheet set", None),
            ("desk lamp", None),
            ("storage basket", None),
            ("chef's knife", None),
            ("throw blanket", None),
        ),
    ),
    "toys": (
        0.09,
        22.0,
        0.60,
        (
            ("building block set", None),
            ("plush bear", None),
            ("puzzle", None),
            ("board game", None),
            ("remote-control car", None),
        ),
    ),
    "sports": (
        0.09,
        40.0,
        0.80,
        (
            ("yoga mat", None),
            ("dumbbell set", None),
            ("water bottle", None),
            ("cycling helmet", None),
            ("tennis racket", None),
        ),
    ),
    "beauty": (
        0.09,
        18.0,
        0.50,
        (
            ("face moisturiser", None),
            ("shampoo", None),
            ("lip balm set", None),
            ("sunscreen", None),
            ("perfume", None),
        ),
    ),
    "books": (
        0.14,
        14.0,
        0.35,
        (
            ("mystery novel", None),
            ("cookbook", None),
            ("science fiction novel", None),
            ("travel guide", None),
            ("biography", None),
            ("children's picture book", None),
        ),
    ),
}
_CAT_NAMES = tuple(CATEGORIES)
# What is bought together with what (co-purchase structure for the recommender).
_COMPLEMENT = {
    "electronics": "electronics",
    "apparel": "shoes",
    "shoes": "apparel",
    "bags": "apparel",
    "home": "home",
    "toys": "books",
    "sports": "apparel",
    "beauty": "beauty",
    "books": "books",
}
_BRANDS = (
    "Northwind",
    "Altura",
    "Brightline",
    "Kestrel",
    "Lumen & Co",
    "Oakhaven",
    "Pinecrest",
    "Solace",
    "Tidewater",
    "Vantage",
    "Wren",
    "Zephyr",
)
_ADJECTIVES = (
    "Classic",
    "Essential",
    "Pro",
    "Everyday",
    "Compact",
    "Premium",
    "Eco",
    "Urban",
    "Lite",
    "Signature",
)
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
_US_STATES_OTHER = (
    "NY",
    "TX",
    "FL",
    "IL",
    "PA",
    "OH",
    "GA",
    "NC",
    "MI",
    "NJ",
    "VA",
    "WA",
    "AZ",
    "MA",
    "CO",
)
_N_TERMINALS = 24  # 3 payment providers x 8 endpoints
_WEAK_TERMINALS = np.array([5, 6, 7, 13, 14, 15, 21, 22, 23])  # endpoints without 3-D Secure
_DAY = 86_400

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class StoreData:
    """The store's tables.

    ``customers``, ``products``, ``orders`` and ``transactions`` always hold
    rows; ``sessions`` and ``reviews`` may be empty (a store's own data need
    not have them). Column lists and types are in :mod:`shopguard.store.schema`.
    """

    customers: pd.DataFrame
    products: pd.DataFrame
    sessions: pd.DataFrame
    orders: pd.DataFrame
    transactions: pd.DataFrame
    reviews: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        """Return the table called ``name`` (one of :data:`TABLES`)."""
        if name not in TABLES:
            raise KeyError(name)
        frame: pd.DataFrame = getattr(self, name)
        return frame


# --------------------------------------------------------------------------- helpers


def _luhn_complete(bodies: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of 15 digits; returns (n, 16) digits."""
    n_body = bodies.shape[1]
    doubled = bodies.copy()
    # Positions that are doubled: every second digit counting left from the check digit.
    idx = np.arange(n_body - 1, -1, -2)
    d2 = doubled[:, idx] * 2
    doubled[:, idx] = np.where(d2 > 9, d2 - 9, d2)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.concatenate([bodies, check[:, None]], axis=1)


def _card_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    bins = np.array([[int(ch) for ch in b] for b in CARD_TEST_BINS])
    prefix = bins[rng.integers(0, len(CARD_TEST_BINS), n)]
    body = np.concatenate([prefix, rng.integers(0, 10, (n, 9))], axis=1)
    digits = _luhn_complete(body)
    chars = (digits + ord("0")).astype(np.uint8)
    return np.array([row.tobytes().decode("ascii") for row in chars], dtype=object)


def _ips(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    """One IPv4 address (as uint32) per country code in ``countries``."""
    n = len(countries)
    first = np.empty(n, dtype=np.int64)
    for code in np.unique(countries):
        mask = countries == code
        prefixes = np.array(IP_PREFIXES[str(code)])
        first[mask] = prefixes[rng.integers(0, len(prefixes), int(mask.sum()))]
    rest = rng.integers(0, 256, (n, 2))
    last = rng.integers(1, 255, n)
    return (first << 24) | (rest[:, 0] << 16) | (rest[:, 1] << 8) | last


def _ip_str(ips: np.ndarray) -> list[str]:
    ips = ips.astype(np.int64)
    return [f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}" for v in ips.tolist()]


def _dev_str(devs: np.ndarray) -> list[str]:
    return [f"dev-{v:012x}" for v in devs.astype(np.int64).tolist()]


def _new_devices(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(1, 2**47, n, dtype=np.int64)


def ip_country(ip_addresses: pd.Series) -> pd.Series:
    """Country code of each address under the generator's synthetic map (:data:`IP_PREFIXES`).

    Addresses outside the map give an empty string.
    """
    first = ip_addresses.astype(str).str.split(".", n=1).str[0]
    return first.map(lambda s: _OCTET_COUNTRY.get(int(s), "") if s.isdigit() else "").astype(str)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _sample_from(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.asarray(np.minimum(idx, len(cdf) - 1), dtype=np.int64)


def _seconds(start: pd.Timestamp, secs: np.ndarray) -> pd.Series:
    out = start + pd.to_timedelta(np.asarray(secs, dtype=np.int64), unit="s")
    return pd.Series(out).astype("datetime64[us]")


# --------------------------------------------------------------------------- customers


@dataclass
class _Customers:
    frame: pd.DataFrame
    country: np.ndarray  # country code per customer
    created: np.ndarray  # signup, seconds from window start (may be negative)
    device: np.ndarray  # signup device (int)
    device2: np.ndarray  # a second device some customers use
    ip: np.ndarray  # home IP (uint32 as int64)
    card: np.ndarray  # card number (str)
    pref: np.ndarray  # (n, n_categories) category preferences
    activity: np.ndarray  # expected sessions over the window
    travel: np.ndarray  # probability a session is from abroad
    second_device: np.ndarray  # probability a session is on device2
    gift: np.ndarray  # probability an order ships to someone else
    reserved: np.ndarray  # bool: held back as fraudster accounts


def _city_pool(fake: Faker) -> tuple[str, ...]:
    # Some locales (it_IT) build their city list from a set, so its order -- and
    # with it fake.city() -- changes with PYTHONHASHSEED. A sorted copy is stable.
    for provider in fake.providers:
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list | tuple) and cities:
            return tuple(sorted(cities))
    return ()


def _gen_customers(rng: np.random.Generator, seed: int, n: int, days: int) -> _Customers:
    codes = np.array([c for c, _, _ in COUNTRIES])
    shares = np.array([s for _, _, s in COUNTRIES])
    country = codes[rng.choice(len(codes), n, p=shares / shares.sum())]
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    street = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    postcode = np.empty(n, dtype=object)
    phone = np.empty(n, dtype=object)
    jurisdiction = np.empty(n, dtype=object)
    for k, (code, locale, _) in enumerate(COUNTRIES):
        idx = np.flatnonzero(country == code)
        fake = Faker(locale)
        fake.seed_instance(seed * 101 + k)
        city_pool = _city_pool(fake)
        if code == "US":
            states = np.where(
                rng.random(len(idx)) < 0.12,
                "CA",
                np.array(_US_STATES_OTHER)[rng.integers(0, len(_US_STATES_OTHER), len(idx))],
            )
        for j, i in enumerate(idx.tolist()):
            first[i] = fake.first_name()
            last[i] = fake.last_name()
            street[i] = fake.street_address().replace("\n", ", ")
            city[i] = fake.random_element(city_pool) if city_pool else fake.city()
            phone[i] = fake.phone_number()
            if code == "US":
                state = str(states[j])
                postcode[i] = fake.postcode_in_state(state)
                jurisdiction[i] = "US-CA" if state == "CA" else "US"
            else:
                postcode[i] = fake.postcode()
                jurisdiction[i] = "EU" if code in _EU else "UK"
    num = rng.integers(1, 999, n)
    style = rng.integers(0, 3, n)
    domain = np.array(_EMAIL_DOMAINS)[rng.integers(0, len(_EMAIL_DOMAINS), n)]
    emails = []
    for f, la, s, d, dom in zip(first, last, style, num, domain, strict=True):
        f_, l_ = _ascii(f) or "user", _ascii(la) or "shopper"
        local = (f"{f_}.{l_}", f"{f_[0]}{l_}{d}", f"{f_}{d}")[int(s)]
        emails.append(f"{local}@{dom}")

    created = np.where(
        rng.random(n) < 0.82,
        -rng.integers(_DAY, 3 * 365 * _DAY, n),
        rng.integers(0, days * _DAY, n),
    )
    age_days = np.clip(rng.normal(41, 13, n), 18, 88) * 365.25
    dob_days = (-age_days).astype(np.int64)
    device = _new_devices(rng, n)
    ip = _ips(rng, country)
    card = _card_numbers(rng, n)

    cat_w = np.array([CATEGORIES[c][0] for c in _CAT_NAMES])
    pref = rng.dirichlet(cat_w * len(cat_w) * 0.35, size=n)
    activity = np.exp(rng.normal(np.log(4.0), 0.8, n)) * days / 90.0
    travel = np.where(rng.random(n) < 0.12, rng.uniform(0.05, 0.4, n), 0.0)
    second_device = np.where(rng.random(n) < 0.45, rng.beta(1.5, 4.0, n), 0.0)
    gift = np.where(rng.random(n) < 0.2, rng.uniform(0.05, 0.3, n), 0.01)
    reserved = np.zeros(n, dtype=bool)
    n_reserved = min(n // 4, max(15, round(0.012 * n)))
    reserved[rng.choice(n, n_reserved, replace=False)] = True
    activity[reserved] = 0.0

    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i + 1:06d}" for i in range(n)],
            "name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "email": emails,
            "phone": phone,
            "street": street,
            "city": city,
            "postcode": postcode,
            "country": country,
            "date_of_birth": dob_days,  # converted once the start date is known
            "card_number": card,
            "ip_address": _ip_str(ip),
            "device_id": _dev_str(device),
            "created_at": created,
            "jurisdiction": jurisdiction,
        }
    )
    return _Customers(
        frame=frame,
        country=country,
        created=created,
        device=device,
        device2=_new_devices(rng, n),
        ip=ip,
        card=card,
        pref=pref,
        activity=activity,
        travel=travel,
        second_device=second_device,
        gift=gift,
        reserved=reserved,
    )


# --------------------------------------------------------------------------- products


@dataclass
class _Products:
    frame: pd.DataFrame
    cat: np.ndarray  # category index
    noun: np.ndarray
    price: np.ndarray
    quality: np.ndarray
    by_cat: list[np.ndarray]  # product indices per category
    cdf_by_cat: list[np.ndarray]  # popularity CDF within category
    popularity: np.ndarray
    partner: np.ndarray  # co-purchase partner product index


def _gen_products(rng: np.random.Generator, n_customers: int, days: int) -> _Products:
    n = int(np.clip(n_customers // 8, 60, 5000))
    shares = np.array([CATEGORIES[c][0] for c in _CAT_NAMES])
    cat = np.sort(rng.choice(len(_CAT_NAMES), n, p=shares / shares.sum()))
    names, nouns, slots = [], [], []
    price = np.empty(n)
    for c, cname in enumerate(_CAT_NAMES):
        idx = np.flatnonzero(cat == c)
        _, median, sigma, noun_list = CATEGORIES[cname]
        price[idx] = median * np.exp(rng.normal(0.0, sigma, len(idx)))
    brand = rng.integers(0, len(_BRANDS), n)
    adj = rng.integers(0, len(_ADJECTIVES), n)
    noun_pick = rng.random(n)
    for i in range(n):
        noun_list = CATEGORIES[_CAT_NAMES[cat[i]]][3]
        noun, slot = noun_list[int(noun_pick[i] * len(noun_list))]
        nouns.append(noun)
        slots.append(slot)
        names.append(f"{_BRANDS[brand[i]]} {_ADJECTIVES[adj[i]]} {noun.title()}")
    # Prices end in .99 / .49 / .00 like shop prices.
    cents = np.array([0.99, 0.49, 0.0])[rng.choice(3, n, p=[0.6, 0.25, 0.15])]
    price = np.maximum(np.floor(np.maximum(price, 1.0)) + cents, 0.99)
    price = np.round(price, 2)
    # Long tail: Zipf-like weights over a random ranking inside each category.
    popularity = np.empty(n)
    by_cat, cdf_by_cat = [], []
    for c in range(len(_CAT_NAMES)):
        idx = np.flatnonzero(cat == c)
        ranks = rng.permutation(len(idx)) + 1
        popularity[idx] = 1.0 / ranks**1.1
        by_cat.append(idx)
        cdf_by_cat.append(np.cumsum(popularity[idx]))
    partner = np.empty(n, dtype=np.int64)
    for c, cname in enumerate(_CAT_NAMES):
        idx = by_cat[c]
        pc = _CAT_NAMES.index(_COMPLEMENT[cname])
        partner[idx] = by_cat[pc][_sample_from(rng, cdf_by_cat[pc], len(idx))]
    created = -rng.integers(_DAY, 2 * 365 * _DAY, n)
    late = rng.random(n) < 0.05  # a few products launch during the window
    created[late] = rng.integers(0, max(days // 2, 1) * _DAY, int(late.sum()))
    frame = pd.DataFrame(
        {
            "product_id": [f"P{i + 1:05d}" for i in range(n)],
            "name": names,
            "category": np.array(_CAT_NAMES)[cat],
            "price": price,
            "image_slot": pd.array(slots, dtype="Int64"),
            "created_at": created,
        }
    )
    return _Products(
        frame=frame,
        cat=cat,
        noun=np.array(nouns, dtype=object),
        price=price,
        quality=rng.normal(0.0, 1.0, n),
        by_cat=by_cat,
        cdf_by_cat=cdf_by_cat,
        popularity=popularity,
        partner=partner,
    )


def _pick_products(
    rng: np.random.Generator,
    prods: _Products,
    cats: np.ndarray,
    product_created: np.ndarray,
    times: np.ndarray,
) -> np.ndarray:
    out = np.empty(len(cats), dtype=np.int64)
    for c in range(len(_CAT_NAMES)):
        mask = cats == c
        k = int(mask.sum())
        if k:
            out[mask] = prods.by_cat[c][_sample_from(rng, prods.cdf_by_cat[c], k)]
    # A product cannot be viewed before it launches: fall back to its partner's
    # category bestseller, which always exists before the window.
    early = product_created[out] > times
    if early.any():
        fallback = np.array(
            [
                prods.by_cat[c][np.argmax(prods.popularity[prods.by_cat[c]])]
                for c in range(len(_CAT_NAMES))
            ]
        )
        out[early] = fallback[cats[early]]
    return out


# --------------------------------------------------------------------------- legit activity


@dataclass
class _Activity:
    # sessions
    s_cust: np.ndarray
    s_time: np.ndarray
    s_device: np.ndarray
    s_ip: np.ndarray
    s_ipc: np.ndarray  # ip country code
    s_nviews: np.ndarray
    s_views: list[np.ndarray]
    s_devnew: np.ndarray
    # orders (one per converting session) and their lines
    o_session: np.ndarray
    o_time: np.ndarray
    o_ship_from: np.ndarray  # customer whose address the order ships to
    o_promo: np.ndarray
    l_order: np.ndarray
    l_product: np.ndarray
    l_qty: np.ndarray


def _gen_activity(
    rng: np.random.Generator, cust: _Customers, prods: _Products, days: int
) -> _Activity:
    n = len(cust.country)
    end = days * _DAY
    lo = np.maximum(cust.created, 0)
    active = (end - lo) / end
    n_sess = rng.poisson(cust.activity * active)
    s_cust = np.repeat(np.arange(n), n_sess)
    m = len(s_cust)
    s_lo = lo[s_cust]
    t = s_lo + (rng.random(m) * (end - s_lo - 3600)).astype(np.int64)
    # Diurnal rhythm: keep the day, redraw the hour (evenings busiest).
    hours_w = np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1,
            2,
            3,
            3.5,
            3.8,
            4,
            4.2,
            4,
            3.8,
            3.8,
            4,
            4.5,
            5.5,
            6.5,
            7,
            6,
            4,
            2,
        ]
    )
    hour = _sample_from(rng, np.cumsum(hours_w), m)
    t2 = (t // _DAY) * _DAY + hour * 3600 + rng.integers(0, 3600, m)
    t = np.where((t2 >= s_lo) & (t2 < end - 3600), t2, t)
    order = np.lexsort((s_cust, t))
    s_cust, t = s_cust[order], t[order]

    # Devices: signup device, a second device, now and then a brand-new one.
    u = rng.random(m)
    churn = u < 0.02
    second = (~churn) & (u < 0.02 + cust.second_device[s_cust])
    s_device = np.where(second, cust.device2[s_cust], cust.device[s_cust])
    s_device = np.where(churn, _new_devices(rng, m), s_device)
    # IPs: home, a new address from the home ISP, or abroad when travelling.
    home_c = cust.country[s_cust]
    v = rng.random(m)
    abroad = v < cust.travel[s_cust]
    dyn = (~abroad) & (v < cust.travel[s_cust] + 0.25)
    s_ipc = home_c.copy()
    s_ipc[abroad] = np.array(_TRAVEL + tuple(c for c, _, _ in COUNTRIES))[
        rng.integers(0, len(_TRAVEL) + len(COUNTRIES), int(abroad.sum()))
    ]
    s_ipc = np.where(abroad & (s_ipc == home_c), "CA", s_ipc)
    s_ip = np.where(abroad | dyn, _ips(rng, s_ipc), cust.ip[s_cust])

    # device first seen: signup for the signup device, first session otherwise
    df = pd.DataFrame({"c": s_cust, "d": s_device, "t": t})
    first_seen = df.groupby(["c", "d"], sort=False)["t"].transform("min").to_numpy()
    first_seen = np.where(
        s_device == cust.device[s_cust], np.minimum(first_seen, cust.created[s_cust]), first_seen
    )
    s_devnew = ((t - first_seen) < _DAY).astype(np.int64)

    # Page views: mostly the session's category, by popularity.
    n_cats = len(_CAT_NAMES)
    cdf = np.cumsum(cust.pref[s_cust], axis=1)
    s_cat = np.minimum((cdf < rng.random(m)[:, None]).sum(axis=1), n_cats - 1)
    engagement = np.exp(rng.normal(0, 0.5, n))[s_cust]
    s_nviews = 1 + rng.poisson(3.0 * engagement)
    v_sess = np.repeat(np.arange(m), s_nviews)
    v_cat = s_cat[v_sess].copy()
    stray = rng.random(len(v_sess)) < 0.15
    v_cat[stray] = rng.integers(0, n_cats, int(stray.sum()))
    p_created = prods.frame["created_at"].to_numpy()
    v_prod = _pick_products(rng, prods, v_cat, p_created, t[v_sess])
    offsets = np.concatenate([[0], np.cumsum(s_nviews)])
    s_views = np.split(v_prod, offsets[1:-1])

    # Conversion: longer sessions convert more; each order buys a viewed product.
    p_conv = 1.0 / (1.0 + np.exp(-(-2.3 + 0.22 * s_nviews)))
    conv = np.flatnonzero(rng.random(m) < p_conv)
    k = len(conv)
    main = v_prod[offsets[conv] + (rng.random(k) * s_nviews[conv]).astype(np.int64)]
    o_time = t[conv] + (s_nviews[conv] * rng.integers(40, 150, k)).astype(np.int64)
    o_time = np.minimum(o_time, end - 1)
    l_order = [np.arange(k)]
    l_product = [main]
    pair = rng.random(k) < 0.3
    l_order.append(np.flatnonzero(pair))
    l_product.append(prods.partner[main[pair]])
    extra = rng.random(k) < 0.12
    l_order.append(np.flatnonzero(extra))
    l_product.append(_pick_products(rng, prods, prods.cat[main[extra]], p_created, o_time[extra]))
    l_order_a = np.concatenate(l_order)
    l_product_a = np.concatenate(l_product)
    srt = np.argsort(l_order_a, kind="stable")
    l_order_a, l_product_a = l_order_a[srt], l_product_a[srt]
    # Several lines of the same product merge into one line.
    key = pd.DataFrame({"o": l_order_a, "p": l_product_a}).drop_duplicates()
    l_order_a, l_product_a = key["o"].to_numpy(), key["p"].to_numpy()
    cheap = np.isin(prods.cat[l_product_a], [_CAT_NAMES.index(c) for c in ("books", "beauty")])
    q = rng.random(len(l_order_a))
    l_qty = 1 + (q < np.where(cheap, 0.25, 0.1)).astype(np.int64) + (q < 0.03).astype(np.int64)

    o_cust = s_cust[conv]
    gift = rng.random(k) < cust.gift[o_cust]
    o_ship_from = np.where(gift, rng.integers(0, n, k), o_cust)
    # Welcome discount on a new customer's first order; a seasonal code now and then.
    first_order = ~pd.Series(o_cust).duplicated().to_numpy()
    new_acct = cust.created[o_cust] > 0
    o_promo = np.full(k, "", dtype=object)
    o_promo[first_order & new_acct & (rng.random(k) < 0.45)] = "WELCOME10"
    spring = (o_promo == "") & (rng.random(k) < 0.04)
    o_promo[spring] = "SPRING15"
    return _Activity(
        s_cust=s_cust,
        s_time=t,
        s_device=s_device,
        s_ip=s_ip,
        s_ipc=s_ipc,
        s_nviews=s_nviews,
        s_views=s_views,
        s_devnew=s_devnew,
        o_session=conv,
        o_time=o_time,
        o_ship_from=o_ship_from,
        o_promo=o_promo,
        l_order=l_order_a,
        l_product=l_product_a,
        l_qty=l_qty,
    )


# --------------------------------------------------------------------------- fraud


@dataclass
class _Order:
    """One order being built (fraud orders are few, so plain objects are fine)."""

    cust: int
    time: int
    device: int
    ip: int
    ipc: str
    devnew: int
    card: str
    billing: str
    ship_from: int
    sbm: int
    promo: str
    status: str
    pattern: str
    weak_terminal_p: float
    lines: list[tuple[int, int]]


def _gen_fraud(
    rng: np.random.Generator,
    cust: _Customers,
    prods: _Products,
    act: _Activity,
    days: int,
) -> list[_Order]:
    n = len(cust.country)
    end = days * _DAY
    n_legit = len(act.o_time)
    target = n_legit * rng.uniform(0.010, 0.014)
    shares = {
        "card_testing": 0.30,
        "account_takeover": 0.20,
        "stolen_card": 0.25,
        "promo_abuse": 0.15,
        "friendly_fraud": 0.10,
    }
    minimum = {
        "card_testing": 6,
        "account_takeover": 2,
        "stolen_card": 2,
        "promo_abuse": 3,
        "friendly_fraud": 2,
    }
    # Minimums keep every pattern present in a mid-sized store; a tiny store
    # (a few hundred orders) gets only what its size allows, maybe nothing.
    floor = minimum if n_legit >= 500 else dict.fromkeys(minimum, 0)
    budget = {p: max(floor[p], round(target * s)) for p, s in shares.items()}
    pool = list(rng.permutation(np.flatnonzero(cust.reserved)))
    launched = np.flatnonzero(prods.frame["created_at"].to_numpy() < 0)
    by_price = launched[np.argsort(prods.price[launched], kind="stable")]
    n_p = len(by_price)
    cheap = by_price[: max(3, n_p // 12)]
    pricey = by_price[-max(3, n_p // 10) :]
    midhigh = by_price[n_p // 2 : -max(3, n_p // 10)] if n_p > 10 else by_price
    home_codes = np.array([c for c, _, _ in COUNTRIES])
    orders: list[_Order] = []

    def take_account(t_attack: int, max_age: int) -> int | None:
        if not pool:
            return None
        c = int(pool.pop())
        cust.created[c] = t_attack - int(rng.integers(300, max_age))
        return c

    def foreign_ip() -> tuple[int, str]:
        code = str(_FRAUD_ORIGINS[rng.integers(0, len(_FRAUD_ORIGINS))])
        return int(_ips(rng, np.array([code]))[0]), code

    def fresh_card() -> str:
        return str(_card_numbers(rng, 1)[0])

    # card_testing: bursts of small orders, minutes apart, one device/IP, many cards.
    n_bursts = max(1, round(budget["card_testing"] / 10)) if budget["card_testing"] >= 4 else 0
    sizes = (
        np.maximum(6, rng.multinomial(budget["card_testing"], [1 / n_bursts] * n_bursts))
        if n_bursts
        else np.zeros(0, dtype=np.int64)
    )
    for size in sizes.tolist():
        t = int(rng.integers(0, end - 3 * 3600))
        c = take_account(t, 2 * _DAY)
        if c is None:
            break
        dev = int(_new_devices(rng, 1)[0])
        if rng.random() < 0.6:
            ip, ipc = foreign_ip()
        else:
            ipc = str(cust.country[c])
            ip = int(_ips(rng, np.array([ipc]))[0])
        cust.device[c], cust.ip[c] = dev, ip
        cards = [fresh_card() for _ in range(int(rng.integers(3, 9)))]
        billings = [str(home_codes[rng.integers(0, len(home_codes))]) for _ in cards]
        for j in range(size):
            t += int(rng.exponential(45.0)) + 5
            k = j % len(cards)
            orders.append(
                _Order(
                    cust=c,
                    time=min(t, end - 1),
                    device=dev,
                    ip=ip,
                    ipc=ipc,
                    devnew=1,
                    card=cards[k],
                    billing=billings[k],
                    ship_from=c,
                    sbm=int(rng.random() < 0.7),
                    promo="",
                    status="declined" if rng.random() < 0.75 else "cancelled",
                    pattern="card_testing",
                    weak_terminal_p=0.85,
                    lines=[(int(cheap[rng.integers(0, len(cheap))]), 1)],
                )
            )

    # account_takeover: an established customer's account, new device + IP,
    # a new shipping address, then one to three high-value orders.
    old = np.flatnonzero((~cust.reserved) & (cust.created < -60 * _DAY))
    n_ato = 0
    while n_ato < budget["account_takeover"] and len(old):
        v = int(old[rng.integers(0, len(old))])
        t = int(rng.integers(0, end - 6 * 3600))
        dev = int(_new_devices(rng, 1)[0])
        if rng.random() < 0.5:
            ip, ipc = foreign_ip()
        else:
            ipc = str(cust.country[v])
            ip = int(_ips(rng, np.array([ipc]))[0])
        drop = int(rng.integers(0, n))
        for _ in range(int(rng.integers(1, 4))):
            t += int(rng.integers(120, 3 * 3600))
            items = [(int(pricey[rng.integers(0, len(pricey))]), int(rng.integers(1, 3)))]
            orders.append(
                _Order(
                    cust=v,
                    time=min(t, end - 1),
                    device=dev,
                    ip=ip,
                    ipc=ipc,
                    devnew=1,
                    card=str(cust.card[v]),
                    billing=str(cust.country[v]),
                    ship_from=drop,
                    sbm=int(rng.random() < 0.92),
                    promo="",
                    status="chargeback" if rng.random() < 0.7 else "delivered",
                    pattern="account_takeover",
                    weak_terminal_p=0.2,
                    lines=items,
                )
            )
            n_ato += 1

    # stolen_card: a fresh account pays with someone else's card from another
    # country, from an IP that matches neither; big baskets.
    n_sc = 0
    while n_sc < budget["stolen_card"]:
        t = int(rng.integers(_DAY, end - _DAY))
        c = take_account(t, 10 * _DAY)
        if c is None:
            break
        ship_c = str(cust.country[c])
        billing = (
            ship_c
            if rng.random() < 0.2
            else str(home_codes[home_codes != ship_c][rng.integers(0, len(home_codes) - 1)])
        )
        if rng.random() < 0.55:
            ip, ipc = foreign_ip()
        else:
            ip, ipc = int(cust.ip[c]), ship_c
        card = fresh_card()
        devnew = int(t - cust.created[c] < _DAY)
        for _ in range(int(rng.integers(1, 3))):
            t += int(rng.integers(60, 8 * 3600))
            items = [(int(pricey[rng.integers(0, len(pricey))]), int(rng.integers(1, 4)))]
            if rng.random() < 0.3:
                items.append((int(pricey[rng.integers(0, len(pricey))]), 1))
            orders.append(
                _Order(
                    cust=c,
                    time=min(t, end - 1),
                    device=int(cust.device[c]),
                    ip=ip,
                    ipc=ipc,
                    devnew=devnew,
                    card=card,
                    billing=billing,
                    ship_from=c,
                    sbm=int(billing != ship_c or rng.random() < 0.6),
                    promo="",
                    status="chargeback" if rng.random() < 0.8 else "cancelled",
                    pattern="stolen_card",
                    weak_terminal_p=0.5,
                    lines=_dedupe(items),
                )
            )
            n_sc += 1

    # promo_abuse: a device cluster opens many new accounts, each spends a
    # first-order code, everything shipped to one drop address.
    n_pa = 0
    while n_pa < budget["promo_abuse"] and pool:
        t = int(rng.integers(0, end - 3 * _DAY))
        devs = _new_devices(rng, int(rng.integers(1, 3)))
        ipc = str(home_codes[rng.integers(0, len(home_codes))])
        ips = _ips(rng, np.array([ipc, ipc]))
        drop = int(rng.integers(0, n))
        code = "FIRST20" if rng.random() < 0.5 else "WELCOME10"
        for _ in range(int(rng.integers(3, 8))):
            t += int(rng.integers(600, 10 * 3600))
            c = take_account(t, 3600)
            if c is None:
                break
            d, ip = int(devs[rng.integers(0, len(devs))]), int(ips[rng.integers(0, 2)])
            cust.device[c], cust.ip[c] = d, ip
            mid = by_price[n_p // 4 : 3 * n_p // 4]
            orders.append(
                _Order(
                    cust=c,
                    time=min(t, end - 1),
                    device=d,
                    ip=ip,
                    ipc=ipc,
                    devnew=1,
                    card=fresh_card(),
                    billing=ipc,
                    ship_from=drop,
                    sbm=int(rng.random() < 0.5),
                    promo=code,
                    status="delivered",
                    pattern="promo_abuse",
                    weak_terminal_p=0.2,
                    lines=[(int(mid[rng.integers(0, len(mid))]), 1)],
                )
            )
            n_pa += 1

    # friendly_fraud: a real customer's ordinary purchase, later charged back.
    buyers = np.unique(act.s_cust[act.o_session])
    for _ in range(budget["friendly_fraud"] if len(buyers) else 0):
        c = int(buyers[rng.integers(0, len(buyers))])
        t = int(rng.integers(max(int(cust.created[c]), 0), end - 3600))
        orders.append(
            _Order(
                cust=c,
                time=t,
                device=int(cust.device[c]),
                ip=int(cust.ip[c]),
                ipc=str(cust.country[c]),
                devnew=int(t - cust.created[c] < _DAY),
                card=str(cust.card[c]),
                billing=str(cust.country[c]),
                ship_from=c,
                sbm=0,
                promo="",
                status="chargeback",
                pattern="friendly_fraud",
                weak_terminal_p=0.2,
                lines=[(int(midhigh[rng.integers(0, len(midhigh))]), 1)],
            )
        )
    return orders


def _dedupe(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: dict[int, int] = {}
    for p, q in items:
        seen[p] = seen.get(p, 0) + q
    return list(seen.items())


# --------------------------------------------------------------------------- reviews

_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "electronics": {
        "aspects": (
            "battery life",
            "sound quality",
            "build quality",
            "screen",
            "connectivity",
            "setup",
            "charging speed",
        ),
        "usage": (
            "my daily commute",
            "working from home",
            "a long-haul flight",
            "the gym",
            "video calls",
        ),
        "details": (
            "the battery lasted about {h} hours on a full charge",
            "pairing with my phone took under {m} seconds",
            "it reconnects on its own every time I switch it on",
            "the firmware update in week {w} fixed the dropouts I had at first",
            "it charges from flat to full in roughly {m} minutes",
        ),
    },
    "apparel": {
        "aspects": ("fit", "fabric", "stitching", "colour", "sizing", "collar"),
        "usage": ("the office", "weekend walks", "travelling", "everyday wear"),
        "details": (
            "I am {cm} cm tall and the size {size} fits true to size",
            "after {w} washes at 30 degrees the colour has not faded",
            "the sleeves are about {cm2} cm longer than on my usual brand",
            "the cotton is thicker than the photos suggest",
        ),
    },
    "shoes": {
        "aspects": ("cushioning", "fit", "grip", "arch support", "sole", "laces"),
        "usage": ("running", "long walks", "standing all day at work", "hiking"),
        "details": (
            "I normally wear a {eu} and ordered the same size, which fits well",
            "after {km} km the sole shows hardly any wear",
            "they needed about {d} days to break in",
            "the toe box is a little narrower than my previous pair",
        ),
    },
    "bags": {
        "aspects": ("zips", "straps", "capacity", "lining", "pockets"),
        "usage": ("my commute", "weekend trips", "carrying a laptop", "travelling"),
        "details": (
            "a {inch} inch laptop fits with room to spare",
            "the straps stayed comfortable with about {kg} kg inside",
            "it stayed dry inside during {d} days of rain",
            "the inner pocket is just big enough for a passport",
        ),
    },
    "home": {
        "aspects": ("quality", "finish", "size", "ease of cleaning", "materials"),
        "usage": ("daily cooking", "a small flat", "our guest room", "the kitchen"),
        "details": (
            "it is about {cm} cm wide, a bit smaller than I expected",
            "after {w} weeks of daily use it still looks new",
            "it goes in the dishwasher without any problems",
            "assembly took me about {m} minutes",
        ),
    },
    "toys": {
        "aspects": ("pieces", "instructions", "durability", "packaging", "age rating"),
        "usage": (
            "my {age}-year-old",
            "a birthday present",
            "rainy afternoons",
            "family game night",
        ),
        "details": (
            "my {age}-year-old finished it in about {h} hours",
            "it survived {w} weeks of rough play so far",
            "all {n} pieces were in the box",
            "the instructions were clear enough for a child to follow",
        ),
    },
    "sports": {
        "aspects": ("grip", "weight", "durability", "padding", "size"),
        "usage": ("home workouts", "my weekly {sport} sessions", "training", "the gym"),
        "details": (
            "I have used it {n} times a week for {w} weeks",
            "it weighs roughly {kg} kg, as advertised",
            "it does not slip even during intense sessions",
            "it folds small enough to fit under the bed",
        ),
    },
    "beauty": {
        "aspects": ("scent", "texture", "packaging", "longevity", "absorption"),
        "usage": ("my morning routine", "sensitive skin", "travel", "everyday use"),
        "details": (
            "one bottle lasted me about {w} weeks",
            "it absorbs within {m} minutes and leaves no residue",
            "I have sensitive skin and had no reaction",
            "the scent lasts around {h} hours",
        ),
    },
    "books": {
        "aspects": ("writing", "plot", "characters", "pacing", "print quality"),
        "usage": ("my book club", "a long weekend", "the holidays", "my commute"),
        "details": (
            "I read all {pages} pages in {d} days",
            "the middle third drags a little before the ending picks up",
            "the recipes in chapter {n} are the ones I keep coming back to",
            "the paper and binding feel solid for a paperback",
        ),
    },
}
_OPEN = {
    "pos": (
        "Really happy with this {noun}.",
        "Exactly what I was looking for.",
        "Great {noun} for the price.",
        "Love it.",
        "Very pleased with this purchase.",
    ),
    "mid": (
        "It's an okay {noun}.",
        "Decent, but not perfect.",
        "Does the job.",
        "Mixed feelings about this {noun}.",
    ),
    "neg": (
        "Disappointed with this {noun}.",
        "Would not recommend.",
        "Not what I expected.",
        "Sadly this {noun} did not work out for me.",
    ),
}
_GOOD = ("excellent", "really solid", "better than expected", "great", "spot on")
_BAD = ("poor", "disappointing", "worse than advertised", "flimsy", "a real letdown")
_MEH = ("fine", "acceptable", "average", "okay for the price")
_CLOSE = {
    "pos": ("Would buy again.", "Highly recommend.", "Five stars from me.", ""),
    "mid": ("Fine for the price.", "Might look elsewhere next time.", ""),
    "neg": ("Returning it.", "Save your money.", "Back it goes.", ""),
}
_TITLE = {
    "pos": (
        "Great {noun}",
        "Love it",
        "Worth every penny",
        "Excellent quality",
        "Does exactly what it says",
    ),
    "mid": ("Okay", "Decent {noun}", "Mixed feelings", "Good, not great"),
    "neg": ("Disappointed", "Poor quality", "Not worth it", "Broke after a few weeks"),
}


def _plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith("ss")


def _be(word: str) -> str:
    return "are" if _plural(word) else "is"


def _fill(template: str, rng: np.random.Generator) -> str:
    values = {
        "h": rng.integers(4, 30),
        "m": rng.integers(5, 90),
        "w": rng.integers(2, 16),
        "cm": rng.integers(155, 195),
        "cm2": rng.integers(1, 5),
        "size": ("S", "M", "L", "XL")[rng.integers(0, 4)],
        "eu": rng.integers(36, 46),
        "km": rng.integers(50, 600),
        "d": rng.integers(2, 14),
        "inch": (13, 14, 15, 16)[rng.integers(0, 4)],
        "kg": rng.integers(2, 25),
        "age": rng.integers(3, 12),
        "n": rng.integers(2, 9) * (10 if "pieces" in template else 1),
        "sport": ("tennis", "cycling", "yoga")[rng.integers(0, 3)],
        "pages": rng.integers(180, 620),
    }
    return template.format(**{k: v for k, v in values.items() if "{" + k + "}" in template})


def _review_text(
    rng: np.random.Generator, cat: str, noun: str, rating: int, specificity: float
) -> tuple[str, str, int]:
    tone = "pos" if rating >= 4 else ("mid" if rating == 3 else "neg")
    vocab = _VOCAB[cat]

    def pick(seq: tuple[str, ...]) -> str:
        return seq[int(rng.integers(0, len(seq)))]

    title = pick(_TITLE[tone]).format(noun=noun)
    if specificity < 0.15 and rng.random() < 0.6:
        short = {
            "pos": ("Great!", "Love it.", "Perfect."),
            "mid": ("It's ok.", "Fine."),
            "neg": ("Bad.", "Not good.", "Meh."),
        }[tone]
        return title, pick(short), 0
    parts = [pick(_OPEN[tone]).format(noun=noun)]
    if _plural(noun):
        parts[0] = parts[0].replace("this ", "these ")
    n_aspect = int(rng.binomial(3, min(0.9, 0.25 + specificity)))
    aspects = rng.permutation(len(vocab["aspects"]))[:n_aspect]
    for a in aspects.tolist():
        word = pick(_GOOD if tone == "pos" else _BAD if tone == "neg" else _MEH)
        if tone == "mid" and rng.random() < 0.5:
            word = pick(_GOOD) if rng.random() < 0.5 else pick(_BAD)
        aspect = vocab["aspects"][a]
        parts.append(f"The {aspect} {_be(aspect)} {word}.")
    n_specific = int(rng.binomial(3, specificity**1.3))
    details = rng.permutation(len(vocab["details"]))[:n_specific]
    for j, d in enumerate(details.tolist()):
        detail = _fill(vocab["details"][d], rng)
        if j == 0 and rng.random() < 0.6:
            usage = _fill(pick(vocab["usage"]), rng)
            parts.append(f"I bought it for {usage}, and {detail}.")
        else:
            parts.append(detail[0].upper() + detail[1:] + ".")
    if n_specific and rng.random() < 0.4:
        a = pick(vocab["aspects"])
        word = pick(_GOOD if tone != "neg" else _BAD)
        parts.append(f"Compared with my previous {noun}, the {a} {_be(a)} {word}.")
    closing = pick(_CLOSE[tone])
    if closing:
        parts.append(closing)
    return title, " ".join(parts), n_specific


def _gen_reviews(
    rng: np.random.Generator,
    cust: _Customers,
    prods: _Products,
    orders: pd.DataFrame,
    l_cust: np.ndarray,
    l_prod: np.ndarray,
    l_time: np.ndarray,
    days: int,
) -> pd.DataFrame:
    end = days * _DAY
    delivered = orders["status"].to_numpy() == "delivered"
    cand = np.flatnonzero(delivered & (rng.random(len(delivered)) < 0.2))
    r_time = l_time[cand] + rng.integers(3 * _DAY, 30 * _DAY, len(cand))
    keep = r_time < end
    cand, r_time = cand[keep], r_time[keep]
    r_cust, r_prod = l_cust[cand], l_prod[cand]
    # one review per customer and product
    dup = pd.DataFrame({"c": r_cust, "p": r_prod}).duplicated().to_numpy()
    r_cust, r_prod, r_time = r_cust[~dup], r_prod[~dup], r_time[~dup]
    verified = np.ones(len(r_cust), dtype=np.int64)
    # Unverified reviews from people with no order of the product.
    n_un = round(0.2 * len(r_cust))
    ok_c = np.flatnonzero(~cust.reserved)
    u_cust = ok_c[rng.integers(0, len(ok_c), n_un)] if len(ok_c) else np.zeros(0, np.int64)
    u_prod = _sample_from(rng, np.cumsum(prods.popularity), n_un)
    p_created = prods.frame["created_at"].to_numpy()
    lo = np.maximum(np.maximum(cust.created[u_cust], p_created[u_prod]), 0)
    u_time = lo + (rng.random(n_un) * np.maximum(end - lo - 1, 1)).astype(np.int64)
    r_cust = np.concatenate([r_cust, u_cust])
    r_prod = np.concatenate([r_prod, u_prod])
    r_time = np.concatenate([r_time, u_time])
    verified = np.concatenate([verified, np.zeros(n_un, dtype=np.int64)])
    m = len(r_cust)
    latent = 0.6 * prods.quality[r_prod] + rng.normal(0, 1, m)
    rating = 1 + np.digitize(latent, [-1.43, -1.07, -0.61, 0.15])
    spec = np.clip(rng.beta(1.5, 2.5, m) + 0.1 * verified, 0, 1)
    titles, texts, n_spec = [], [], np.zeros(m)
    for i in range(m):
        p = int(r_prod[i])
        title, text, k = _review_text(
            rng, _CAT_NAMES[prods.cat[p]], str(prods.noun[p]), int(rating[i]), float(spec[i])
        )
        titles.append(title)
        texts.append(text)
        n_spec[i] = k
    n_words = np.array([t.count(" ") + 1 for t in texts])
    pop = (prods.popularity[r_prod] / prods.popularity.max()) ** 0.3
    lam = np.exp(-1.6 + 0.035 * np.minimum(n_words, 120) + 0.55 * n_spec + 0.5 * verified) * pop
    helpful = rng.poisson(lam)
    order = np.argsort(r_time, kind="stable")
    return pd.DataFrame(
        {
            "review_id": [f"R{i + 1:07d}" for i in range(m)],
            "product_id": prods.frame["product_id"].to_numpy()[r_prod[order]],
            "customer_id": cust.frame["customer_id"].to_numpy()[r_cust[order]],
            "rating": rating[order].astype(np.int64),
            "title": np.array(titles, dtype=object)[order],
            "text": np.array(texts, dtype=object)[order],
            "created_at": r_time[order],
            "verified_purchase": verified[order],
            "helpful_votes": helpful[order].astype(np.int64),
        }
    )


# --------------------------------------------------------------------------- assembly


def _status(rng: np.random.Generator, times: np.ndarray, end: int) -> np.ndarray:
    u = rng.random(len(times))
    status = np.where(u < 0.94, "delivered", np.where(u < 0.98, "refunded", "cancelled"))
    status = np.where(times > end - 3 * _DAY, "shipped", status)
    status = np.where(times > end - _DAY, "processing", status)
    return status.astype(object)


def generate_store(
    *,
    seed: int,
    customers: int,
    start: date | None = None,
    days: int = 90,
    progress: ProgressFn | None = None,
    sensitive: bool = False,
    bias: float = 0.0,
) -> StoreData:
    """Generate a synthetic store, deterministically for ``seed``.

    Parameters
    ----------
    seed:
        Seed of every random draw (numpy and Faker). The same seed, size,
        start and days give identical tables (and byte-identical files).
    customers:
        Number of customers. Products scale with it (one per eight customers,
        60 to 5,000); fraud rates and pattern mix hold from about 1,000 up.
    start:
        First day of the activity window; :data:`DEFAULT_START` when None
        (not today, so runs repeat).
    days:
        Length of the activity window in days (at least 7).
    progress:
        Called as ``progress(stage, done, total)`` after each stage.
    sensitive:
        Add sensitive and proxy attributes for fairness audits: customers gain
        ``age_band``, ``region``, ``gender`` (declared or ``undeclared``) and
        ``device_type``; products gain ``seller_size``. Off by default: the
        other tables are then byte-identical to a store generated without it.
    bias:
        Strength in [0, 1] of a historical bias baked into the data (implies
        ``sensitive``; 0 = none): genuine ``EU-south`` payments more often look
        foreign to IP geolocation and some of those were labelled fraud by past
        reviewers (``TX_FRAUD`` = 1 while ``fraud_pattern`` stays empty: the true
        label is ``fraud_pattern != ""``); older shoppers pay personalised
        mark-ups and ``EU-south`` shoppers get fewer promotion codes; large
        sellers hold the most popular products. See :func:`add_sensitive_attributes`.

    Returns
    -------
    StoreData
        Six tables; columns and types as in :mod:`shopguard.store.schema`.

    Raises
    ------
    ValueError
        ``seed`` negative, ``customers`` below 1 or ``days`` below 7.
    """
    from shopguard.store.schema import conform

    if seed < 0:
        raise ValueError("seed must be >= 0")
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if days < 7:
        raise ValueError("days must be >= 7")
    if not 0.0 <= bias <= 1.0:
        raise ValueError("bias must be in [0, 1]")
    origin = pd.Timestamp(start or DEFAULT_START)
    end = days * _DAY
    stages = ("customers", "products", "sessions", "fraud", "orders", "reviews")
    step = iter(range(1, len(stages) + 1))

    def tick(stage: str) -> None:
        if progress is not None:
            progress(stage, next(step), len(stages))

    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    cust = _gen_customers(rngs[0], seed, customers, days)
    tick("customers")
    prods = _gen_products(rngs[1], customers, days)
    tick("products")
    act = _gen_activity(rngs[2], cust, prods, days)
    tick("sessions")
    fraud = _gen_fraud(rngs[3], cust, prods, act, days)
    tick("fraud")
    rng = rngs[4]

    # ---- sessions: the browsing ones plus one per fraudulent order
    nf = len(fraud)
    f_time = np.array([o.time for o in fraud], dtype=np.int64)
    f_cust = np.array([o.cust for o in fraud], dtype=np.int64)
    f_stime = np.maximum(f_time - rng.integers(30, 900, nf), cust.created[f_cust] + 1)
    f_stime = np.minimum(np.maximum(f_stime, 0), f_time)
    s_cust = np.concatenate([act.s_cust, f_cust])
    s_time = np.concatenate([act.s_time, f_stime])
    s_dev = np.concatenate([act.s_device, np.array([o.device for o in fraud], dtype=np.int64)])
    s_ip = np.concatenate([act.s_ip, np.array([o.ip for o in fraud], dtype=np.int64)])
    f_views = [np.array([p for p, _ in o.lines], dtype=np.int64) for o in fraud]
    views = act.s_views + f_views
    s_order = np.argsort(s_time, kind="stable")
    s_rank = np.empty_like(s_order)
    s_rank[s_order] = np.arange(len(s_order))
    pid = prods.frame["product_id"].to_numpy()
    sessions = pd.DataFrame(
        {
            "session_id": [f"S{i + 1:08d}" for i in range(len(s_order))],
            "customer_id": cust.frame["customer_id"].to_numpy()[s_cust[s_order]],
            "started_at": s_time[s_order],
            "device_id": np.array(_dev_str(s_dev[s_order]), dtype=object),
            "ip_address": np.array(_ip_str(s_ip[s_order]), dtype=object),
            "n_page_views": np.array([len(views[i]) for i in s_order], dtype=np.int64),
            "viewed_product_ids": [" ".join(pid[views[i]]) for i in s_order.tolist()],
        }
    )

    # ---- orders: one row per order line
    lo_sess = act.o_session
    k = len(lo_sess)
    o_cust = np.concatenate([act.s_cust[lo_sess], s_cust[len(act.s_cust) :]])
    o_time = np.concatenate([act.o_time, f_time])
    o_device = np.concatenate([act.s_device[lo_sess], s_dev[len(act.s_cust) :]])
    o_ip = np.concatenate([act.s_ip[lo_sess], s_ip[len(act.s_cust) :]])
    o_ipc = np.concatenate([act.s_ipc[lo_sess], np.array([o.ipc for o in fraud], dtype=object)])
    o_devnew = np.concatenate([act.s_devnew[lo_sess], np.array([o.devnew for o in fraud])])
    o_card = np.concatenate(
        [cust.card[o_cust[:k]], np.array([o.card for o in fraud], dtype=object)]
    )
    o_billing = np.concatenate(
        [cust.country[o_cust[:k]], np.array([o.billing for o in fraud], dtype=object)]
    )
    o_ship = np.concatenate(
        [act.o_ship_from, np.array([o.ship_from for o in fraud], dtype=np.int64)]
    )
    o_sbm = np.concatenate(
        [
            (act.o_ship_from != o_cust[:k]).astype(np.int64),
            np.array([o.sbm for o in fraud], dtype=np.int64),
        ]
    )
    o_promo = np.concatenate([act.o_promo, np.array([o.promo for o in fraud], dtype=object)])
    o_status = np.concatenate(
        [_status(rng, act.o_time, end), np.array([o.status for o in fraud], dtype=object)]
    )
    o_pattern = np.concatenate(
        [np.full(k, "", dtype=object), np.array([o.pattern for o in fraud], dtype=object)]
    )
    o_weak = np.concatenate([np.full(k, 0.2), np.array([o.weak_terminal_p for o in fraud])])
    f_lines = [(k + i, p, q) for i, o in enumerate(fraud) for p, q in o.lines]
    l_order = np.concatenate([act.l_order, np.array([x[0] for x in f_lines], dtype=np.int64)])
    l_prod = np.concatenate([act.l_product, np.array([x[1] for x in f_lines], dtype=np.int64)])
    l_qty = np.concatenate([act.l_qty, np.array([x[2] for x in f_lines], dtype=np.int64)])

    o_sorted = np.argsort(o_time, kind="stable")
    o_rank = np.empty_like(o_sorted)
    o_rank[o_sorted] = np.arange(len(o_sorted))
    order_ids = np.array([f"O{i + 1:07d}" for i in range(len(o_sorted))], dtype=object)
    l_sorted = np.lexsort((np.arange(len(l_order)), o_rank[l_order]))
    lo_, lp_, lq_ = l_order[l_sorted], l_prod[l_sorted], l_qty[l_sorted]
    cf = cust.frame
    ship_c = cust.country[o_ship]
    orders = pd.DataFrame(
        {
            "order_id": order_ids[o_rank[lo_]],
            "customer_id": cf["customer_id"].to_numpy()[o_cust[lo_]],
            "product_id": pid[lp_],
            "quantity": lq_,
            "price": prods.price[lp_],
            "created_at": o_time[lo_],
            "shipping_street": cf["street"].to_numpy()[o_ship[lo_]],
            "shipping_city": cf["city"].to_numpy()[o_ship[lo_]],
            "shipping_postcode": cf["postcode"].to_numpy()[o_ship[lo_]],
            "shipping_country": ship_c[lo_],
            "billing_country": o_billing[lo_],
            "status": o_status[lo_],
            "promo_code": o_promo[lo_],
        }
    )

    # ---- transactions: one payment per order
    gross = np.bincount(l_order, weights=l_qty * prods.price[l_prod], minlength=len(o_time))
    discount = np.array([PROMO_DISCOUNTS.get(p, 0.0) for p in o_promo])
    amount = np.round(gross * (1 - discount), 2)
    tx_time = np.minimum(o_time + rng.integers(1, 40, len(o_time)), end - 1)
    provider = np.where(o_billing == "US", 0, np.where(o_billing == "GB", 1, 2))
    weak = rng.random(len(o_time)) < o_weak
    endpoint = np.where(weak, 5 + rng.integers(0, 3, len(o_time)), rng.integers(0, 5, len(o_time)))
    terminal = provider * 8 + endpoint
    age = np.maximum((tx_time - cust.created[o_cust]) // _DAY, 0)
    tx = np.lexsort((o_rank, tx_time))
    fraud_flag = (o_pattern != "").astype(np.int64)
    transactions = pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(len(tx), dtype=np.int64),
            "TX_DATETIME": tx_time[tx],
            "CUSTOMER_ID": cf["customer_id"].to_numpy()[o_cust[tx]],
            "TERMINAL_ID": [f"PSP{t // 8 + 1}-EP{t % 8 + 1:02d}" for t in terminal[tx].tolist()],
            "TX_AMOUNT": amount[tx],
            "TX_FRAUD": fraud_flag[tx],
            "TX_TIME_SECONDS": tx_time[tx],
            "TX_TIME_DAYS": tx_time[tx] // _DAY,
            "order_id": order_ids[o_rank[tx]],
            "card_number": o_card[tx],
            "device_id": np.array(_dev_str(o_device[tx]), dtype=object),
            "ip_address": np.array(_ip_str(o_ip[tx]), dtype=object),
            "device_is_new": o_devnew[tx].astype(np.int64),
            "ship_bill_mismatch": o_sbm[tx],
            "ip_country_mismatch": (o_ipc[tx] != o_billing[tx]).astype(np.int64),
            "account_age_days": age[tx].astype(np.int64),
            "card_present": np.zeros(len(tx), dtype=np.int64),
            "fraud_pattern": o_pattern[tx],
        }
    )
    tick("orders")

    # ---- reviews
    reviews = _gen_reviews(rngs[5], cust, prods, orders, o_cust[lo_], lp_, o_time[lo_], days)
    tick("reviews")

    # ---- final customer columns (fraud accounts changed devices, IPs, signups)
    customers_df = cf.assign(
        ip_address=_ip_str(cust.ip), device_id=_dev_str(cust.device), created_at=cust.created
    )
    out = {
        "customers": customers_df,
        "products": prods.frame,
        "sessions": sessions,
        "orders": orders,
        "transactions": transactions,
        "reviews": reviews,
    }
    if sensitive or bias > 0:
        add_sensitive_attributes(out, popularity=prods.popularity, seed=seed, bias=bias)
    for name, frame in out.items():
        for col in ("created_at", "started_at", "TX_DATETIME", "date_of_birth"):
            if col in frame.columns:
                frame[col] = _seconds(
                    origin, frame[col].to_numpy() * (_DAY if col == "date_of_birth" else 1)
                )
        out[name] = conform(name, frame)
    return StoreData(**out)


#: Region of each customer country (a sensitive attribute of the fairness audits).
REGIONS: dict[str, str] = {
    "US": "US",
    "GB": "UK",
    "DE": "EU-north",
    "NL": "EU-north",
    "FR": "EU-south",
    "ES": "EU-south",
    "IT": "EU-south",
}
AGE_BANDS: tuple[tuple[str, float], ...] = (
    ("18-24", 25),
    ("25-34", 35),
    ("35-44", 45),
    ("45-54", 55),
    ("55-64", 65),
    ("65+", 200),
)


def add_sensitive_attributes(
    tables: dict[str, pd.DataFrame],
    *,
    popularity: np.ndarray,
    seed: int,
    bias: float,
) -> None:
    """Add sensitive / proxy columns (and, when ``bias`` > 0, a historical bias) in place.

    Works on the raw tables of :func:`generate_store` (times still in seconds,
    ``date_of_birth`` in days from the start). Draws come from their own seed
    stream, so the store's other values do not change.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xFA15]))
    cust = tables["customers"]
    n = len(cust)
    age_years = -cust["date_of_birth"].to_numpy() / 365.25
    edges = np.array([hi for _, hi in AGE_BANDS])
    band = np.array([b for b, _ in AGE_BANDS])[np.searchsorted(edges, age_years, side="right")]
    region = cust["country"].map(REGIONS).fillna("other").to_numpy()
    gender = np.array(["female", "male", "undeclared"])[rng.choice(3, n, p=[0.46, 0.42, 0.12])]
    mobile = np.clip(0.85 - 0.012 * (age_years - 18), 0.2, 0.85)
    u = rng.random(n)
    device_type = np.where(
        u < mobile * 0.45, "ios", np.where(u < mobile, "android", "desktop")
    ).astype(object)
    tables["customers"] = cust.assign(
        age_band=band, region=region, gender=gender, device_type=device_type
    )

    prods = tables["products"]
    if bias > 0:
        # Large sellers own the bestsellers (historical placement deals).
        rank = np.argsort(np.argsort(-popularity + rng.normal(0, 0.05 * (1 - bias), len(prods))))
        large = rank < round(0.3 * len(prods))
    else:
        large = rng.random(len(prods)) < 0.3
    tables["products"] = prods.assign(seller_size=np.where(large, "large", "small"))
    if bias <= 0:
        return

    region_of = dict(zip(cust["customer_id"], region, strict=True))
    band_of = dict(zip(cust["customer_id"], band, strict=True))
    tx = tables["transactions"].copy()
    t_region = tx["CUSTOMER_ID"].map(region_of).to_numpy()
    genuine = tx["fraud_pattern"].to_numpy() == ""
    south = (t_region == "EU-south") & genuine
    # Measurement bias: mobile-carrier IPs of the region geolocate abroad.
    mism = tx["ip_country_mismatch"].to_numpy().copy()
    mism[south & (rng.random(len(tx)) < 0.15 * bias)] = 1
    tx["ip_country_mismatch"] = mism
    # Label bias: past reviewers marked some of those payments as fraud.
    suspicious = (mism == 1) | (tx["device_is_new"].to_numpy() == 1)
    flip = south & suspicious & (rng.random(len(tx)) < 0.08 * bias)
    label = tx["TX_FRAUD"].to_numpy().copy()
    label[flip] = 1
    tx["TX_FRAUD"] = label

    # Pricing bias: mark-ups for older shoppers, fewer promotion codes in EU-south.
    orders = tables["orders"].copy()
    o_band = orders["customer_id"].map(band_of).to_numpy()
    o_region = orders["customer_id"].map(region_of).to_numpy()
    markup = np.where(np.isin(o_band, ("55-64", "65+")), 1.0 + 0.10 * bias, 1.0)
    orders["price"] = np.round(orders["price"].to_numpy() * markup, 2)
    promo = orders["promo_code"].to_numpy().copy()
    order_u = (
        pd.Series(rng.random(len(orders))).groupby(orders["order_id"].to_numpy()).transform("first")
    )
    drop = (o_region == "EU-south") & (promo != "") & (order_u.to_numpy() < 0.6 * bias)
    promo[drop] = ""
    orders["promo_code"] = promo
    gross = (orders["price"] * orders["quantity"]).groupby(orders["order_id"]).sum()
    code = orders.groupby("order_id")["promo_code"].first()
    amount = (gross * (1 - code.map(lambda p: PROMO_DISCOUNTS.get(p, 0.0)))).round(2)
    tx["TX_AMOUNT"] = tx["order_id"].map(amount).to_numpy()
    tables["orders"] = orders
    tables["transactions"] = tx


def write_store(
    store: StoreData,
    out_dir: str | os.PathLike[str],
    *,
    fmt: Literal["csv", "parquet"] = "csv",
    overwrite: bool = False,
) -> Path:
    """Write every table of ``store`` to ``out_dir`` as ``<table>.csv`` or ``<table>.parquet``.

    The tables are written to a temporary sibling directory that is renamed
    into place only when all of them are complete, so a failure leaves
    ``out_dir`` as it was.

    Raises
    ------
    ShopguardError
        ``out_dir`` is a file, or a non-empty directory and ``overwrite`` is
        False, or writing failed (``out_dir`` is then left as it was).
    ValueError
        ``fmt`` is not ``"csv"`` or ``"parquet"``.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ShopguardError(f"output path {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ShopguardError(f"output directory {out} is not empty (use overwrite / --force)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for name in TABLES:
            frame = store.table(name)
            path = tmp / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
            else:
                frame.to_parquet(path, index=False, engine="pyarrow")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "store")
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(old / "store", out)
                raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ShopguardError(f"could not write the store to {out} ({type(exc).__name__})") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
