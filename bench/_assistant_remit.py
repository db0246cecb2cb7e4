"""Remit cues for the prompt-injection detector, an experiment (issue 8, session 8; results
in ``bench/results/assistant_learners.md``, section (f)); not used by the product.

deepset/prompt-injections labels as injections many messages that hand the assistant a role,
ask its opinion, make it assert something or set it an off-task job ("You are Volkswagen.
What do you think of Mercedes?", "generate c++"), and the hashed n-gram model misses most of
them. These cues fire on such requests only when the message says nothing about shopping
(a store-word lexicon in six languages), so a shopper's "pretend you're a stylist and pick
an outfit" should stay benign.
"""

import re

import numpy as np

SHOP = re.compile(
    r"\b(order|orders|ordered|deliver\w*|shipping|shipped|parcel|courier|return\w*|refund\w*|"
    r"exchange|price\w*|discount\w*|sale|voucher|coupon|cart|basket|checkout|buy|buying|bought|"
    r"purchase\w*|sell|stock|size|sizes|fit|colou?r|warranty|invoice|receipt|product\w*|item|items|"
    r"brand|model|gift|store|shop|shopping|catalogue|review\w*|outfit|wear|wearing|pack|packing|"
    r"recommend\w*|suggest\w*|choose|pick|stylist|earbuds|speaker|mouse|keyboard|sunscreen|"
    r"shoe\w*|boots?|sneakers?|trainers?|jacket\w*|dress\w*|shirt\w*|jeans|coat|blazer|sofa|"
    r"armchair|kettle|lamp|blender|vacuum|headphones?|laptop|phone case|charger|cable|router|"
    r"tent|bottle|desk|chair|pan|mattress|pillow|toy\w*|watch|bag|backpack|"
    r"bestell\w*|lieferung|liefer\w*|paket|rücksend\w*|rückgabe|umtausch|erstattung|preis\w*|"
    r"rabatt|gutschein|warenkorb|kaufen|gekauft|größe|grösse|farbe|garantie|rechnung|produkt\w*|"
    r"artikel|geschenk|schuhe?|jacke|kleid|hose|"
    r"commande\w*|livraison|colis|remboursement|retour|prix|taille|couleur|achat|acheter|produit|"
    r"pedido|envío|envio|devolución|devolucion|reembolso|precio|talla|comprar|producto|"
    r"ordine|spedizione|reso|rimborso|prezzo|taglia|prodotto|bestelling|levering|retour|prijs|maat)\b"
)
ROLE = re.compile(
    r"(^|[.!?\n]\s*|\b(now|please|ok|okay|so|and|nun|jetzt|bitte)\s+)"
    r"(you are|you're|youre|be a|be an|be my|act as|act like|pretend|imagine|roleplay|role-play|"
    r"play the role|du bist|sei ein|sei eine|stell dir vor|tu es|sois|eres|sé un|immagina|fingi|"
    r"from now on you|behave as|speak as|talk like|answer as|answer like)\b"
)
OPINION = re.compile(
    r"\b(what do you think|what's your opinion|your opinion|do you (think|believe|like|hate|love|prefer|agree)|"
    r"how do you (feel|find)|which is better|who is better|wie findest du|was hältst du|was denkst du|"
    r"deine meinung|findest du|magst du|hasst du|qu'en penses|que piensas|cosa ne pensi)\b"
)
TASK = re.compile(
    r"\b(write|generate|create|compose|draft|program|translate|summari[sz]e|make up|make something up|"
    r"invent|tell me a (joke|story)|poem|essay|song|lyrics|recipe|"
    r"schreib\w*|generier\w*|erfinde\w*|erzähl\w*|dicht\w*|übersetz\w*|écris|genera|escribe|scrivi)\b"
)
ASSERT = re.compile(
    r"\b(state that|say that|claim that|declare that|confirm that|admit that|blame|"
    r"is the best|are the best|the worst|superior|inferior|most powerful|"
    r"behaupte\w*|sag\w*,? dass|bestätige|dis que|di que|afferma)\b"
)
#: The six cues, in column order.
NAMES = ("role_off", "opinion_off", "task_off", "assert_off", "role_opinion", "tail_off_task")


def remit(text: str, tail: str) -> np.ndarray:
    """The cues of one prepared text (normalised, lower case) and its tail sentence."""
    off = 0.0 if SHOP.search(text) else 1.0
    role = 1.0 if ROLE.search(text) else 0.0
    op = 1.0 if OPINION.search(text) else 0.0
    task = 1.0 if TASK.search(text) else 0.0
    asr = 1.0 if ASSERT.search(text) else 0.0
    t_task = 1.0 if (TASK.search(tail) or ROLE.search(tail) or OPINION.search(tail)) else 0.0
    t_off = 0.0 if SHOP.search(tail) else 1.0
    return np.array(
        [role * off, op * off, task * off, asr * off, role * op, t_task * t_off], dtype=np.float32
    )
