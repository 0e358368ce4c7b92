from django.apps import AppConfig
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import post_delete, post_save, pre_save


def _read_fields(sender):
    """What attribution and the entry situations read of a row: a save that changes none of it (a person's phone, a
    fiche's title, ceiling or targets, a period's ETP) moves no participation, and the sync of a large PLIE takes a
    second or more."""
    from .participations import PERSON_FIELDS

    return {
        "Participant": ("plie_id", *PERSON_FIELDS),
        "Operation": ("plie_id", "code", "start", "end"),
        "ReferentPeriod": ("referent_id", "operation_id", "start", "end"),
    }[sender.__name__]


def _read_before_save(sender, instance, raw=False, **kwargs):
    if not raw and instance.pk is not None:
        instance._read_before = sender.objects.filter(pk=instance.pk).values(*_read_fields(sender)).first()


def _before(sender, instance, created):
    """(what the row held before this save, None for a creation or a deletion; whether the save changed none of it)."""
    before = instance.__dict__.pop("_read_before", None)
    return before, not created and before == {name: getattr(instance, name) for name in _read_fields(sender)}


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


def _person_saved(sender, instance, created, raw=False, **kwargs):
    """A person just created has no parcours yet, hence no participation; a save that changes nothing of what
    `_read_fields` lists moves none."""
    from .participations import resync

    if raw or created:
        return
    _, unchanged = _before(sender, instance, created)
    if not unchanged:
        resync(instance.plie_id, [instance.pk])


def _plie_moved(sender, instance, raw=False, created=True, **kwargs):
    """A fiche moves its whole PLIE; an ETP period, the people its referent follows or followed. A deletion (its
    signal has no `created`) always moves them. A new fiche of a code the PLIE had not used moves no one: days count
    for a fiche through ETP periods on fiches of its code, and it has none yet (each period asks its own sync)."""
    from .models import ReferentAssignment
    from .participations import resync

    if raw:
        return
    before, unchanged = _before(sender, instance, created)
    if unchanged:
        return
    if sender.__name__ == "Operation":
        same_code = sender.objects.filter(plie_id=instance.plie_id, code=instance.code).exclude(pk=instance.pk)
        if kwargs["signal"] is post_delete or not created or same_code.exists():
            resync(instance.plie_id)
        return
    referents = {instance.referent_id, before["referent_id"]} if before else {instance.referent_id}
    assigned = ReferentAssignment.objects.filter(referent_id__in=referents)
    resync(instance.operation.plie_id, set(assigned.values_list("parcours__participant_id", flat=True)))


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Participants"

    def ready(self):
        # Participations follow attribution (participants/participations.py): every save that changes what attribution
        # reads, and every deletion, asks for a sync, including those of the Django admin and of the shell.
        from operations.models import Operation, ReferentPeriod

        from .models import Parcours, Participant, ReferentAssignment

        post_save.connect(_person_saved, sender=Participant, dispatch_uid="participations_Participant")
        for model in (Parcours, ReferentAssignment):
            post_save.connect(_participant_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
        for model in (Participant, Parcours, ReferentAssignment):
            post_delete.connect(_participant_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
        for model in (Participant, Operation, ReferentPeriod):
            pre_save.connect(_read_before_save, sender=model, dispatch_uid=f"participations_pre_{model.__name__}")
        for model in (Operation, ReferentPeriod):
            post_save.connect(_plie_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
            post_delete.connect(_plie_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
