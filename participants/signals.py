from django.dispatch import Signal

# Sent with `participant` just before a person is anonymised or deleted. Apps that keep documents naming people
# (reporting: the stored bilans with their nominative annex) delete those naming this person and answer how many.
# A signal rather than an import: those apps depend on this one, not the other way round.
person_forgotten = Signal()
