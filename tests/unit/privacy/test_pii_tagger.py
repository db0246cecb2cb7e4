"""The learned name/address tagger: training smoke test, safe persistence, shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from shopguard.core.errors import ModelError
from shopguard.privacy.pii import DEFAULT_MODEL_PATH, PiiDetector, PiiType, TokenTagger
from shopguard.privacy.pii._synth import synth_sentences
from shopguard.privacy.pii._tagger import tokenize

GAZ = {
    "first": ["anna", "marco", "lena", "tom", "sofia", "jan"],
    "last": ["rossi", "berg", "novak", "smith", "keller"],
    "street": ["street", "road", "via", "strasse"],
    "city": ["milano", "leeds", "graz"],
    "country": ["italy", "austria"],
    "common": ["the", "lamp", "great", "please"],
}


@pytest.fixture(scope="module")
def tiny_tagger() -> TokenTagger:
    texts, labels = synth_sentences(300, random_state=3, locales=("en_US", "it_IT", "de_DE"))
    return TokenTagger(C=4.0, max_iter=100).fit(texts, labels, gazetteers=GAZ)


@pytest.mark.slow  # sklearn import + five small fits: about 4-8 s on a shared 2-core box
def test_fit_when_tiny_data_then_learns_names_and_addresses(tiny_tagger):
    text = "My name is Anna Rossi."
    assert [(e.type, text[e.start : e.end]) for e in tiny_tagger.predict(text)] == [
        (PiiType.PERSON, "Anna Rossi")
    ]
    text = "Please deliver to 12 Via Roma, Milano 20121."
    found = [(e.type, text[e.start : e.end]) for e in tiny_tagger.predict(text)]
    assert any(t is PiiType.POSTAL_ADDRESS and "Via Roma" in s for t, s in found), found
    assert tiny_tagger.predict("The lamp is great.") == []


@pytest.mark.slow
def test_save_load_when_round_trip_then_same_predictions(tiny_tagger, tmp_path):
    path = tmp_path / "t.npz"
    tiny_tagger.save(path)
    with np.load(path, allow_pickle=False) as z:  # plain arrays only, never pickles
        assert all(z[k].dtype != object for k in z.files)
    again = TokenTagger.load(path)
    text = "My name is Lena Berg and I live at 4 High Street, Leeds."
    assert again.predict(text) == tiny_tagger.predict(text)


def test_load_when_not_a_model_then_model_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError):
        TokenTagger.load(bad)
    np.savez(tmp_path / "wrong.npz", vocab=np.asarray(["b"]))
    with pytest.raises(ModelError):
        TokenTagger.load(tmp_path / "wrong.npz")


def test_predict_when_not_fitted_then_model_error():
    with pytest.raises(ModelError):
        TokenTagger().predict("hello")


def test_tokenize_when_possessive_then_split_but_apostrophe_names_kept():
    text = "O'Brien's parcel"
    assert [text[a:b] for a, b in tokenize(text)] == ["O'Brien", "'", "s", "parcel"]


def test_shipped_model_when_loaded_then_small_and_finds_names_in_new_sentences():
    assert DEFAULT_MODEL_PATH.stat().st_size < 5_000_000
    det = PiiDetector()
    cases = [
        ("Hi, this is Margarethe Oberholzer about my missing parcel.", "Margarethe Oberholzer"),
        ("The courier left it with Giovanni Esposito next door.", "Giovanni Esposito"),
        ("Could you ask Priya Raman to call me back?", "Priya Raman"),
    ]
    for text, name in cases:
        spans = [(e.type, text[e.start : e.end]) for e in det.detect(text)]
        assert (PiiType.PERSON, name) in spans, spans


def test_shipped_model_when_address_then_postal_address_span_covers_it():
    det = PiiDetector()
    text = "Please send the replacement to 221B Baker Street, London NW1 6XE."
    spans = [(e.type, e.start, e.end) for e in det.detect(text)]
    addr = [(s, e) for t, s, e in spans if t is PiiType.POSTAL_ADDRESS]
    assert addr, spans
    s, e = addr[0]
    assert "Baker Street" in text[s:e] and text[e - 1].isalnum() and text[s].isalnum()


def test_shipped_model_when_plain_review_then_no_names():
    det = PiiDetector()
    text = "The lamp arrived quickly and the light is warm and bright."
    assert det.detect(text) == []
