"""Forms of the site's own pages (the rest are Django's: login, password change and reset)."""

from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """A username and a password, and an email address if the learner wants to be able to reset a
    lost password (the only mail the site sends)."""

    email = forms.EmailField(
        required=False, max_length=254,
        help_text="Optional. Only used to send you a link if you forget your password.",
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
