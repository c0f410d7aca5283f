"""TF-IDF over character 4-grams of words, for offer and demand texts in Spanish, English and Portuguese.

Problem: compare a seller's free-text offer with a buyer's free-text demand, offline, with no model
download and no scikit-learn. Participants write in es, en or pt, with or without accents, singular
or plural ("café orgánico", "cafes organicos", "organic coffee").

Method: fold accents (NFKD, drop combining marks), lowercase, split into words of letters and digits,
drop a small built-in stop-word list of the three languages, then cut each word padded with spaces
into character 4-grams (" cafe", "cafe ", ...). Grams make plurals, accents and es/pt cognates
("exportacion"/"exportacao", "organico"/"organic") overlap without a stemmer. Weights are sublinear
tf (1 + ln tf) times smoothed idf, ln((1 + n) / (1 + df)) + 1, over all offer and demand texts; rows
are L2-normalised, so the product of two rows is their cosine similarity, in [0, 1].

Invariants: the same texts give the same matrix (the vocabulary is numbered in first-seen order);
an empty text is an all-zero row, similar to nothing.

Cost: linear in the total text length. Each distinct word is cut into grams once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

GRAM = 4

# Short on purpose: only words that carry no trade meaning in any of the three languages.
_STOP_WORDS_TEXT = """
    a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada como con contra cual
    cuando de del desde donde dos durante e el ella ellas ello ellos en entre era es esa esas ese eso
    esos esta estas este esto estos hay la las le les lo los mas me mi mis mucho muy nos nuestra
    nuestras nuestro nuestros o otra otras otro otros para pero poco por porque que quien se ser si
    sin sobre su sus tambien tan tanto te tiene tienen todo todos tu u un una unas uno unos usted y ya
    about all also an and any are as at be been but by can for from has have in into is it its more
    most of on or our ours such than that the their them then there these they this those to very was
    we were what when which who will with you your
    ao aos as ate com da das do dos ela elas ele eles em essa essas esse esses isso na nas nem no nos
    num numa os ou pela pelas pelo pelos sao seu seus sua suas tem uma umas voce
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase `text` and strip its accents: "Café Orgánico" -> "cafe organico"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of `text` that are not stop words, in order."""
    return [w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS and len(w) > 1]


def _grams(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + GRAM] for i in range(len(padded) - GRAM + 1)]


def tfidf_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """One L2-normalised TF-IDF row per text (CSR, float64), columns numbered in first-seen order."""
    vocabulary: dict[str, int] = {}
    word_grams: dict[str, list[int]] = {}
    indptr = [0]
    indices: list[int] = []
    for text in texts:
        for word in words(text):
            ids = word_grams.get(word)
            if ids is None:
                ids = [vocabulary.setdefault(g, len(vocabulary)) for g in _grams(word)]
                word_grams[word] = ids
            indices.extend(ids)
        indptr.append(len(indices))
    counts = sp.csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), max(len(vocabulary), 1)),
    )
    counts.sum_duplicates()  # repeated grams in one text become one entry holding their count
    counts.data = 1.0 + np.log(counts.data)
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1.0 + len(texts)) / (1.0 + document_frequency)) + 1.0
    weighted = sp.csr_matrix(counts.multiply(idf[np.newaxis, :]))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ weighted)
