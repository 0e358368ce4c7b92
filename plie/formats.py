"""French number formats, the only ones of the project: `295 200,00 €`, `0,8`, `83,3 %`."""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"


def french_number(value, places=None):
    """At most two decimals and no trailing zeros (`1 904`, `87,5`), or exactly `places` decimals."""
    value = Decimal(value)
    if places is None:
        text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP).normalize():,f}"
    else:
        text = f"{value:,.{places}f}"
    return text.replace(",", NBSP).replace(".", ",")


def percent_of(share):
    """A share (0.833) in percent (83.3): the one place where a rate becomes a percentage."""
    return share * 100


def french_percent(share):
    """A share (0.833) as a French percentage to one decimal: `83,3 %`."""
    return f"{french_number(round(percent_of(share), 1))}{NBSP}%"
