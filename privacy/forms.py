from django import forms


class WithdrawalForm(forms.Form):
    """An erasure or a restriction: its reason goes to the journal, which must hold no personal data."""

    reason = forms.CharField(
        label="Motif",
        max_length=200,
        help_text="Sans donnée personnelle, par exemple : « Demande écrite reçue le 03/02/2026, réf. 2026-014 ».",
    )
    confirm = forms.BooleanField(label="Je confirme cette décision (un effacement, lui, est définitif).", required=True)
