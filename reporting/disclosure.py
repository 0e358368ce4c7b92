"""What figures a viewer may see: one policy, applied by `disclose` to the report every output is drawn from (page,
charts, CSV, XLSX, PDF), decided by the viewer's role, never by who asked for a document. SECURITY.md explains why.

- The animation team and the PLIE admin see everything, for any period.
- A referent sees the figures of their own portfolio only: their own line, no operation total, no FSE+ table, no
  breakdown by structure, no monthly chart.
- The steering committee sees aggregates for the fixed reporting periods only (month, quarter, semester, year, the
  fiche), with every count from 1 to 4 hidden (primary suppression) and enough other cells hidden (complementary
  suppression) that no total, part, rate, average, or difference of two allowed periods gives a hidden count back.
"""

import copy
import dataclasses
import datetime

from plie.models import Role

from .periods import Period, month, quarter, semester, year

SMALL = range(1, 5)


class Hidden:
    """A figure withheld from the viewer: shown as « < 5 », never as a number, in every format."""

    def __str__(self):
        return "< 5"

    def __repr__(self):
        return "HIDDEN"

    def __reduce__(self):
        return "HIDDEN"  # a cached report (reporting/report.py) gives back this very object


HIDDEN = Hidden()

TEAM, COPIL, REFERENT = "team", "copil", "referent"
COUNTS = [
    "participants_accompagnes",
    "nouvelles_integrations",
    "etapes_validees",
    "sorties",
    "sorties_positives",
    "sorties_neutralisees",
    "entretiens",
]
# Averages over people are hidden with the number of people; rates with their numerator or denominator.
AVERAGES = ["file_active_moyenne", "file_active_mensuelle", "etapes_objectif"]
RATES = {
    "taux_sorties_positives": ("sorties_positives", None),  # denominator: exits less neutralised ones
    "taux_sorties_positives_brut": ("sorties_positives", "sorties"),
    "taux_suivi_mensuel": ("participants_accompagnes", "participants_accompagnes"),
}
FSE_CELLS = ["total", "femmes", "hommes", "autres", "declined", "missing"]
SEX_PARTS = ["femmes", "hommes", "autres"]
# Rows of the FSE+ entry table that add up, with their « ne souhaite pas répondre » and « non renseigné », to EECO01.
FSE_PARTITIONS = [["EECO02", "EECO04", "EECO05"], ["EECO09", "EECO10", "EECO11"]]


def audience(role):
    if role in (Role.ADMIN, Role.ANIMATION):
        return TEAM
    return REFERENT if role == Role.REFERENT else COPIL


def allowed_periods(operation):
    """The fixed reporting periods inside the fiche: its months, quarters, semesters, calendar years, and itself."""
    periods = [Period(operation.start, operation.end, f"Période de la fiche ({operation.years})")]
    for y in range(operation.start.year, operation.end.year + 1):
        candidates = [year(y), *(semester(y, s) for s in (1, 2)), *(quarter(y, q) for q in range(1, 5))]
        candidates += [month(y, m) for m in range(1, 13)]
        periods += [p for p in candidates if operation.start <= p.start and p.end <= operation.end]
    unique = {}
    for period in periods:
        unique.setdefault((period.start, period.end), period)
    return list(unique.values())


def is_allowed(operation, start, end):
    return any((p.start, p.end) == (start, end) for p in allowed_periods(operation))


def siblings(operation, start, end):
    """The allowed periods C such that some allowed A is the union of [start, end] and C (a year and its other
    semester, a semester and its other quarter, a two-year fiche and its other year): showing A and [start, end]
    would give C away by a difference."""
    allowed = allowed_periods(operation)
    spans = {(p.start, p.end) for p in allowed}
    found = []
    for parent in allowed:
        if parent.start == start and parent.end > end:
            other = (end + datetime.timedelta(days=1), parent.end)
        elif parent.end == end and parent.start < start:
            other = (parent.start, start - datetime.timedelta(days=1))
        else:
            continue
        if other in spans:
            found.append(other)
    return found


def _small(value):
    return isinstance(value, int) and not isinstance(value, bool) and value in SMALL


def _hide(mapping, key):
    if mapping.get(key) is not None:
        mapping[key] = HIDDEN


def _protect_partition(cells, total):
    """`cells` are {key: value} parts adding up to `total` (shown): one hidden part among shown ones would be the
    total less the others, so the smallest other non-zero part is hidden with it."""
    if isinstance(total, Hidden):
        return
    hidden = [k for k, v in cells.items() if isinstance(v, Hidden)]
    shown = sorted((v, k) for k, v in cells.items() if isinstance(v, int) and v > 0)
    if len(hidden) == 1 and shown:
        cells[shown[0][1]] = HIDDEN


def _mask_totals(totals, sibling_totals):
    masked = dict(totals)
    for key in COUNTS:
        if _small(totals.get(key)) or any(_small(other.get(key)) for other in sibling_totals):
            masked[key] = HIDDEN
    if isinstance(masked["participants_accompagnes"], Hidden):
        for key in AVERAGES:
            _hide(masked, key)
    counted = totals["sorties"] - totals["sorties_neutralisees"]
    for key, (numerator, denominator) in RATES.items():
        below = _small(counted) if denominator is None else isinstance(masked[denominator], Hidden)
        if isinstance(masked[numerator], Hidden) or below:
            _hide(masked, key)
    return masked


def _mask_lines(lines, masked_totals):
    from operations.models import TargetKind

    from .results import RESULT_OF

    result = []
    for line in lines:
        keys = ["sorties", "participants_accompagnes"] if line.target.kind == TargetKind.EXIT_RATE else []
        keys.append(RESULT_OF.get(line.target.kind, "participants_accompagnes"))
        if any(isinstance(masked_totals.get(key), Hidden) for key in keys):
            line = dataclasses.replace(line, result=HIDDEN, projection=None, status="masked")
        result.append(line)
    return result


def _mask_structures(rows, sibling_rows):
    rows = [dict(row) for row in rows]
    for row in rows:
        others = [other for sibling in sibling_rows for other in sibling if other["structure"] == row["structure"]]
        for key in COUNTS:
            if _small(row.get(key)) or any(_small(other.get(key)) for other in others):
                row[key] = HIDDEN
        if isinstance(row.get("participants_accompagnes"), Hidden):
            _hide(row, "file_active_moyenne")
        if isinstance(row.get("sorties_positives"), Hidden) or isinstance(row.get("sorties"), Hidden):
            _hide(row, "taux_sorties_positives")
    for key in COUNTS:
        column = {index: row.get(key) for index, row in enumerate(rows)}
        _protect_partition(column, 0)
        for index, value in column.items():
            rows[index][key] = value
    return rows


def _mask_fse(fse, sibling_fse):
    fse = copy.deepcopy(fse)
    for key in ("participations", "entrees", "sorties"):
        if _small(fse[key]) or any(_small(other[key]) for other in sibling_fse):
            fse[key] = HIDDEN
    for code, values in fse["indicateurs"].items():
        others = [other["indicateurs"][code] for other in sibling_fse]
        extra = {"declined": fse["ne_souhaite_pas_repondre"], "missing": fse["non_renseigne"]}
        cells = {**values, **{name: source.get(code) for name, source in extra.items()}}
        other_cells = [
            {**o, "declined": s["ne_souhaite_pas_repondre"].get(code), "missing": s["non_renseigne"].get(code)}
            for o, s in zip(others, sibling_fse, strict=True)
        ]
        for cell, value in cells.items():
            if _small(value) or any(_small(other.get(cell)) for other in other_cells):
                cells[cell] = HIDDEN
        parts = {part: cells[part] for part in SEX_PARTS}
        _protect_partition(parts, cells["total"])
        cells.update(parts)
        fse["indicateurs"][code] = {cell: cells[cell] for cell in values}
        for name, source in extra.items():
            if code in source:
                source[code] = cells[name]
    entered = fse["indicateurs"]["EECO01"]["total"]
    for partition in FSE_PARTITIONS:
        first = partition[0]
        parts = {code: fse["indicateurs"][code]["total"] for code in partition}
        parts["declined"] = fse["ne_souhaite_pas_repondre"].get(first)
        parts["missing"] = fse["non_renseigne"].get(first)
        _protect_partition(parts, entered)
        for code in partition:
            fse["indicateurs"][code]["total"] = parts[code]
        fse["ne_souhaite_pas_repondre"][first] = parts["declined"]
        fse["non_renseigne"][first] = parts["missing"]
    return fse


def disclose(report, *, role, referent_ids=(), sibling_reports=()):
    """The report as the viewer with `role` may see it. `referent_ids` are the viewer's referent profiles (for a
    referent); `sibling_reports` are the reports of `siblings(...)` (for the steering committee)."""
    from .fse import fse_sections

    seen = audience(role)
    if seen == TEAM:
        return dict(report, hidden_for=TEAM)
    disclosed = dict(report, annex=None, hidden_for=seen)
    if seen == REFERENT:
        own = [row for row in report["referents"] if row.get("referent_id") in set(referent_ids)]
        disclosed.update(referents=own, structures=[], lines=[], fse=None, fse_sections=[], months=[])
        disclosed["totals"] = own[0] if len(own) == 1 else {}
        return disclosed
    totals = _mask_totals(report["totals"], [s["totals"] for s in sibling_reports])
    fse = _mask_fse(report["fse"], [s["fse"] for s in sibling_reports])
    disclosed.update(
        totals=totals,
        referents=None,
        lines=_mask_lines(report["lines"], totals),
        structures=_mask_structures(report["structures"], [s["structures"] for s in sibling_reports]),
        fse=fse,
        fse_sections=fse_sections(fse),
        months=[(day, HIDDEN if _small(count) else count) for day, count in report["months"]],
    )
    return disclosed
