from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader

from . import jobs
from .identity import normalize_email, over_limit


class TenantModelForm(forms.ModelForm):
    """A ModelForm for rows of a PLIE. The owner (`plie=` or, say, `referent=`) is given by the view, never typed,
    and still takes part in validation, so that uniqueness within the PLIE is reported in the form instead of
    failing in the database."""

    owner_field = "plie"

    def __init__(self, *args, **kwargs):
        owner = kwargs.pop(self.owner_field)
        super().__init__(*args, **kwargs)
        setattr(self.instance, self.owner_field, owner)

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard(self.owner_field)
        return exclude


class NormalisedEmailField(forms.EmailField):
    def to_python(self, value):
        return super().to_python(normalize_email(value))


class LoginForm(AuthenticationForm):
    def clean_username(self):
        return normalize_email(self.cleaned_data.get("username"))


class QueuedPasswordResetForm(PasswordResetForm):
    """Sends the reset e-mail from a worker: the page answers at once, whatever the mail server does. An account
    receives at most PASSWORD_RESET_PER_ACCOUNT mails an hour; the page says the same thing beyond, so that it
    still reveals nothing about which addresses have an account."""

    email = NormalisedEmailField(
        label="Adresse e-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email):
        if over_limit("reset-account", email, limit=settings.PASSWORD_RESET_PER_ACCOUNT, seconds=3600):
            return []
        return super().get_users(email)

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        jobs.enqueue("email", payload={"subject": subject, "body": body, "to": [to_email]})
