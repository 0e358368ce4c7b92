"""Names and headers compared as people write them: accents and case do not matter."""

import unicodedata


def fold(text):
    """« Élodie » and « ELODIE » alike: accents dropped, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
