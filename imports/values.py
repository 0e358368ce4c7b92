"""Cell parsers: each returns a Python value or raises InvalidCellError with what is expected, in French."""

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

from .columns import normalize


class InvalidCellError(ValueError):
    pass


def text(value):
    return value.strip()


@functools.lru_cache(maxsize=50_000)
def date(value):
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?", value)
    try:
        if match:
            day, month, year = (int(x) for x in match.groups())
            return datetime.date(year, month, day)
        if iso:
            year, month, day = (int(x) for x in iso.groups())
            return datetime.date(year, month, day)
    except ValueError as error:
        raise InvalidCellError("une date qui existe, au format JJ/MM/AAAA") from error
    raise InvalidCellError("une date au format JJ/MM/AAAA (ou AAAA-MM-JJ)")


def decimal(value):
    try:
        number = Decimal(value.strip().replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except InvalidOperation as error:
        raise InvalidCellError("un nombre, par exemple 0,8") from error
    if not number.is_finite():
        raise InvalidCellError("un nombre, par exemple 0,8")
    return number


TRUE = {"oui", "o", "1", "vrai", "yes", "true", "x"}
FALSE = {"non", "n", "0", "faux", "no", "false"}


@functools.lru_cache(maxsize=1_000)
def boolean(value):
    key = normalize(value)
    if key in TRUE:
        return True
    if key in FALSE:
        return False
    raise InvalidCellError("Oui ou Non")


SEXES = {"f": "F", "femme": "F", "h": "H", "homme": "H", "m": "H", "nb": "NB", "non-binaire": "NB", "non binaire": "NB"}


def sex(value):
    try:
        return SEXES[normalize(value)]
    except KeyError:
        raise InvalidCellError("F, H ou NB (Femme, Homme, Non-binaire)") from None


def qualification_level(value):
    key = normalize(value)
    if key.startswith("sans diplome"):
        return 1
    match = re.fullmatch(r"(?:niveau\s*)?([1-8])\b.*", key)
    if match:
        return int(match.group(1))
    raise InvalidCellError("un niveau de 1 à 8, « Niveau N… » ou « Sans diplôme »")


def insee(value):
    value = value.strip().upper()
    if not re.fullmatch(r"(\d{5}|2[AB]\d{3})", value):
        raise InvalidCellError("un code INSEE de 5 caractères, par exemple 47001 ou 2A004")
    return value


def postal_code(value):
    value = value.strip()
    if not re.fullmatch(r"\d{5}", value):
        raise InvalidCellError("un code postal de 5 chiffres")
    return value


def email(value):
    value = value.strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise InvalidCellError("une adresse e-mail")
    return value.lower()


def choice(options, expected):
    """A parser for a closed list: `options` is {normalized label: value}."""

    def parse(value):
        try:
            return options[normalize(value)]
        except KeyError:
            raise InvalidCellError(expected) from None

    return parse


DECLINED = {"ne souhaite pas repondre", "nspr"}
EMPLOYMENT = {
    "chomeur": "unemployed",
    "demandeur d'emploi": "unemployed",
    "sans emploi": "unemployed",
    "inactif": "inactive",
    "en emploi": "employed",
    "salarie": "employed",
    "independant": "employed",
}


def employment_status(value):
    key = normalize(value)
    if key in DECLINED:
        return "declined"
    try:
        return EMPLOYMENT[key]
    except KeyError:
        raise InvalidCellError("Chômeur, Inactif, En emploi ou Ne souhaite pas répondre") from None


def answer(value):
    """An FSE+ questionnaire answer: yes, no or declined (« Ne souhaite pas répondre »)."""
    key = normalize(value)
    if key in DECLINED:
        return "declined"
    if key in TRUE:
        return "yes"
    if key in FALSE:
        return "no"
    raise InvalidCellError("Oui, Non ou Ne souhaite pas répondre")
