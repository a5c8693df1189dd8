"""Service error messages in the user's language.

The write path raises English messages with the offending value inside
(``'31.02.1990' is not a date …``). Pages show them translated: a fixed message is looked up in
the catalogue as it is; a message with a value is matched against the patterns below, and the
translated template gets the value back. A message that matches nothing is shown as raised.
``tests/test_error_text.py`` feeds real service errors through here, so wording drift is caught.
"""

import re

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

FIXED_MESSAGES = [
    gettext_noop("This field is required."),
    gettext_noop("Give both ends of the contact window or neither."),
    gettext_noop("The window must not be empty."),
    gettext_noop("No custom field with this key is defined."),
    gettext_noop("Must be text or a list of texts."),
    gettext_noop("A channel is listed twice."),
    gettext_noop("Must not be empty."),
    gettext_noop("Must be text."),
    gettext_noop("Contact persons belong to a company profile."),
    gettext_noop("A contact person must be a person profile."),
    gettext_noop("Use latin letters, digits and underscores."),
    gettext_noop("A choice field needs a list of texts to choose from."),
]

_VALUE = r"(?P<value>'.*'|\".*\")"
PATTERNS: list[tuple[re.Pattern[str], Promise]] = [(re.compile(rf"^{regex}$", re.S), text) for regex, text in [
    (rf"{_VALUE} is not a date \(use YYYY-MM-DD or DD\.MM\.YYYY\)\.",
     gettext_lazy("%(value)s is not a date (use YYYY-MM-DD or DD.MM.YYYY).")),
    (rf"{_VALUE} is out of range\.", gettext_lazy("%(value)s is out of range.")),
    (rf"{_VALUE} is not a time of day \(use HH:MM\)\.", gettext_lazy("%(value)s is not a time of day (use HH:MM).")),
    (r"At most (?P<limit>\d+) characters \(got (?P<got>\d+)\)\.",
     gettext_lazy("At most %(limit)s characters (got %(got)s).")),
    (rf"{_VALUE} is not one of (?P<options>.*)\.", gettext_lazy("%(value)s is not one of %(options)s.")),
    (rf"{_VALUE} is not a time zone name like 'Europe/Moscow'\.",
     gettext_lazy("%(value)s is not a time zone name like 'Europe/Moscow'.")),
    (rf"{_VALUE} is not a number\.", gettext_lazy("%(value)s is not a number.")),
    (rf"{_VALUE} is not yes or no\.", gettext_lazy("%(value)s is not yes or no.")),
    (rf"{_VALUE} is not a phone number\.", gettext_lazy("%(value)s is not a phone number.")),
    (rf"{_VALUE} is not a valid phone number for region (?P<region>\w+)\.",
     gettext_lazy("%(value)s is not a valid phone number for region %(region)s.")),
    # The validator's English detail ("must have exactly one @-sign") would not read in Russian.
    (rf"{_VALUE} is not a valid email address: .*", gettext_lazy("%(value)s is not a valid email address.")),
    (rf"{_VALUE} is not a valid handle \(letters, digits, _ and \.\)\.",
     gettext_lazy("%(value)s is not a valid handle (letters, digits, _ and .).")),
    (rf"{_VALUE} is not a card number \(3-40 letters or digits\)\.",
     gettext_lazy("%(value)s is not a card number (3-40 letters or digits).")),
    (rf"{_VALUE} must look like 'system:id'\.", gettext_lazy("%(value)s must look like 'system:id'.")),
    (r"(?P<value>\S+) already belongs to customer #(?P<id>\d+)\.",
     gettext_lazy("%(value)s already belongs to customer #%(id)s.")),
    (r"(?P<value>\S+) already belongs to another customer\.",
     gettext_lazy("%(value)s already belongs to another customer.")),
    (rf"A custom field {_VALUE} already exists\.", gettext_lazy("A custom field %(value)s already exists.")),
    (r"Customer #(?P<id>\d+) was merged into #(?P<survivor>\d+): make the change on #(?P=survivor)\.",
     gettext_lazy("Customer #%(id)s was merged into #%(survivor)s: make the change on #%(survivor)s.")),
    (r"Customer #(?P<id>\d+) was merged into #(?P<into>\d+) since; undo that first\.",
     gettext_lazy("Customer #%(id)s was merged into #%(into)s since; undo that first.")),
    (r"Merge #(?P<id>\d+) was already undone\.", gettext_lazy("Merge #%(id)s was already undone.")),
    (r"Customer #(?P<id>\d+) was already merged into #(?P<into>\d+)\.",
     gettext_lazy("Customer #%(id)s was already merged into #%(into)s.")),
    (r"This field applies to (?P<kind>\w+) profiles only\.",
     gettext_lazy("This field applies to %(kind)s profiles only.")),
]]


def _choice_label(kind: str) -> str:
    from clientbase.customers.models import CustomerKind

    return str(CustomerKind(kind).label).lower() if kind in CustomerKind.values else kind


def translate_error(message: str) -> str:
    """``message`` in the active language when the catalogue knows it, else unchanged."""
    for pattern, template in PATTERNS:
        match = pattern.match(message)
        if match:
            values = match.groupdict()
            if "kind" in values:
                values["kind"] = _choice_label(values["kind"])
            return str(template) % values
    return _(message)
