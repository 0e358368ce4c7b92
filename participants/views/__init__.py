"""The participants pages, one module per concern; participants/urls.py reads them from here."""

from .documents import document_create, document_download
from .entretiens import entretien_create, entretien_detail, entretien_edit
from .exits import exits_to_validate, parcours_exit, parcours_validate_exit
from .parcours import (
    parcours_assignment,
    parcours_commission,
    parcours_contract,
    parcours_employment,
    parcours_integration,
    parcours_reception,
    parcours_waiver,
    prescription_create,
)
from .participant import participant_create, participant_detail, participant_edit, participant_history, participant_list
from .participations import operation_participations, participation_correct
from .portfolio import commission_agenda, my_portfolio, team_portfolios

__all__ = [
    "entretien_detail",
    "entretien_edit",
    "participant_list",
    "participant_create",
    "participant_edit",
    "participant_detail",
    "participant_history",
    "prescription_create",
    "parcours_reception",
    "parcours_commission",
    "parcours_integration",
    "parcours_assignment",
    "parcours_contract",
    "parcours_waiver",
    "parcours_employment",
    "parcours_exit",
    "parcours_validate_exit",
    "exits_to_validate",
    "entretien_create",
    "document_create",
    "document_download",
    "my_portfolio",
    "commission_agenda",
    "team_portfolios",
    "operation_participations",
    "participation_correct",
]
