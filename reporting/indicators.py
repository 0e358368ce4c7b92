"""The indicators of shared/spec/indicators.md for one operation and a period P = [start, end], as database aggregates.

`compute_bilan(operation, start, end)` returns the structure of the `bilan --json` command (shared/spec/interfaces.md).

Attribution (participants/attribution.py, the one implementation) goes through referents: a day of a parcours counts
for the fiche when the referent assigned that day has a period on a fiche of its code covering that day, inside the
fiche's own period. Figures of time are computed from its "attributed segments", which are disjoint for one parcours,
so their days add up.

Choices where the spec is silent:

- `parcours.operation` is not used: a referent attached to two operations at once counts their parcours for both,
  as the spec says ("everything a referent does while attached counts for that operation").
- The referents listed are those with at least one period on the operation overlapping P; a referent with several
  periods (an ETP change) appears once. They are sorted by last name, then first name (accents and case ignored).
- Events (integrations, steps, exits) count for the operation when the referent assigned on the event's date has a
  period on the operation covering that date; entretiens when the referent who held them does (an entretien without
  referent is attributed to nobody, hence to no operation).
- `sorties_positives` counts a positive exit only once it is validated after the 6-month follow-up (status
  "exited"); a positive exit waiting for validation ("exit_pending") already counts in `sorties` once its exit date
  is in P, so it weighs on the rate until it is validated.
- The months of `taux_suivi_mensuel` are clipped to P: a pair exists when a segment of the referent has a day in
  month ∩ P; it is followed when the participant had an entretien (held by anyone) dated in month ∩ P.
- `etapes_objectif` takes the rate of the fiche's steps target (its minimum when the fiche gives a range) and is
  `rate × basis` even when the basis is 0: an operation without referents gives 0.0. It is None only when the fiche
  sets no step target, as the spec says.

The number of queries is constant (10, and 11 when the operation's PLIE is not loaded yet), whatever the number of
participants, referents or months of P: the referents' periods, the steps target, one aggregate over the segments
per referent (days, participants), one query joining the segments to a generated list of the months of P (month-end
counts, (participant, month) pairs, and the distinct counts of the totals), one aggregate each for integrations,
exits, steps and entretiens, and two for the FSE+ tables (reporting/fse.py). Dates are compared in SQL; `DaysBetween` counts days on SQLite and PostgreSQL.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Q, Sum
from django_cte import CTE, with_cte

from operations.models import Modality, Operation, ReferentPeriod, StepBasis, Target, TargetKind, TargetScope
from operations.targets import EtpPeriod, days, etp_moyen, steps_objective_of
from participants import attribution
from participants.models import Entretien, Parcours
from plie.text import fold
from steps.models import Step, StepCategory, StepStatus, StepType, Validation

from .definitions import INDICATORS as DEFINITIONS
from .fse import fse_figures

# The keys of indicators.md, in the order of the one table of labels and definitions (reporting/definitions.py).
INDICATORS = [key for key, *_ in DEFINITIONS]


class DaysBetween(Func):
    """`later − earlier` in days, an integer: `date − date` on PostgreSQL, a difference of `julianday()` on SQLite."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        later, earlier = self.get_source_expressions()
        later_sql, later_params = compiler.compile(later)
        earlier_sql, earlier_params = compiler.compile(earlier)
        sql = f"CAST(ROUND(julianday({later_sql}) - julianday({earlier_sql})) AS INTEGER)"
        return sql, (*later_params, *earlier_params)


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def months_of(start, end):
    """The months of [start, end], each clipped to it: [(first day, last day), …]."""
    months = []
    first = start
    while first <= end:
        next_month = (first.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        last = min(end, next_month - datetime.timedelta(days=1))
        months.append((first, last))
        first = next_month
    return months


# --- Queries ---------------------------------------------------------------------------------------------------------


MONTHLY_SQL = """
WITH months (position, first_day, last_day) AS (VALUES {months}),
segments (referent_id, participant_id, seg_start, seg_end) AS ({segments}),
referent_months AS (
    SELECT s.referent_id, s.participant_id, m.position,
           MAX(CASE WHEN s.seg_start <= m.last_day AND m.last_day <= s.seg_end THEN 1 ELSE 0 END) AS month_end
    FROM segments s JOIN months m ON s.seg_start <= m.last_day AND m.first_day <= s.seg_end
    GROUP BY s.referent_id, s.participant_id, m.position
),
seen AS (
    SELECT DISTINCT e.participant_id, m.position
    FROM {entretien} e JOIN months m ON e.{date} >= m.first_day AND e.{date} <= m.last_day
    WHERE e.participant_id IN (SELECT participant_id FROM segments) AND e.{date} >= %s AND e.{date} <= %s{kept}
),
followed AS (
    SELECT r.referent_id, r.participant_id, r.position, r.month_end,
           CASE WHEN s.participant_id IS NULL THEN 0 ELSE 1 END AS followed
    FROM referent_months r LEFT JOIN seen s ON s.participant_id = r.participant_id AND s.position = r.position
)
SELECT 0, referent_id, SUM(month_end), COUNT(*), SUM(followed), NULL FROM followed GROUP BY referent_id
UNION ALL
SELECT 1, NULL, NULL, COUNT(*), SUM(followed), (SELECT COUNT(DISTINCT participant_id) FROM segments)
FROM (SELECT participant_id, position, MAX(followed) AS followed FROM followed GROUP BY participant_id, position) pairs
UNION ALL
SELECT 2, position, SUM(month_end), NULL, NULL, NULL FROM followed GROUP BY position
"""


# The entretiens a fiche's monthly target keeps (Grand Périgueux: physical ones, or remote ones during a step whose
# category admits remote follow-up). Appended to the entretiens read above; empty for the contractual
# `taux_suivi_mensuel`.
KEPT_SQL = """ AND (e.{modality} IN ({modalities}){remote})"""
REMOTE_SQL = """ OR EXISTS (
                   SELECT 1 FROM {step} st
                   JOIN {step_type} ty ON ty.id = st.step_type_id
                   JOIN {category} ca ON ca.id = ty.category_id
                   JOIN {parcours} pa ON pa.id = st.parcours_id
                   WHERE pa.participant_id = e.participant_id AND ca.remote_follow_up
                     AND st.start <= m.last_day AND (st.{end} IS NULL OR st.{end} >= m.first_day)
               )"""


def kept_entretiens_sql(modalities, remote_during_steps):
    """SQL and params restricting the entretiens of `monthly_figures` to a target's modalities and exception."""
    quote = connection.ops.quote_name
    remote = ""
    if remote_during_steps:
        remote = REMOTE_SQL.format(
            step=quote(Step._meta.db_table),
            step_type=quote(StepType._meta.db_table),
            category=quote(StepCategory._meta.db_table),
            parcours=quote(Parcours._meta.db_table),
            end=quote(Step._meta.get_field("end").column),
        )
    sql = KEPT_SQL.format(
        modality=quote(Entretien._meta.get_field("modality").column),
        modalities=", ".join(["%s"] * len(modalities)),
        remote=remote,
    )
    return sql, list(modalities)


def monthly_figures(attributed, months, kept=("", [])):
    """One query over the segments joined to the months of P (a VALUES list): per referent, the month-end counts
    of `file_active_mensuelle` and the (participant, month) pairs of `taux_suivi_mensuel` with those followed; for
    the operation, its distinct pairs and distinct participants, and its count at the end of each month.

    Returns ({referent_id: (month_end_actives, pairs, followed_pairs)}, (pairs, followed_pairs, participants),
    [month-end count of each month])."""
    segments_sql, segments_params = attributed.values(
        r=F("referent_id"), p=F("participant_id"), first=F("seg_start"), last=F("seg_end")
    ).query.sql_with_params()
    quote = connection.ops.quote_name
    sql = MONTHLY_SQL.format(
        months=", ".join(["(%s, %s, %s)"] * len(months)),
        segments=segments_sql,
        entretien=quote(Entretien._meta.db_table),
        date=quote(Entretien._meta.get_field("date").column),
        kept=kept[0],
    )
    adapt = connection.ops.adapt_datefield_value
    params = [value for index, (first, last) in enumerate(months) for value in (index, adapt(first), adapt(last))]
    per_referent, totals, month_ends = {}, (0, 0, 0), [0] * len(months)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *segments_params, adapt(months[0][0]), adapt(months[-1][1]), *kept[1]])
        for kind, key, month_end, pairs, followed, participants in cursor.fetchall():
            if kind == 0:
                per_referent[key] = (month_end or 0, pairs or 0, followed or 0)
            elif kind == 1:
                totals = (pairs or 0, followed or 0, participants or 0)
            else:
                month_ends[key] = month_end or 0
    return per_referent, totals, month_ends


@dataclass
class Figures:
    """The raw counts of one referent, or of the operation."""

    etp: Decimal = Decimal(0)
    active_days: int = 0
    month_end_actives: int = 0
    participants: int = 0
    integrations: int = 0
    steps: int = 0
    steps_done: int = 0
    exits: int = 0
    positive_exits: int = 0
    neutralised_exits: int = 0
    entretiens: int = 0
    pairs: int = 0
    followed_pairs: int = 0
    periods: list = field(default_factory=list)


ADDITIVE = [
    "etp",
    "active_days",
    "month_end_actives",
    "integrations",
    "steps",
    "steps_done",
    "exits",
    "positive_exits",
    "neutralised_exits",
    "entretiens",
]


def _ratio(numerator, denominator):
    return None if not denominator else numerator / denominator


def indicators(figures, period_days, month_count, step_target):
    """The INDICATORS of indicators.md from raw counts; rates and the steps objective from these counts only."""
    file_active_moyenne = Decimal(figures.active_days) / Decimal(period_days)
    objective = None
    if step_target is not None:
        bases = {StepBasis.FILE_ACTIVE: file_active_moyenne, StepBasis.PARTICIPANTS: figures.participants}
        objective = float(steps_objective_of(step_target, bases))
    counted_exits = figures.exits - figures.neutralised_exits
    return {
        "etp_moyen": float(figures.etp),
        "file_active_moyenne": float(file_active_moyenne),
        "file_active_mensuelle": figures.month_end_actives / month_count,
        "participants_accompagnes": figures.participants,
        "nouvelles_integrations": figures.integrations,
        "etapes_validees": figures.steps,
        "etapes_objectif": objective,
        "sorties": figures.exits,
        "sorties_positives": figures.positive_exits,
        "sorties_neutralisees": figures.neutralised_exits,
        "taux_sorties_positives": _ratio(figures.positive_exits, counted_exits),
        "taux_sorties_positives_brut": _ratio(figures.positive_exits, figures.exits),
        "entretiens": figures.entretiens,
        "taux_suivi_mensuel": _ratio(figures.followed_pairs, figures.pairs),
    }


def step_target_of(targets):
    """The fiche's steps target (per ETP first), or None when the fiche sets none."""
    by_scope = {target.scope: target for target in targets if target.kind == TargetKind.STEPS}
    return by_scope.get(TargetScope.PER_ETP) or by_scope.get(TargetScope.OPERATION)


def rule_figures(operation, start, end, targets, totals, month_ends):
    """What the fiche's own rules measure beyond indicators.md: the steps realised, the lowest month-end file
    active (« au minimum et en permanence »), the régulation meetings the `applications` app records, and the
    monthly follow-up counting only the entretiens the fiche's target keeps. At most two queries, whatever the
    number of targets and rules (one per kind of target, and a fiche has one target of a kind per scope)."""
    from applications.models import RegulationMeeting

    figures = {
        "etapes_realisees": totals.steps_done,
        "file_active_plancher": min(month_ends) if month_ends else 0,
        "reunions_regulation": None,
        "taux_suivi_modalites": None,
    }
    kinds = {target.kind: target for target in targets}
    if TargetKind.REGULATION_MEETINGS in kinds:
        span = attribution.window(operation, start, end)
        figures["reunions_regulation"] = (
            RegulationMeeting.objects.filter(
                operation__in=Operation.objects.same_fiche_as(operation).values("pk"), date__range=span
            ).count()
            if span
            else 0
        )
    interviews = kinds.get(TargetKind.MONTHLY_INTERVIEWS)
    if interviews is not None and (interviews.modality_list or interviews.remote_during_steps):
        kept = kept_entretiens_sql(interviews.modality_list or Modality.values, interviews.remote_during_steps)
        _, (pairs, followed, _), _ = monthly_figures(
            attribution.segments(operation, start, end), months_of(start, end), kept
        )
        figures["taux_suivi_modalites"] = _ratio(followed, pairs)
    return figures


def _name_key(referent):
    return fold(referent.last_name), fold(referent.first_name), referent.pk


def referent_figures(operation, start, end):
    """{referent: Figures} for the referents attached to the operation during P, and the Figures of the totals."""
    totals = Figures()
    span = attribution.window(operation, start, end)
    if span is None:
        return {}, {}, totals, []
    referents, by_id = _referents_and_etp(operation, span, start, end)
    if not by_id:
        return referents, by_id, totals, []
    month_ends = _add_activity(operation, start, end, by_id, totals)
    _add_integrations_and_exits(operation, start, end, by_id)
    _add_steps_and_entretiens(operation, span, by_id)
    for name in ADDITIVE:
        setattr(totals, name, sum(getattr(figures, name) for figures in by_id.values()))
    return referents, by_id, totals, month_ends


def _spread(rows, key, by_id, **fields):
    """Each aggregate row's values onto the Figures of its referent: {Figures attribute: row column}."""
    for row in rows:
        figures = by_id.get(row[key])
        if figures is not None:
            for attribute, column in fields.items():
                setattr(figures, attribute, row[column] or 0)


def _referents_and_etp(operation, span, start, end):
    # Sorted by name later: the default ordering would join the operation and its PLIE for nothing.
    referents, by_id = {}, {}
    periods = (
        ReferentPeriod.objects.counting_for(operation)
        .overlapping(*span)
        .select_related("referent__structure")
        .order_by()
    )
    for period in periods:
        referents[period.referent_id] = period.referent
        by_id.setdefault(period.referent_id, Figures()).periods.append(
            EtpPeriod(period.etp, *period.days_within(operation))
        )
    for figures in by_id.values():
        figures.etp = etp_moyen(figures.periods, start, end)
    return referents, by_id


def _add_activity(operation, start, end, by_id, totals):
    """Days in the file active, people followed, and the month-end figures; returns the month ends."""
    attributed = attribution.segments(operation, start, end)
    rows = attributed.values("referent_id").annotate(
        active_days=Sum(DaysBetween(F("seg_end"), F("seg_start")) + 1),
        participants=Count("participant_id", distinct=True),
    )
    _spread(rows, "referent_id", by_id, active_days="active_days", participants="participants")
    per_referent, (totals.pairs, totals.followed_pairs, totals.participants), month_ends = monthly_figures(
        attributed, months_of(start, end)
    )
    for referent_id, (month_end_actives, pairs, followed_pairs) in per_referent.items():
        if referent_id in by_id:
            figures = by_id[referent_id]
            figures.month_end_actives, figures.pairs, figures.followed_pairs = month_end_actives, pairs, followed_pairs
    return month_ends


def _add_integrations_and_exits(operation, start, end, by_id):
    entries = (
        attribution.integrations(operation, start, end)
        .values("referent_id")
        .annotate(integrations=Count("pk", distinct=True))
    )
    _spread(entries, "referent_id", by_id, integrations="integrations")
    # A positive exit counts once validated after its follow-up (status "exited") and when it meets the fiche's
    # definition, see the module docstring.
    neutralised = Q(exit_reason__in=operation.neutralised_exit_reasons.values("pk"))
    exits = (
        attribution.exits(operation, start, end)
        .values("referent_id")
        .annotate(
            exits=Count("pk", distinct=True),
            positive_exits=Count("pk", distinct=True, filter=attribution.validated_positive()),
            neutralised_exits=Count("pk", distinct=True, filter=neutralised),
        )
    )
    _spread(
        exits,
        "referent_id",
        by_id,
        exits="exits",
        positive_exits="positive_exits",
        neutralised_exits="neutralised_exits",
    )


def _add_steps_and_entretiens(operation, span, by_id):
    # Validated steps (`etapes_validees`) and, in the same aggregate, the steps realised that some fiches count.
    validated, done = Q(validation=Validation.VALIDATED), Q(status=StepStatus.DONE)
    # The counting step types read once and materialized: joined to the steps, each step would look its type up by
    # key among every PLIE's types.
    types = CTE(
        StepType.objects.filter(counts_toward_target=True).values("pk"), name="counted_types", materialized=True
    )
    counted = with_cte(types, select=types.join(Step.objects.filter(validated | done), step_type_id=types.col.pk))
    steps = (
        attribution.on_attached_day(counted, "start", operation, *span, parcours_field="parcours_id")
        .values("referent_id")
        .annotate(
            steps=Count("pk", distinct=True, filter=validated), steps_done=Count("pk", distinct=True, filter=done)
        )
    )
    _spread(steps, "referent_id", by_id, steps="steps", steps_done="steps_done")
    entretiens = (
        Entretien.objects.filter(date__range=span)
        .filter(attribution.attached_on("referent__", operation, F("date")))
        .order_by()
        .values("referent_id")
        .annotate(entretiens=Count("pk", distinct=True))
    )
    _spread(entretiens, "referent_id", by_id, entretiens="entretiens")


def compute_bilan(operation, start, end, *, today=None):
    """The bilan of `operation` over [start, end] (both days included): the dict that `bilan --json` prints, with
    the FSE+ participations and common indicators (shared/spec/fse.md) under "fse"."""
    start, end = _as_date(start), _as_date(end)
    if end < start:
        raise ValueError(f"La fin de la période ({end:%d/%m/%Y}) ne peut pas précéder son début ({start:%d/%m/%Y}).")
    period_days = days(start, end)
    months = months_of(start, end)
    targets = list(Target.objects.filter(operation=operation).order_by("scope"))
    step_target = step_target_of(targets)
    referents, by_id, totals, month_ends = referent_figures(operation, start, end)
    lines = []
    for referent in sorted(referents.values(), key=_name_key):
        lines.append(
            {
                "referent": referent.full_name,
                "structure": referent.structure.name,
                "referent_id": referent.pk,
                **indicators(by_id[referent.pk], period_days, len(months), step_target),
            }
        )
    return {
        "plie": operation.plie.slug,
        "operation": operation.code,
        "fiche": {"start": operation.start.isoformat(), "end": operation.end.isoformat()},
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": period_days},
        "totals": indicators(totals, period_days, len(months), step_target),
        "referents": lines,
        "mois": [
            {"fin": last.isoformat(), "file_active": count}
            for (_, last), count in zip(months, month_ends or [0] * len(months), strict=True)
        ],
        "fse": fse_figures(operation, start, end, participations=totals.participants, today=today),
        "regles": rule_figures(operation, start, end, targets, totals, month_ends),
    }
