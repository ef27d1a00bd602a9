"""The association profile: what an association configures (pure data, validated).

Loading a profile from YAML, with errors that name the file and line, lives in
`bot.profiles`; this module only says what a valid profile is.
"""

from __future__ import annotations

from datetime import time as time_of_day
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from conversations.text import ascii_digits

KEY = r"^[a-z][a-z0-9_]{0,30}$"
# Choice ids the flows use themselves; an option, field or service may not take them.
RESERVED = frozenset({"back", "cancel", "human", "skip", "keep", "confirm", "edit", "retry",
                      "continue", "restart", "accept", "decline", "language", "faq_yes"})


def _not_reserved(key: str) -> str:
    if key in RESERVED:
        raise ValueError(f"{key!r} is reserved for the bot's own choices; pick another key")
    return key


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(Strict):
    """A text the association writes in Arabic, and in English if it can."""

    ar: str = Field(min_length=1)
    en: str | None = None

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.ar


class FieldKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    IBAN = "iban"
    DATE = "date"
    CHOICE = "choice"
    FILE = "file"


class Rules(Strict):
    """Per-field checks. Only the rules that fit the field's kind are allowed."""

    digits_only: bool = False  # text: a number that is not a quantity (registration no.)
    # text: the answer needs a letter (a name, a place, a description); false also takes
    # digits alone (a passport number). Symbols, emoji and invisible characters never do.
    letters: bool = True
    min_length: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1, le=2000)
    min: Decimal | None = None
    max: Decimal | None = None
    not_expired: bool = False  # date: today or later (an ID's expiry date)
    not_future: bool = False  # date: today or earlier
    # date: at most this many years after today; without it, 10 with not_expired (an ID
    # document), otherwise 50. No date is before 1900.
    max_years_ahead: int | None = Field(default=None, ge=0, le=100)
    min_age: int | None = Field(default=None, ge=0, le=130)  # date of birth
    max_age: int | None = Field(default=None, ge=0, le=130)
    id_type: Literal["any", "citizen", "resident"] = "any"  # national_id
    mime: tuple[str, ...] = ()  # file: allowed types; empty means the defaults
    max_mb: float | None = Field(default=None, gt=0, le=50)


_RULES_FOR_KIND: dict[FieldKind, set[str]] = {
    FieldKind.TEXT: {"min_length", "max_length", "digits_only", "letters"},
    FieldKind.INTEGER: {"min", "max"},
    FieldKind.MONEY: {"min", "max"},
    FieldKind.NATIONAL_ID: {"id_type"},
    FieldKind.PHONE: set(),
    FieldKind.IBAN: set(),
    FieldKind.DATE: {"not_expired", "not_future", "min_age", "max_age", "max_years_ahead"},
    FieldKind.CHOICE: set(),
    FieldKind.FILE: {"mime", "max_mb"},
}


class Option(Strict):
    key: str = Field(pattern=KEY)
    label: Localized

    _key = field_validator("key")(_not_reserved)


class FieldSpec(Strict):
    key: str = Field(pattern=KEY)
    kind: FieldKind
    label: Localized
    hint: Localized | None = None
    required: bool = True
    # Health or financial data (PDPL): explicit consent is asked before the first such
    # question, and answers are withheld from the conversation log.
    sensitive: bool = False
    rules: Rules = Rules()
    options: tuple[Option, ...] = ()
    # Ask this field only when earlier choice fields have one of these option keys.
    when: dict[str, tuple[str, ...]] | None = None
    # Matched against the documents at review (the policy's step 2). Unset: every file,
    # ID number, IBAN, ID expiry date (not_expired) and the name the applicant signs with.
    review: bool | None = None

    _key = field_validator("key")(_not_reserved)

    @model_validator(mode="after")
    def _fits_kind(self) -> FieldSpec:
        given = {name for name in self.rules.model_fields_set}
        wrong = given - _RULES_FOR_KIND[self.kind]
        if wrong:
            raise ValueError(f"rules {sorted(wrong)} do not apply to a {self.kind} field")
        if self.kind is FieldKind.CHOICE and len(self.options) < 2:
            raise ValueError("a choice field needs at least two options")
        if self.kind is not FieldKind.CHOICE and self.options:
            raise ValueError("only a choice field has options")
        if len({o.key for o in self.options}) != len(self.options):
            raise ValueError("option keys must be unique")
        return self


class Service(Strict):
    key: str = Field(pattern=KEY)
    label: Localized
    description: Localized | None = None
    fields: tuple[FieldSpec, ...] = Field(min_length=1)

    _key = field_validator("key")(_not_reserved)

    @field_validator("fields", mode="before")
    @classmethod
    def _splice(cls, fields: object) -> object:
        """A shared group of fields (a YAML anchor to a list) is spliced in place."""
        if not isinstance(fields, list | tuple):
            return fields
        flat: list[object] = []
        for item in fields:
            flat.extend(item if isinstance(item, list | tuple) else [item])
        return flat

    @field_validator("fields")
    @classmethod
    def _unique(cls, fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
        keys = [f.key for f in fields]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"field keys repeated: {dupes}")
        return fields

    @model_validator(mode="after")
    def _conditions(self) -> Service:
        seen: dict[str, FieldSpec] = {}
        for f in self.fields:
            for key, wanted in (f.when or {}).items():
                earlier = seen.get(key)
                if earlier is None or earlier.kind is not FieldKind.CHOICE:
                    raise ValueError(f"{f.key}: `when` must name an earlier choice field, not {key!r}")
                unknown = set(wanted) - {o.key for o in earlier.options}
                if unknown:
                    raise ValueError(f"{f.key}: {key!r} has no options {sorted(unknown)}")
            seen[f.key] = f
        return self

    def field(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)


class ContactChannel(Strict):
    kind: Literal["phone", "whatsapp", "email", "website", "x", "instagram", "address", "visit"]
    value: str = Field(min_length=1)
    label: Localized | None = None


class Signature(Strict):
    """`button`: one press confirms; `typed_name`: the full name must be typed."""

    mode: Literal["button", "typed_name"] = "button"
    name_field: str | None = None
    # where a guardian applies for a child (a text field, asked when they do): the guardian
    # signs with their own name, and the acknowledgment names them and the child
    guardian_field: str | None = None

    def signer(self, answers: dict[str, Any]) -> str:
        """The field whose name signs: the guardian's where one applied, else the
        applicant's."""
        if self.guardian_field and answers.get(self.guardian_field):
            return self.guardian_field
        return self.name_field or ""

    @model_validator(mode="after")
    def _name_field(self) -> Signature:
        if self.mode == "typed_name" and not self.name_field:
            raise ValueError("typed_name signature needs name_field")
        return self


class Privacy(Strict):
    """Privacy notice. Without `notice`, Wasl's standard notice is used (translated)."""

    version: str = Field(min_length=1)
    notice: Localized | None = None
    controller: Localized | None = None  # who is responsible for the data
    # what the standard notice says is collected, where the association asks for other data
    # than a family's (Sadeed: a business's); its own words, so the notice has its version
    collects: Localized | None = None


class AcknowledgmentText(Strict):
    """The association's own wording of the acknowledgment (its policy's إقرار), with the
    version recorded with each signature; without it, Wasl's standard wording is used."""

    version: str = Field(min_length=1, max_length=28, pattern=r"^[A-Za-z0-9_.-]+$")
    text: Localized


class CannedReply(Strict):
    """A ready answer a researcher can send (`/canned KEY`)."""

    key: str = Field(pattern=KEY)
    text: Localized


class WorkingHours(Strict):
    """When researchers answer; outside these hours a new case is told when to expect them.
    Days are Python weekdays (Monday 0 ... Sunday 6); the Saudi week is Sunday to Thursday."""

    days: tuple[int, ...] = (6, 0, 1, 2, 3)
    start: time_of_day = time_of_day(8, 0)
    end: time_of_day = time_of_day(15, 0)

    @model_validator(mode="after")
    def _sane(self) -> WorkingHours:
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError("days are weekday numbers 0 (Monday) to 6 (Sunday)")
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class DeskSettings(Strict):
    """How the staff desk keeps time: the reply target a waiting beneficiary is measured
    against (in working minutes), which new work is worth a notice outside working hours,
    and whether staff get a digest of what waits when the working day starts."""

    reply_within_minutes: int = Field(default=120, ge=5, le=10_080)
    # reasons of a new case (desk.REASONS keys) that are told to staff even after hours
    urgent_reasons: tuple[str, ...] = ()
    morning_digest: bool = True
    # staff told of new work (new cases, submitted requests, the digest); false: they
    # watch /queue and /team themselves (WASL_DESK_NOTICES overrides it)
    notices: bool = True


class Decision(Strict):
    """How the policy words the decision on a request (its step 5): who decides (the
    research committee, or, in Al-Huda's policy, "the competent body"), the period in
    days, and how the policy states it: `at_least` ("within a period of not less than
    two weeks": the answer does not come before that day) or `within` ("within a
    specified period": the answer comes by that day)."""

    days: int = Field(default=14, ge=1, le=180)
    wording: Literal["at_least", "within"] = "within"
    body: Literal["committee", "competent_body"] = "committee"


class StaffGroup(Strict):
    """A Telegram supergroup where the team follows cases: one forum topic per case, or,
    without topics, replies to the bot's message about the case."""

    telegram_chat_id: int = Field(lt=0)
    topics: bool = True


class SurveyQuestion(Strict):
    """One more question after the rating: another 1-5 rating, or a choice."""

    key: str = Field(pattern=KEY)
    kind: Literal["rating", "choice"]
    text: Localized
    options: tuple[Option, ...] = ()

    _key = field_validator("key")(_not_reserved)

    @model_validator(mode="after")
    def _options(self) -> SurveyQuestion:
        if self.key in ("rating", "comment"):
            raise ValueError(f"{self.key!r} is the survey's own question; pick another key")
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError(f"{self.key}: a choice question needs at least two options")
        if self.kind == "rating" and self.options:
            raise ValueError(f"{self.key}: a rating question takes no options")
        return self


class Retention(Strict):
    """How long what is held is kept before the scheduler destroys it (the PDPL: no longer
    than its purpose needs), in days. docs/operations.md gives the reasons of the defaults."""

    drafts_days: int = Field(default=30, ge=1, le=365)  # an unfinished request, its files
    messages_days: int = Field(default=365, ge=7, le=3650)  # the conversation log
    transcripts_days: int = Field(default=730, ge=30, le=3650)  # a closed case's messages
    closed_requests_days: int = Field(default=1825, ge=30, le=3650)  # rejected, delivered
    web_chat_days: int = Field(default=180, ge=1, le=3650)  # the web chat's transcript
    copies_days: int = Field(default=7, ge=1, le=90)  # the files of a copy of one's data
    outbox_days: int = Field(default=30, ge=1, le=365)  # messages sent, their chat kept
    audit_days: int = Field(default=1825, ge=365, le=3650)  # who did what


def _volunteer_fields() -> tuple[FieldSpec, ...]:
    """What a volunteer sign-up asks where the profile does not say otherwise."""
    return tuple(FieldSpec.model_validate(f) for f in (
        {"key": "name", "kind": "text", "rules": {"min_length": 3, "max_length": 120},
         "label": {"ar": "الاسم الكامل", "en": "Full name"}},
        {"key": "mobile", "kind": "phone", "label": {"ar": "رقم الجوال", "en": "Mobile number"}},
        {"key": "skills", "kind": "text", "rules": {"min_length": 2, "max_length": 500},
         "label": {"ar": "المهارات أو الخبرات التي يمكن التطوع بها",
                   "en": "Skills or experience you can volunteer with"}},
        {"key": "availability", "kind": "choice",
         "label": {"ar": "الأوقات المناسبة للتطوع", "en": "When you can volunteer"},
         "options": [{"key": "weekdays", "label": {"ar": "أيام الأسبوع", "en": "Weekdays"}},
                     {"key": "weekends", "label": {"ar": "نهاية الأسبوع", "en": "Weekends"}},
                     {"key": "seasons", "label": {"ar": "المواسم والمناسبات",
                                                  "en": "Seasons and occasions"}},
                     {"key": "any", "label": {"ar": "أي وقت", "en": "Any time"}}]},
        {"key": "district", "kind": "text", "rules": {"min_length": 2, "max_length": 80},
         "label": {"ar": "الحي أو المدينة", "en": "District or city"}},
    ))


class Volunteering(Strict):
    """Every policy lists «خدمات التطوع» among its channels: a volunteer signs up from the
    menu, with these questions (text, phone or choice), and a consent of its own. What they
    give is kept `keep_days` from their last sign-up, then destroyed."""

    enabled: bool = True
    intro: Localized | None = None  # the association's own words first (Al-Huda: its youth)
    fields: tuple[FieldSpec, ...] = Field(default_factory=_volunteer_fields, min_length=1)
    keep_days: int = Field(default=730, ge=30, le=3650)

    @field_validator("fields")
    @classmethod
    def _askable(cls, fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
        keys = [f.key for f in fields]
        if len(set(keys)) != len(keys):
            raise ValueError("volunteering fields must have unique keys")
        for f in fields:
            if f.kind is FieldKind.FILE or f.when or f.sensitive:
                raise ValueError(f"{f.key}: a volunteer is asked no files, no conditions "
                                 "and nothing sensitive")
        return fields


class Reminders(Strict):
    """The one reminder of an unfinished request, this many hours after their last message,
    sent within working hours (0: none)."""

    unfinished_after_hours: int = Field(default=24, ge=0, le=24 * 14)


class Surveys(Strict):
    """Satisfaction surveys: after a delivered service and after a closed case. Unanswered,
    one reminder after `reminder_hours`, then the survey expires `expire_hours` later."""

    service: bool = True
    case: bool = True
    reminder_hours: float = Field(default=24, gt=0, le=24 * 14)
    expire_hours: float = Field(default=24, gt=0, le=24 * 14)
    anonymous: bool = False  # the beneficiary may answer without any link to them
    questions: tuple[SurveyQuestion, ...] = Field(default=(), max_length=3)


class WhatsAppTemplate(Strict):
    """An approved message template, sent when the 24-hour window is closed. Its body's
    parameters, in order, come from: `association` (its name), `text` (the message,
    on one line).
    """

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    languages: dict[Literal["ar", "en"], str] = Field(min_length=1)  # ours -> WhatsApp's code
    params: tuple[Literal["association", "text"], ...] = ("text",)


class WhatsApp(Strict):
    """Templates by the kind of notice they carry (status, survey, announcement,
    staff_reply, desk: new work told to a researcher on WhatsApp, and reminder: of an
    unfinished request); a notice without one waits until the person writes again (a
    reminder without one is not sent once the 24-hour window has closed)."""

    templates: dict[Literal["status", "survey", "announcement", "staff_reply", "desk",
                            "reminder"], WhatsAppTemplate] = {}


class Phrasings(Strict):
    """How beneficiaries ask one question: several phrasings, in Arabic (at least one)
    and in English if the association can."""

    ar: tuple[str, ...] = Field(min_length=1)
    en: tuple[str, ...] = ()

    def get(self, lang: str) -> tuple[str, ...]:
        return self.en if lang == "en" else self.ar


class FaqEntry(Strict):
    """A question the association has answered already, answered by the bot itself.
    `service`: the request the answer leads to (a button to start it). `declines`: the
    answer says what the association does not do (kindly, with what it does), which is not
    an answer to count or to ask "did this help?" about."""

    key: str = Field(pattern=KEY)
    questions: Phrasings
    answer: Localized
    service: str | None = None
    declines: bool = False


Term = tuple[str, str]  # (the words Wasl's catalog uses, the association's own words)


class Terms(Strict):
    """The association's own words for what Wasl's texts name otherwise, replaced in every
    translated text in this order (longer phrases first): Sadeed serves "users"
    (مستخدمين), not beneficiaries; Al-Huda refers an unclear case to "the competent team",
    having no social researcher. Only Wasl's texts change, never what people wrote."""

    ar: tuple[Term, ...] = ()
    en: tuple[Term, ...] = ()

    def get(self, lang: str) -> tuple[Term, ...]:
        return self.ar if lang == "ar" else self.en if lang == "en" else ()


class Profile(Strict):
    key: str = Field(pattern=KEY)
    association: Localized
    terms: Terms = Terms()
    request_prefix: str = Field(pattern=r"^[A-Z]{2,5}$")
    decision: Decision = Decision()
    # a registered beneficiary's file number: PREFIX-000001 (one per beneficiary)
    registration_prefix: str = Field(default="F", pattern=r"^[A-Z]{1,5}$")
    review_within_days: int = Field(default=3, ge=1, le=60)  # working days, submitted to reviewed
    signature: Signature = Signature()
    acknowledgment: AcknowledgmentText | None = None
    privacy: Privacy
    contact_channels: tuple[ContactChannel, ...] = Field(min_length=1)
    services: tuple[Service, ...] = Field(min_length=1)
    max_file_mb: float = Field(default=10, gt=0, le=50)
    working_hours: WorkingHours = WorkingHours()
    canned_replies: tuple[CannedReply, ...] = ()
    staff_first_name: bool = True  # beneficiaries see a researcher's first name, nothing more
    staff_group: StaffGroup | None = None
    desk: DeskSettings = DeskSettings()
    surveys: Surveys = Surveys()
    retention: Retention = Retention()
    reminders: Reminders = Reminders()
    volunteering: Volunteering = Volunteering()
    feedback_prefix: str = Field(default="FB", pattern=r"^[A-Z]{2,5}$")  # suggestion tickets
    whatsapp: WhatsApp = WhatsApp()
    faq: tuple[FaqEntry, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        keys = [s.key for s in self.services]
        if len(set(keys)) != len(keys):
            raise ValueError("service keys must be unique")
        faq_keys = [e.key for e in self.faq]
        dupes = sorted({k for k in faq_keys if faq_keys.count(k) > 1})
        if dupes:
            raise ValueError(f"faq keys repeated: {dupes}")
        unknown = sorted({e.service for e in self.faq if e.service and e.service not in keys})
        if unknown:
            raise ValueError(f"faq entries name services the profile does not have: {unknown}")
        guardian = self.signature.guardian_field
        if guardian is not None:
            found = [f for s in self.services for f in s.fields if f.key == guardian]
            if not found or any(f.kind is not FieldKind.TEXT for f in found):
                raise ValueError(f"signature.guardian_field {guardian!r} must be a text field "
                                 "of at least one service")
        name_field = self.signature.name_field
        if self.signature.mode == "typed_name":
            for service in self.services:
                spec = next((f for f in service.fields if f.key == name_field), None)
                if spec is None or spec.kind is not FieldKind.TEXT or not spec.required:
                    raise ValueError(
                        f"signature.name_field {name_field!r} must be a required text field"
                        f" of every service (missing in {service.key!r})"
                    )
        return self

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)

    def field(self, service_key: str, key: str) -> FieldSpec | None:
        """A service's question by its key (None: the profile no longer has it)."""
        service = self.service(service_key)
        return next((f for f in service.fields if f.key == key), None) if service else None

    def national_id(self, answers: dict[str, Any]) -> str | None:
        """The national ID (or iqama number) a request's answers give, digits only: what
        staff look a beneficiary up by (stored only as its keyed hash)."""
        for service in self.services:
            for spec in service.fields:
                value = answers.get(spec.key)
                if spec.kind is FieldKind.NATIONAL_ID and isinstance(value, str):
                    digits = "".join(ch for ch in ascii_digits(value) if ch.isdigit())
                    if digits:
                        return digits
        return None
