"""Cell parsers: each returns a Python value or raises InvalidCellError with what is expected, in French."""

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

from participants.models import Modality, Nationality, Prescriber
from plie.text import fold
from steps.models import StepStatus


class InvalidCellError(ValueError):
    pass


@functools.lru_cache(maxsize=100_000)
def normalize(text):
    """Case, accents, surrounding and repeated spaces and the kind of apostrophe do not matter."""
    return " ".join(fold(str(text)).split())


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


def options(choices, extra=None):
    """{normalized label or value: value} of a model's choices, with extra spellings."""
    found = {normalize(label): value for value, label in choices}
    found.update({normalize(value): value for value, _ in choices})
    found.update(extra or {})
    return found


PRESCRIBERS = options(Prescriber.choices, {"pole emploi": Prescriber.FRANCE_TRAVAIL, "ft": Prescriber.FRANCE_TRAVAIL})
STEP_STATUSES = options(StepStatus.choices, {"prevue": StepStatus.PROPOSED, "proposee": StepStatus.PROPOSED})
MODALITIES = options(Modality.choices, {"telephonique": Modality.PHONE, "visioconference": Modality.VIDEO})
step_status = choice(STEP_STATUSES, "Prévue, En cours, Réalisée ou Abandonnée")
modality = choice(MODALITIES, "Physique, Téléphone, Visio ou Collectif")


def third_country(value):
    return {"yes": Nationality.OUTSIDE_EU, "no": Nationality.FRANCE_OR_EU, "declined": Nationality.DECLINED}[
        answer(value)
    ]


def prescriber(value):
    """(prescriber, detail): a known prescriber, or « other » with the name as written."""
    key = normalize(value)
    return (PRESCRIBERS[key], "") if key in PRESCRIBERS else (Prescriber.OTHER, value.strip()[:200])


def etp(value):
    number = decimal(value)
    if not 0 < number <= 1:
        raise InvalidCellError("un ETP supérieur à 0 et au plus égal à 1, par exemple 0,8")
    if number != number.quantize(Decimal("0.01")):
        raise InvalidCellError("un ETP avec au plus deux décimales, par exemple 0,75")
    return number
