"""The customer profile (R1): people and companies, their dates, custom fields, tags and history."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not stated")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class FamilyStatus(models.TextChoices):
    UNKNOWN = "", _("Not stated")
    SINGLE = "single", _("Single")
    PARTNER = "partner", _("In a relationship")
    MARRIED = "married", _("Married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    VK = "vk", _("VK")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    # A person
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("patronymic"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    photo = models.FileField(_("photo"), upload_to="photos/", blank=True)
    family_status = models.CharField(_("family status"), max_length=20, choices=FamilyStatus.choices,
                                     blank=True, default="")
    children = models.JSONField(_("children"), default=list, blank=True)
    hobbies = models.TextField(_("hobbies"), blank=True)
    lifestyle = models.TextField(_("lifestyle"), blank=True)
    favourite_team = models.CharField(_("favourite team"), max_length=100, blank=True)
    preferences = models.JSONField(_("preferences"), default=dict, blank=True)
    motivation = models.TextField(_("motivation"), blank=True)
    # A company (R1.1)
    legal_name = models.CharField(_("legal name"), max_length=250, blank=True)
    registration_number = models.CharField(_("registration number (INN)"), max_length=20, blank=True)
    registration_details = models.TextField(_("registration details"), blank=True)
    business_type = models.CharField(_("business type"), max_length=100, blank=True)
    # Both
    address = models.CharField(_("address"), max_length=300, blank=True)
    # Indexed; its PostgreSQL LIKE index is dropped (migration 0003): city is never matched by prefix.
    city = models.CharField(_("city"), max_length=100, blank=True, db_index=True)
    time_zone = models.CharField(_("time zone"), max_length=50, blank=True, default="Europe/Moscow")
    notes = models.TextField(_("notes"), blank=True)
    # Contact preferences (R1.2)
    preferred_channel = models.CharField(_("preferred channel"), max_length=20, choices=Channel.choices,
                                         blank=True)
    channel_order = models.JSONField(_("fallback channels"), default=list, blank=True)
    contact_days = models.JSONField(_("contact days"), default=list, blank=True,
                                    help_text=_("ISO weekdays 1-7; empty means any day"))
    contact_from = models.TimeField(_("contact from"), null=True, blank=True)
    contact_to = models.TimeField(_("contact to"), null=True, blank=True)
    # Custom fields (R1.4): values keyed by CustomFieldDefinition.key, validated by the service.
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    # Ownership (R9.1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="owned_customers", verbose_name=_("owner"))
    team = models.ForeignKey("access.Team", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="customers", verbose_name=_("team"), db_index=False)  # customer_team_id
    # Set when this profile was merged into another; the row stays as a tombstone (R2.3).
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="absorbed")
    # Searched with "contains" (LIKE '%…%'), which no B-tree index serves: an index here was only written.
    search_key = models.CharField(max_length=400, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Every index here is written for each new customer (an import of a million): only those a query reads.
        indexes = [
            models.Index(fields=["team", "id"], name="customer_team_id"),
            models.Index(fields=["last_name", "first_name"], name="customer_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(merged_into=models.F("id")), name="customer_not_merged_into_self"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def name(self) -> str:
        """The legal name of a company, "last first middle" of a person; empty when none is known yet."""
        if self.kind == CustomerKind.COMPANY:
            return self.legal_name
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def numbered_name(self) -> str:
        """"#12 Петрова Анна", or "#12" alone: where a number and a name are shown together."""
        return f"#{self.pk} {self.name}" if self.name else f"#{self.pk}"


class ContactRole(models.TextChoices):
    DIRECTOR = "director", _("Director")
    DEPUTY = "deputy", _("Deputy director")
    HEAD_OF_SALES = "head_of_sales", _("Head of sales")
    CHIEF_ACCOUNTANT = "chief_accountant", _("Chief accountant")
    PURCHASER = "purchaser", _("Purchasing manager")
    OTHER = "other", _("Other")


class ContactPerson(models.Model):
    """A person (a Customer of kind person) acting for a company."""

    company = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_people")
    person = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="companies")
    role = models.CharField(_("role"), max_length=30, choices=ContactRole.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(fields=["company", "person", "role"], name="contact_person_unique"),
        ]


class DateKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Anniversary")
    NAME_DAY = "name_day", _("Name day")
    OTHER = "other", _("Other")


class ImportantDate(models.Model):
    """A date worth remembering (R1.3); ``who`` says whose it is ("self", "wife Maria", "son Ivan")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="important_dates")
    kind = models.CharField(_("kind"), max_length=20, choices=DateKind.choices)
    who = models.CharField(_("whose"), max_length=100, default="self")
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        indexes = [models.Index(fields=["kind", "date"], name="important_date_kind_date")]


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOL = "bool", _("Yes/no")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Several choices")


class CustomFieldDefinition(models.Model):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    applies_to = models.CharField(_("applies to"), max_length=10, blank=True, choices=CustomerKind.choices,
                                  help_text=_("Empty means people and companies"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label


class ProfileChange(models.Model):
    """One change of one profile field (R1.5); never updated, never deleted."""

    # No index of its own: profile_change_customer_at starts with customer (see docs/identity.md, Ingest).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="changes", db_index=False)
    field = models.CharField(max_length=100)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    # Indexed only where set (profile_change_actor_*): imports, ingest and merges by the system leave
    # both empty on most rows, and a full index took a write of an empty key for every one of them.
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", db_index=False)
    actor_token = models.ForeignKey("access.ApiToken", on_delete=models.SET_NULL, null=True, related_name="+",
                                    db_index=False)
    channel = models.CharField(max_length=30)
    source = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")
        indexes = [
            models.Index(fields=["customer", "-at"], name="profile_change_customer_at"),
            # "changes by this user / token" and the foreign keys' SET NULL: equality implies not null.
            models.Index(fields=["actor_user"], name="profile_change_actor_user",
                         condition=models.Q(actor_user__isnull=False)),
            models.Index(fields=["actor_token"], name="profile_change_actor_token",
                         condition=models.Q(actor_token__isnull=False)),
        ]
