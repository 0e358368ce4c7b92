"""Names and headers compared as people write them: accents, case and the kind of apostrophe do not matter."""

import re
import unicodedata

# Typed or pasted from other software, an apostrophe comes in any of these. Folded to the straight one, as the keys
# already stored (imports.ColumnMapping) were.
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'"})


def fold(text):
    """« Élodie » and « ELODIE » alike, « Garde d'enfants » and « Garde d’enfants » too: accents dropped, case
    folded, one apostrophe."""
    decomposed = unicodedata.normalize("NFKD", text.translate(APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def download_name(*parts):
    """A file name made of `parts` (a PLIE, a fiche code typed by a user…) reduced to letters, digits and dashes:
    nothing in it can end the Content-Disposition header or add a parameter to it."""
    ascii_parts = (unicodedata.normalize("NFKD", str(part)).encode("ascii", "ignore").decode() for part in parts)
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-") or "x" for part in ascii_parts)


def of(name):
    """« de Léa », « d’Hélène », « d’Yves »: the preposition elided before a vowel or a mute h."""
    name = str(name)
    return f"d’{name}" if fold(name[:1]) in set("aeiouyh") else f"de {name}"


def gendered(sex, masculine, feminine):
    """The word that agrees with the person: « née » for a woman, « né » for a man, both when the sex is unknown."""
    if sex == "F":
        return feminine
    if sex == "H":
        return masculine
    return (
        f"{masculine}·{feminine[len(masculine) :]}" if feminine.startswith(masculine) else f"{masculine} ou {feminine}"
    )


def french_key(text):
    """Sorts as a French reader expects, on every database: « Boé » before « Bon-Encontre », « Écoyeux » among the E."""
    text = str(text)
    return ("".join(c for c in fold(text) if c.isalnum()), fold(text), text)
