"""The eligibility gate of integration: « Tous les éléments de justification de l’éligibilité du participant seront
exigés faute de quoi le participant ne pourra intégrer le dispositif » (fiche of the PLIE des Sources).

The fiche's rows (operations.EligibilityRule) say which proofs everyone needs and which criteria it accepts with the
proofs of each; a document proves a rule when it is of that proof type and dated within its validity at the entry.
A documented exception signed by the PLIE direction (EligibilityWaiver) opens the gate and is kept as the proof."""

from collections import defaultdict
from dataclasses import dataclass, field

from operations.models import CRITERIA

from .models import Document

CRITERIA_LABELS = dict(CRITERIA)
WAIVER = "derogation"
GENERAL = "general"


@dataclass
class Verdict:
    basis: str = ""  # the criterion proven, GENERAL when the fiche accepts anyone with its general proofs, or WAIVER
    missing: list = field(default_factory=list)  # French sentences, one per missing piece

    @property
    def eligible(self):
        return not self.missing


def _describe(proof_type, dates, entry_date):
    validity = f" datée de moins de {proof_type.validity_months} mois à l’entrée" if proof_type.validity_months else ""
    if not dates:
        return f"{proof_type.label}{validity} : pièce manquante"
    latest = max(dates)
    if latest > entry_date:
        return f"{proof_type.label} : la pièce déposée est datée du {latest:%d/%m/%Y}, après l’entrée"
    return f"{proof_type.label} : la pièce déposée est datée du {latest:%d/%m/%Y}, hors de sa validité ({validity.strip()})"


def check(*, parcours, operation, entry_date):
    """What the fiche requires of this person on `entry_date`, and what is missing (empty when the gate opens)."""
    rules = list(operation.eligibility_rules.select_related("proof_type"))
    if not rules:
        return Verdict()
    if hasattr(parcours, "eligibility_waiver"):
        return Verdict(basis=WAIVER)
    participant = parcours.participant
    dates = defaultdict(list)
    for proof_type_id, attests_on in Document.objects.filter(
        participant=participant, proof_type__isnull=False, attests_on__isnull=False
    ).values_list("proof_type_id", "attests_on"):
        dates[proof_type_id].append(attests_on)

    def gaps(selected):
        return [
            _describe(rule.proof_type, dates[rule.proof_type_id], entry_date)
            for rule in selected
            if not any(rule.proof_type.valid_for(day, entry_date) for day in dates[rule.proof_type_id])
        ]

    missing = gaps([rule for rule in rules if not rule.criterion])
    by_criterion = defaultdict(list)
    for rule in rules:
        if rule.criterion:
            by_criterion[rule.criterion].append(rule)
    if not by_criterion:
        return Verdict(basis=GENERAL if not missing else "", missing=missing)
    held = [criterion for criterion in by_criterion if getattr(participant, criterion)]
    if not held:
        accepted = ", ".join(CRITERIA_LABELS[c] for c in by_criterion)
        return Verdict(
            missing=[*missing, f"Aucun critère d’éligibilité accepté par la fiche n’est coché au dossier ({accepted})"]
        )
    per_criterion = {criterion: gaps(by_criterion[criterion]) for criterion in held}
    proven = [criterion for criterion, lacking in per_criterion.items() if not lacking]
    if proven:
        return Verdict(basis=proven[0] if not missing else "", missing=missing)
    for criterion, lacking in per_criterion.items():
        missing += [f"Critère « {CRITERIA_LABELS[criterion]} » — {gap}" for gap in lacking]
    return Verdict(missing=missing)
