"""Attribution (shared/spec/indicators.md, fse.md): which days and events of a parcours count for a fiche opération.

A day counts for a fiche when the referent assigned to the parcours that day has an ETP period on a fiche of the
same code of the PLIE covering that day, and the day lies inside the fiche's own period: fiches are annual, and a
period that spans years counts, day by day, for the fiche of its code in force that day (import-format.md, file 4).

This is the one implementation: the indicators, the lists of people behind them, the monthly chart, the FSE+
participations and the nominative annex are all built on it.
"""

from django.db.models import DateField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django_cte import CTE, with_cte

from operations.models import DurationRule, ExitCategory, WorkingTime, WorkingTimeRule

from .models import Parcours, ReferentAssignment, Status


def _date(value):
    return Value(value, output_field=DateField())


def window(operation, start, end):
    """The days of [start, end] inside the fiche's period, or None when they share none."""
    first, last = max(start, operation.start), min(end, operation.end)
    return (first, last) if first <= last else None


def holds_on(path, day):
    """The dated row at `path` (an assignment or a period: a prefix such as "assignments__", or "") covers `day`."""
    return Q(**{f"{path}start__lte": day}) & (Q(**{f"{path}end__isnull": True}) | Q(**{f"{path}end__gte": day}))


def attached_on(referent_path, operation, day):
    """The referent at `referent_path` has a period on a fiche of the operation's code covering `day`.
    Callers keep `day` inside the fiche's period (see `window`)."""
    periods = f"{referent_path}periods__"
    return Q(**{f"{periods}operation__in": operation.same_fiche_ids}) & holds_on(periods, day)


def overlaps(path, start, end, start_field="start", end_field="end"):
    """The dated row at `path` has at least one day in [start, end] (an empty end means still running)."""
    return Q(**{f"{path}{start_field}__lte": end}) & (
        Q(**{f"{path}{end_field}__isnull": True}) | Q(**{f"{path}{end_field}__gte": start})
    )


def _attached(operation, start, end):
    """A materialized CTE of (parcours_id, referent_id, first, last): the days of [start, end] on which a parcours is
    assigned to a referent who has a period on a fiche of the operation's code. Each assignment is cut by each such
    period of its referent; the assignments of one parcours never overlap, nor do the periods of one referent on
    one code, so the rows of one parcours are disjoint.

    Materialized, so that the planner joins it to the PLIE's parcours (or steps), read by their PLIE, by hashing,
    as it does in a database that holds only that PLIE. Inlined, the planner walks from each assignment to its
    parcours by key, and the bilan costs 1.2 times more among other PLIEs (docs/bilan-parmi-les-autres.md). The
    assignments are found through the fiche's referents, who are the PLIE's: filtered by the PLIE as well, they
    would be estimated 20 times too few, and read one by one again."""
    # One filter() call: the assignment and the period are joined once, so that the conditions hold for the same
    # period (not for any two of them).
    rows = ReferentAssignment.objects.filter(
        overlaps("", start, end)
        & Q(referent__periods__operation__in=operation.same_fiche_ids)
        & overlaps("referent__periods__", start, end)
    ).values(
        "parcours_id",
        "referent_id",
        first=Greatest(F("start"), F("referent__periods__start"), _date(start), output_field=DateField()),
        last=Least(
            Coalesce(F("end"), _date(end)),
            Coalesce(F("referent__periods__end"), _date(end)),
            _date(end),
            output_field=DateField(),
        ),
    )
    return CTE(rows.filter(last__gte=F("first")).order_by(), name="attached", materialized=True)


def _with_attached(rows, day_field, operation, start, end, parcours_field="id"):
    """The PLIE's `rows` joined to the attached days, with their `referent_id`; `day_field` (None: any day) falls in
    them."""
    attached = _attached(operation, start, end)
    on = {parcours_field: attached.col.parcours_id}
    if day_field:
        on.update({f"{day_field}__gte": attached.col.first, f"{day_field}__lte": attached.col.last})
    return (
        with_cte(attached, select=attached.join(rows.filter(plie_id=operation.plie_id), **on))
        .annotate(referent_id=attached.col.referent_id)
        .alias(attached_from=attached.col.first, attached_to=attached.col.last)
        .order_by()
    )


def segments(operation, start, end):
    """The parcours of the PLIE with `referent_id`, `seg_start` and `seg_end`: each stretch of [start, end] inside
    the fiche on which the parcours is active and with a referent attached to the fiche (at least one day). The
    segments of one parcours are disjoint, so their days add up."""
    span = window(operation, start, end)
    if span is None:
        return Parcours.objects.none()
    start, end = span
    active = Parcours.objects.filter(overlaps("", start, end, "entry_date", "exit_date"))
    return (
        _with_attached(active, None, operation, start, end)
        .alias(
            seg_start=Greatest(F("attached_from"), F("entry_date"), output_field=DateField()),
            seg_end=Least(F("attached_to"), Coalesce(F("exit_date"), _date(end)), output_field=DateField()),
        )
        .filter(seg_end__gte=F("seg_start"))
    )


def on_attached_day(rows, day_field, operation, start, end, parcours_field="id"):
    """The `rows` of the PLIE (parcours, or rows of a parcours at `parcours_field`) whose `day_field` is in
    [start, end] while the parcours is with a referent attached to the fiche, with that `referent_id`."""
    span = window(operation, start, end)
    if span is None:
        return rows.none()
    rows = rows.filter(**{f"{day_field}__range": span})
    return _with_attached(rows, day_field, operation, *span, parcours_field)


def integrations(operation, start, end):
    return on_attached_day(Parcours.objects.all(), "entry_date", operation, start, end)


def exits(operation, start, end):
    """Parcours that left the PLIE (not only the fiche) in the period."""
    return on_attached_day(Parcours.objects.all(), "exit_date", operation, start, end)


def meets_exit_definition(prefix=""):
    """The exit of the parcours at `prefix` meets every condition its reason's definition sets (contract kind,
    duration « au moins » or « plus de », working time, months in the year). One Q over columns: the number of
    queries does not depend on the number of exit definitions."""
    reason, parcours = f"{prefix}exit_reason__", prefix

    def q(**kwargs):
        return Q(**{(reason if key.startswith("r_") else parcours) + key[2:]: value for key, value in kwargs.items()})

    kind = q(r_contract_type="") | q(p_contract_type=F(f"{reason}contract_type"))
    duration = (
        q(r_min_months__isnull=True)
        | q(r_duration_rule=DurationRule.AT_LEAST, p_contract_months__gte=F(f"{reason}min_months"))
        | q(r_duration_rule=DurationRule.MORE_THAN, p_contract_months__gt=F(f"{reason}min_months"))
    )
    working = (
        q(r_working_time=WorkingTimeRule.ANY)
        | q(r_working_time=WorkingTimeRule.FULL, p_working_time=WorkingTime.FULL)
        | q(
            r_working_time=WorkingTimeRule.FULL_OR_CHOSEN,
            p_working_time__in=[WorkingTime.FULL, WorkingTime.CHOSEN_PART],
        )
    )
    months = q(r_min_months_in_year__isnull=True) | q(p_months_in_year__gte=F(f"{reason}min_months_in_year"))
    return kind & duration & working & months


def validated_positive(prefix=""):
    """`sorties_positives`: a positive exit, validated after the follow-up its definition names, that meets the
    definition's conditions. The indicators and the list of the people behind the figure both use it."""
    return Q(
        **{f"{prefix}exit_reason__category": ExitCategory.POSITIVE, f"{prefix}status": Status.EXITED}
    ) & meets_exit_definition(prefix)
