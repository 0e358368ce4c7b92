from django.apps import AppConfig
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import post_delete, post_save, pre_save


def _participant_moved(sender, instance, raw=False, **kwargs):
    from .participations import resync

    if raw:
        return
    try:
        participant = instance if sender.__name__ == "Participant" else getattr(instance, "participant", None)
        participant = participant or instance.parcours.participant
    except ObjectDoesNotExist:  # deleted with its participant: the cascade takes the participations too
        return
    resync(participant.plie_id, [participant.pk])


# What attribution reads of a fiche and of an ETP period: a save that changes none of it (a fiche's title, ceiling or
# targets, a period's ETP) moves no participation, and the sync of a large PLIE takes a second or more.
ATTRIBUTION_FIELDS = {
    "Operation": ("plie_id", "code", "start", "end"),
    "ReferentPeriod": ("referent_id", "operation_id", "start", "end"),
}


def _read_before_save(sender, instance, raw=False, **kwargs):
    if not raw and instance.pk is not None:
        stored = sender.objects.filter(pk=instance.pk).values_list(*ATTRIBUTION_FIELDS[sender.__name__])
        instance._attribution_before = stored.first()


def _plie_moved(sender, instance, raw=False, created=True, **kwargs):
    """A fiche moves its whole PLIE; an ETP period, the people its referent follows or followed."""
    from .models import ReferentAssignment
    from .participations import resync

    if raw:
        return
    fields = ATTRIBUTION_FIELDS[sender.__name__]
    before = instance.__dict__.pop("_attribution_before", None)  # None: created or deleted
    if not created and before == tuple(getattr(instance, name) for name in fields):
        return
    if sender.__name__ == "Operation":
        resync(instance.plie_id)
        return
    referents = {instance.referent_id, *before[:1]} if before else {instance.referent_id}
    assigned = ReferentAssignment.objects.filter(referent_id__in=referents)
    resync(instance.operation.plie_id, set(assigned.values_list("parcours__participant_id", flat=True)))


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Participants"

    def ready(self):
        # Participations follow attribution (participants/participations.py): every save or delete of what
        # attribution reads asks for a sync, including those of the Django admin and of the shell.
        from operations.models import Operation, ReferentPeriod

        from .models import Parcours, Participant, ReferentAssignment

        for model in (Participant, Parcours, ReferentAssignment):
            post_save.connect(_participant_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
            post_delete.connect(_participant_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
        for model in (Operation, ReferentPeriod):
            pre_save.connect(_read_before_save, sender=model, dispatch_uid=f"participations_pre_{model.__name__}")
            post_save.connect(_plie_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
            post_delete.connect(_plie_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
