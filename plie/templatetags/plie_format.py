"""French number formats in templates: `295 200,00 €`, `0,8`, `70 à 90`, `85 %`."""

from django import template

from plie import text
from plie.formats import NBSP, french_number, french_percent

register = template.Library()


def _withheld(value):
    """A figure the viewer may not see (reporting.disclosure.Hidden) prints as itself: « < 5 »."""
    return type(value).__name__ == "Hidden"


@register.filter
def num(value):
    """A decimal with at most two decimals and no trailing zeros: 1904, 87,5, 0,8."""
    if value in (None, ""):
        return "—"
    if _withheld(value):
        return str(value)
    return french_number(value)


@register.filter
def euros(value):
    if value in (None, ""):
        return "—"
    return f"{french_number(value, 2)}{NBSP}€"


@register.filter
def percent(value):
    return "—" if value in (None, "") else f"{num(value)}{NBSP}%"


@register.filter
def amount(value, percent=False):
    """An Amount (a value or a range) in French: `70`, `70 à 90`."""
    if value is None:
        return "—"
    suffix = f"{NBSP}%" if percent else ""
    if value.is_range:
        return f"{num(value.low)} à {num(value.high)}{suffix}"
    return f"{num(value.low)}{suffix}"


@register.filter
def target_value(target):
    """A target as the fiche states it: `70 à 90`, `50 %`, `1,5`."""
    suffix = f"{NBSP}%" if target.is_percentage else ""
    if target.is_range:
        return f"{num(target.value_min)} à {num(target.value_max)}{suffix}"
    return f"{num(target.value_min)}{suffix}"


@register.filter
def rate(value):
    """A share (0.833) as a French percentage: 83,3 %."""
    if value is None:
        return "—"
    if _withheld(value):
        return str(value)
    return french_percent(value)


@register.filter
def of(value):
    """`{{ participant.first_name|of }}`: « de Léa », « d’Hélène »."""
    return text.of(value)


@register.filter
def agree(person, words):
    """`{{ participant|agree:"né,née" }}`: the word that agrees with the person's sex."""
    masculine, feminine = words.split(",")
    return text.gendered(getattr(person, "sex", ""), masculine, feminine)


@register.filter
def french_sorted(items):
    """Names in French dictionary order (« Boé » before « Bon-Encontre »), whatever the database's collation."""
    return sorted(items, key=lambda item: text.french_key(str(item)))
