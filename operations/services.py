from django.db import transaction

from plie.audit import save_as

from .models import Operation


@transaction.atomic
def set_retention(*, operation, last_payment_year, legal_hold, by):
    """The PLIE administrator sets when the fiche's proofs may go, or freezes them; the history keeps who did."""
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if last_payment_year is None and operation.last_payment_year is not None:
        operation.audit_deadline = None  # it followed from the year taken back (Operation.save)
    operation.last_payment_year = last_payment_year
    operation.legal_hold = legal_hold
    return save_as(operation, by)
