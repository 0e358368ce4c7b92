"""The periods a bilan or a dashboard covers: a year, a semester, a quarter, or custom dates."""

import datetime
from dataclasses import dataclass

from django import forms

# A bilan covers a fiche (up to seven years with its last payments): a longer period is a typo, or an attempt to
# keep the server busy for a minute.
MAX_YEARS = 6


def check_length(start, end):
    if (end - start).days > MAX_YEARS * 366:
        raise forms.ValidationError(
            "La période ne peut pas dépasser %(years)s ans.", code="too_long", params={"years": MAX_YEARS}
        )


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    label: str

    @property
    def days(self):
        return (self.end - self.start).days + 1


def year(y):
    return Period(datetime.date(y, 1, 1), datetime.date(y, 12, 31), f"Année {y}")


def semester(y, s):
    start = datetime.date(y, 1 if s == 1 else 7, 1)
    end = datetime.date(y, 6, 30) if s == 1 else datetime.date(y, 12, 31)
    return Period(start, end, f"{'1er' if s == 1 else '2e'} semestre {y}")


def quarter(y, q):
    start = datetime.date(y, 3 * (q - 1) + 1, 1)
    end = (datetime.date(y + 1, 1, 1) if q == 4 else datetime.date(y, 3 * q + 1, 1)) - datetime.timedelta(days=1)
    return Period(start, end, f"{q}{'er' if q == 1 else 'e'} trimestre {y}")


def month(y, m):
    start = datetime.date(y, m, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return Period(start, end, f"{MONTHS[m - 1]} {y}")


MONTHS = ["Janvier", "Février", "Mars", "Avril", "Mai", "Juin", "Juillet", "Août", "Septembre", "Octobre",
          "Novembre", "Décembre"]  # fmt: skip


class PeriodForm(forms.Form):
    KINDS = [
        ("year", "Année"),
        ("semester", "Semestre"),
        ("quarter", "Trimestre"),
        ("month", "Mois"),
        ("custom", "Dates choisies"),
    ]

    kind = forms.ChoiceField(
        label="Période",
        choices=KINDS,
        initial="year",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    year = forms.IntegerField(
        label="Année",
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    part = forms.IntegerField(
        label="Semestre, trimestre ou mois",
        min_value=1,
        max_value=12,
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    start = forms.DateField(
        label="Du",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    end = forms.DateField(
        label="Au",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )

    def clean(self):
        cleaned = super().clean()
        kind, y, part = cleaned.get("kind"), cleaned.get("year"), cleaned.get("part") or 1
        if kind == "custom":
            start, end = cleaned.get("start"), cleaned.get("end")
            if not start or not end:
                raise forms.ValidationError("Indiquez le début et la fin de la période.")
            if end < start:
                raise forms.ValidationError("La fin de la période ne peut pas précéder son début.")
            check_length(start, end)
            cleaned["period"] = Period(start, end, f"Du {start:%d/%m/%Y} au {end:%d/%m/%Y}")
        elif y:
            if kind == "semester" and part > 2:
                raise forms.ValidationError("Une année compte deux semestres.")
            if kind == "quarter" and part > 4:
                raise forms.ValidationError("Une année compte quatre trimestres.")
            cleaned["period"] = {
                "year": lambda: year(y),
                "semester": lambda: semester(y, part),
                "quarter": lambda: quarter(y, part),
                "month": lambda: month(y, part),
            }[kind]()
        return cleaned


def period_from(data, default):
    """The period asked in a query string, or `default`; with the bound form for the selector."""
    form = PeriodForm(data or None, initial={"kind": "year", "year": default.start.year})
    if data and form.is_valid():
        return form.cleaned_data["period"], form
    return default, form
