"""French number formats: `295 200,00 €`, `0,8`."""

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
