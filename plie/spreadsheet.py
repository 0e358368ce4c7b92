"""The one formula neutraliser of every export (CSV or XLSX, pages or Django admin), after OWASP's CSV injection
advice. Exports pass their cells through it before formatting numbers, so that numbers stay numbers."""

# A text cell starting with one of these is run as a formula by Excel or LibreOffice, repeated or not (`==`, `+-`).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    """A text cell a spreadsheet could run as a formula is written as text (a leading apostrophe); numbers, dates
    and empty cells are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row):
    return [safe(value) for value in row]
