"""Names and headers compared as people write them: accents and case do not matter."""

import re
import unicodedata


def fold(text):
    """« Élodie » and « ELODIE » alike: accents dropped, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def download_name(*parts):
    """A file name made of `parts` (a PLIE, a fiche code typed by a user…) reduced to letters, digits and dashes:
    nothing in it can end the Content-Disposition header or add a parameter to it."""
    ascii_parts = (unicodedata.normalize("NFKD", str(part)).encode("ascii", "ignore").decode() for part in parts)
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-") or "x" for part in ascii_parts)
