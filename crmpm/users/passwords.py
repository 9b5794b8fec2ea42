"""What a password must be: long enough, and not one that is common or easy to guess.

Guessability is zxcvbn's estimate: it knows the 30,000 most common passwords of
leaked lists and English words, names, keyboard walks, repeats, sequences and
dates, also l33t-spelled or reversed, and the user's own email and name. A
password must need at least ``MIN_GUESSES`` guesses by that estimate (zxcvbn's
score 2: "somewhat guessable", safe against throttled online guessing), which
turns away "aaaaaaaa", "password1", "qwertyuiop" or "P@ssw0rd2024".
"""

from __future__ import annotations

import threading

from zxcvbn import zxcvbn

from crmpm.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_SCORE = 2
# zxcvbn refuses longer input (its matching is quadratic); the first 72 characters decide.
_ESTIMATE_LENGTH = 72
# zxcvbn keeps the user's own words in a module-level dictionary while it scores, so one check at a time.
_lock = threading.Lock()


def check(password: str, *, email: str = "", name: str = "") -> None:
    """Invalid (naming the field ``password``) unless ``password`` is long and hard enough to guess."""
    if len(password) < MIN_LENGTH:
        raise Invalid("password too short", errors={"password": [f"at least {MIN_LENGTH} characters"]})
    if len(password) > MAX_LENGTH:
        raise Invalid("password too long", errors={"password": [f"at most {MAX_LENGTH} characters"]})
    if score(password, email=email, name=name) < MIN_SCORE:
        raise Invalid("password too common or too easy to guess",
                      errors={"password": ["too common or too easy to guess: use a longer phrase of "
                                           "unrelated words"]})


def score(password: str, *, email: str = "", name: str = "") -> int:
    """zxcvbn's score, 0 (guessed at once) to 4 (very unguessable), with the user's own words known."""
    words = [word for word in (email, email.partition("@")[0], name, *name.split(), "crmpm") if word]
    with _lock:
        return zxcvbn(password[:_ESTIMATE_LENGTH], user_inputs=words)["score"]
