"""A beneficiary's conversation state, the actions a flow asks for, and a transition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from conversations.base import FileRef, Reply


class Step(StrEnum):
    WELCOME = "welcome"  # greeting, privacy notice, consent
    MENU = "menu"
    LANGUAGE = "language"
    SERVICE = "service"  # which service to request
    FIELD = "field"  # one intake question
    SENSITIVE = "sensitive"  # explicit consent before health or financial questions
    OFFER_HUMAN = "offer_human"  # after repeated failures at a field
    SUMMARY = "summary"  # review and accuracy confirmation (إقرار)
    EDIT = "edit"  # which answer to change
    SIGNATURE = "signature"  # typed full name as signature
    RESUME = "resume"  # continue an unfinished request, or start again
    CASE = "case"  # waiting for, or talking with, a social researcher
    NEEDS_INFO = "needs_info"  # a researcher asked for more information on a request
    SURVEY = "survey"  # rating a delivered service or a researcher's help
    FEEDBACK = "feedback"  # a suggestion or a complaint, with a ticket number
    ANSWERED = "answered"  # a question answered by the bot (did it help?), or not found
    PRIVACY = "privacy"  # "My data and privacy": the rights, a copy of one's data
    DELETING = "deleting"  # what destruction removes and keeps, asked to confirm
    WITHDRAW = "withdraw"  # which consent to withdraw, with what follows from it
    CORRECTING = "correcting"  # a correction of a submitted request's answer, for staff
    VOICE = "voice"  # a voice note kept: shall a social researcher listen to it?
    VOLUNTEER = "volunteer"  # signing up to volunteer: its questions, then its consent


class Draft(BaseModel):
    """An unfinished request: kept across restarts until submitted or cancelled."""

    service: str
    answers: dict[str, Any] = {}
    index: int = 0
    failures: int = 0
    editing: bool = False
    started: datetime | None = None
    sensitive_declined: bool = False  # optional sensitive questions are then skipped
    reminded: bool = False  # its one reminder went


class SurveyDraft(BaseModel):
    """A survey under way: which one, where it stands, what was answered so far."""

    id: int  # the surveys row
    kind: str  # service | case
    subject: str  # the request number, or the case number
    service: str | None = None
    stage: str = "rating"  # anonymous | rating | an extra question's key | comment
    anonymous: bool = False
    answers: dict[str, Any] = {}
    return_to: Step | None = None  # the step the survey interrupted
    reminded: bool = False  # this is the one reminder: no other will come


class Asked(BaseModel):
    """A question the bot answered (`topic`), or could not (None), until the next message:
    what "No, talk to a researcher" passes on."""

    topic: str | None = None
    service: str | None = None  # the request the answer leads to
    choosing: bool = False  # asked back which service: the services are the choices


class Correction(BaseModel):
    """A correction being asked for: which request, which answer, the right value, and
    where it stands (request | field | value | confirm | sign)."""

    stage: str = "request"
    number: str | None = None
    field: str | None = None
    value: Any = None
    failures: int = 0


class VolunteerDraft(BaseModel):
    """A volunteer sign-up under way: the answers so far, and the question asked by its
    index in the profile's `volunteering.fields` (past the last one: the consent)."""

    index: int = 0
    answers: dict[str, Any] = {}


class State(BaseModel):
    step: Step = Step.WELCOME
    lang: str = "ar"
    consented: bool = False
    draft: Draft | None = None
    touched: datetime | None = None  # when the beneficiary last wrote (for "welcome back")
    sensitive_consent: bool = False
    return_to: Step | None = None  # the question to go back to after changing the language
    info_for: str | None = None  # the request number whose missing information is awaited
    # a text just sent in a case while information is awaited: it becomes that information
    # if the next thing they do is press "Yes, this is it" (render.info_offer) or type its
    # number; only pressing it, once a researcher wrote in between (a number is then an answer)
    info_text: str | None = None
    info_pressed_only: bool = False
    survey: SurveyDraft | None = None
    feedback_kind: str | None = None  # suggestion | complaint, once chosen
    asked: Asked | None = None
    correction: Correction | None = None
    reminders_off: bool = False  # "no more reminders" of an unfinished request
    voice_from: Step | None = None  # where they were when they sent a voice note
    volunteer: VolunteerDraft | None = None


# Actions: what the handler carries out in the same transaction as the new state.
@dataclass(frozen=True)
class RecordConsent:
    purpose: str
    text_version: str


@dataclass(frozen=True)
class Forget:
    """Declined consent: keep nothing about this chat."""


@dataclass(frozen=True)
class SetAnnouncements:
    """/stop (False) or /subscribe (True): announcements only, never replies."""

    on: bool


@dataclass(frozen=True)
class WithdrawConsent:
    """A consent withdrawn (the PDPL): recorded on the consent, audited."""

    purpose: str


@dataclass(frozen=True)
class SignUpVolunteer:
    """A volunteer's answers and their consent to keep them for volunteering (a new
    sign-up replaces an earlier one); gives back whether one was replaced."""

    answers: dict[str, Any]
    text_version: str


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class StoreDocument:
    field: str
    file: FileRef


@dataclass(frozen=True)
class DiscardDraft:
    """The draft was cancelled or restarted: drop its files and its part of the log."""

    since: datetime | None = None


@dataclass(frozen=True)
class SubmitRequest:
    service: str
    answers: dict[str, Any]
    ack_version: str
    ack_text: str
    signature: str | None


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class PlanDeletion:
    """What destroying their data would keep: the result is a DeletionPlan."""


@dataclass(frozen=True)
class DeleteData:
    """Destroy their data (confirmed): the result is a DeletionPlan of what was kept."""


@dataclass(frozen=True)
class DeletionPlan:
    held: tuple[tuple[str, str], ...]  # (request number, status) the policy still holds


@dataclass(frozen=True)
class ExportData:
    """A copy of everything held about the beneficiary, sent to them as files (the PDPL's
    right of access): the result is the (readable, machine-readable) documents' ids."""


@dataclass(frozen=True)
class RequestCorrection:
    """A corrected answer of a submitted request, confirmed (and signed) by the
    beneficiary, for staff to approve: the result is a CorrectionFiled, or None when the
    request is no longer theirs to correct."""

    number: str
    field: str
    value: Any
    ack_version: str
    ack_text: str
    signature: str | None


@dataclass(frozen=True)
class KeepVoice:
    """A voice note, kept for a social researcher to listen to (a case opened with the
    reason "voice" carries the voice notes of the day)."""

    file: FileRef


@dataclass(frozen=True)
class OpenCase:
    reason: str  # asked | repeated_failures | message
    detail: str | None = None
    since: datetime | None = None  # the transcript starts here (the draft's start)


@dataclass(frozen=True)
class AddToCase:
    text: str
    file: FileRef | None = None
    stepped_out: bool = False  # they went back to the menu while a researcher holds the case


@dataclass(frozen=True)
class ProvideInfo:
    """The beneficiary's answer to a researcher's request for more information."""

    number: str
    text: str
    file: FileRef | None = None


@dataclass(frozen=True)
class SubmitSurvey:
    """The answers of a finished survey; stored unlinked when anonymous."""

    survey_id: int
    rating: int
    comment: str | None
    extra: dict[str, Any]
    anonymous: bool


@dataclass(frozen=True)
class SubmitFeedback:
    kind: str  # suggestion | complaint
    text: str
    file: FileRef | None = None


@dataclass(frozen=True)
class CountAnswer:
    """For the board: a question answered by the bot, confirmed helpful, passed to a
    researcher, or not found. No words of the question are kept with it."""

    topic: str | None
    outcome: str  # answered | helpful | escalated | unanswered


Action = (
    RecordConsent | Forget | SetLanguage | StoreDocument | DiscardDraft | SubmitRequest
    | ShowStatus | OpenCase | AddToCase | ProvideInfo | SubmitSurvey | SubmitFeedback
    | SetAnnouncements | CountAnswer | ExportData | PlanDeletion | DeleteData
    | WithdrawConsent | RequestCorrection | KeepVoice | SignUpVolunteer
)


@dataclass(frozen=True)
class Submitted:
    """What SubmitRequest gives back."""

    number: str
    decision_due: Any  # date


@dataclass(frozen=True)
class CaseOpened:
    case_id: int
    already_open: bool


@dataclass(frozen=True)
class SurveyStored:
    """What SubmitSurvey gives back: stored (or the survey had closed), and a follow-up."""

    stored: bool
    follow_up: int | None = None  # the case an admin will take


@dataclass(frozen=True)
class CorrectionFiled:
    """What RequestCorrection gives back: the data request's number and when it is due."""

    id: int
    due: Any  # date


@dataclass(frozen=True)
class FeedbackStored:
    ticket: str


@dataclass
class Transition:
    state: State
    replies: list[Reply] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
