"""The schema. Alembic migrations in storage/migrations are generated from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.crypto import SealedBytes, SealedJson, SealedText

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite gives back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: Json, date: Date}


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(5), default="ar")
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # set when they sent /stop: no announcements (replies about their requests still go)
    announcements_off_at: Mapped[datetime | None]
    # their file at the association, given at their first registration (the policy's step 6)
    file_number: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    # set when their data was destroyed at their request: the row stays as a tombstone,
    # holding nothing personal (requests the policy still holds keep it linked)
    destroyed_at: Mapped[datetime | None]


class Identity(Base):
    """How a beneficiary reaches us: one row per channel account."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(40))
    text_version: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class Volunteer(Base):
    """A volunteer's sign-up (conversations/volunteer.py): the profile's questions answered,
    sealed, kept for volunteering only, and only while the consent stands and the profile's
    `volunteering.keep_days` last. One per beneficiary: signing up again replaces it."""

    __tablename__ = "volunteers"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), unique=True
    )
    answers: Mapped[dict[str, Any]] = mapped_column(SealedJson("volunteers.answers"))
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    signed_up_at: Mapped[datetime] = mapped_column(index=True)


class PrivacyRequest(Base):
    """A data subject's request that staff must finish within the PDPL's period (30 days,
    extendable once with a notice): a destruction that had to wait for requests the policy
    still holds, a correction to approve."""

    __tablename__ = "privacy_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # deletion | correction
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | done
    detail: Mapped[str | None] = mapped_column(SealedText("privacy_requests.detail"))
    created_at: Mapped[datetime]
    due_on: Mapped[date]  # Riyadh date
    extended_on: Mapped[date | None]  # the one extension, told to the beneficiary
    closed_at: Mapped[datetime | None]


class Conversation(Base):
    """Where each chat stands in its flow; before consent it holds nothing personal."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(64))
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE")
    )
    state: Mapped[dict[str, Any]] = mapped_column(SealedJson("conversations.state"))
    updated_at: Mapped[datetime]
    remind_at: Mapped[datetime | None] = mapped_column(index=True)  # an unfinished request's


class Request(Base):
    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(40))
    fields: Mapped[dict[str, Any]] = mapped_column(SealedJson("requests.fields"))
    # a keyed hash of the national ID given (a blind index: staff search by it)
    id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime]
    decision_due: Mapped[date]
    needs_info: Mapped[str | None] = mapped_column(SealedText("requests.needs_info"))
    updated_at: Mapped[datetime]
    # the staff member reviewing it (no foreign key: SQLite adds the column in place, so an
    # upgrade never rebuilds this table, whose rows other tables cascade from)
    reviewer_id: Mapped[int | None] = mapped_column(Integer)


class ReviewItem(Base):
    """A reviewer's mark on one item of a request: an answer the documents prove, or a
    document; matched or not, with a note. Kept as history: the latest per item counts."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            index=True)
    item: Mapped[str] = mapped_column(String(60))  # a field's key, or doc:ID
    matched: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(SealedText("review_items.note"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class RegistrationRow(Base):
    """A request registered once complete: the beneficiary's file number, who, when."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            unique=True)
    file_number: Mapped[str] = mapped_column(String(40), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class DecisionRow(Base):
    """The committee's decision on a request: outcome, reason, meeting, who, when."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            unique=True)
    outcome: Mapped[str] = mapped_column(String(12))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(SealedText("decisions.reason"))
    meeting: Mapped[str] = mapped_column(String(20))
    meeting_date: Mapped[date]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class DeliveryRow(Base):
    """The service provided: what, how much, who, when, and the receipt's photo."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            unique=True)
    service: Mapped[str] = mapped_column(String(40))
    amount: Mapped[str | None] = mapped_column(String(20))  # a decimal as text
    unit: Mapped[str | None] = mapped_column(String(40))
    receipt_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class RequestEvent(Base):
    """The request's history: every status it took, who set it and when."""

    __tablename__ = "request_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(SealedText("request_events.note"))
    at: Mapped[datetime]


class Acknowledgment(Base):
    """The beneficiary's signed statement that the data is accurate (the policy's إقرار)."""

    __tablename__ = "acknowledgments"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    text_version: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(SealedText("acknowledgments.text"))
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(SealedText("acknowledgments.signature"))
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class Document(Base):
    """A file a beneficiary sent for a field; kept in the database with its request."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner_sha", "beneficiary_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a file the association made for its staff (a report sent to an admin)
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    field_key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(SealedBytes("documents.content"))
    created_at: Mapped[datetime]


class Staff(Base):
    """A social researcher or an admin, known by their own chat on a channel."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))  # beneficiaries see the first word only
    role: Mapped[str] = mapped_column(String(20))  # researcher | committee | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    language: Mapped[str | None] = mapped_column(String(5))  # the desk's; None: Arabic
    # the command their next message completes (a note, a meeting's number asked for)
    awaiting: Mapped[str | None] = mapped_column(String(120))


class Case(Base):
    """An escalation to the social researcher queue."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued | claimed | closed
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    claimed_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]  # when a researcher first wrote to the beneficiary
    topic_id: Mapped[str | None] = mapped_column(String(40))  # its forum topic in the staff group
    # who takes it: researchers, or only admins (a follow-up of a low rating)
    audience: Mapped[str] = mapped_column(String(12), default="researcher",
                                          server_default="researcher")
    # one open case per beneficiary (one conversation at a time), even when a researcher
    # reopens an old case at the moment the beneficiary asks for a new one
    __table_args__ = (Index("uq_cases_one_open", "beneficiary_id", unique=True,
                            sqlite_where=sql("status != 'closed'"),
                            postgresql_where=sql("status != 'closed'")),)


class CaseMessage(Base):
    __tablename__ = "case_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(10))  # in | out | note (staff only)
    text: Mapped[str] = mapped_column(SealedText("case_messages.text"))
    at: Mapped[datetime]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))


class Survey(Base):
    """An invitation to rate a delivered service or a researcher's help: one per subject,
    with its reminder and expiry times stored so that a restart loses none."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(60), unique=True)  # request:NUMBER | case:ID
    kind: Mapped[str] = mapped_column(String(10))  # service | case
    service: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # sent | answered | expired
    sent_at: Mapped[datetime]
    remind_at: Mapped[datetime | None] = mapped_column(index=True)  # cleared once reminded
    reminded_at: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]


class SurveyAnswer(Base):
    """A rating given. An anonymous one keeps no link to the person, their survey or the
    researcher, and only the day it was given."""

    __tablename__ = "survey_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))  # service | case
    service: Mapped[str | None] = mapped_column(String(40))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    rating: Mapped[int] = mapped_column(Integer)  # 1..5
    comment: Mapped[str | None] = mapped_column(SealedText("survey_answers.comment"))
    extra: Mapped[dict[str, Any]]  # the profile's additional questions: key -> answer
    anonymous: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    answered_on: Mapped[date] = mapped_column(index=True)  # Riyadh date
    answered_at: Mapped[datetime | None]  # None when anonymous


class Feedback(Base):
    """A suggestion or complaint sent from the main menu, with its ticket number."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # suggestion | complaint
    text: Mapped[str] = mapped_column(SealedText("feedback.text"))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class FaqAnswer(Base):
    """A question the bot answered, that proved helpful, was passed on or found nothing:
    counted for the board. The question's words are not kept here."""

    __tablename__ = "faq_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(12))  # answered | helpful | escalated | unanswered
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))


class TaughtAnswer(Base):
    """An answer staff taught the bot (a researcher's reply saved from a case, or added by
    an admin), with the ways a question asks for it; removed ones are kept, marked."""

    __tablename__ = "faq_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    questions: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    created_by: Mapped[str] = mapped_column(String(100))  # staff:<id>, or cli
    case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did or tried what to whom: views of personal data, decisions, relays, refusals."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # channel:sender id, or "cli"
    role: Mapped[str] = mapped_column(String(20))  # researcher | admin | beneficiary | unknown
    action: Mapped[str] = mapped_column(String(40), index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    case_id: Mapped[int | None] = mapped_column(Integer)
    request_number: Mapped[str | None] = mapped_column(String(40))
    beneficiary_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """The conversation log of a consenting beneficiary (copied into a case on escalation)."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_beneficiary_at", "beneficiary_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(SealedText("messages.text"))
    at: Mapped[datetime]


class ProcessedEvent(Base):
    """Platform update ids already handled, so a redelivery is ignored."""

    __tablename__ = "processed_events"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime]


class OutboxMessage(Base):
    """A reply waiting to be delivered (written in the same transaction as the state)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "channel", "priority", "id"),
                      Index("ix_outbox_chat", "channel", "chat_id", "status", "id"),
                      Index("ix_outbox_broadcast", "broadcast_id", "status"),
                      Index("ix_outbox_ref", "message_ref"))
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJson("outbox.payload"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    has_choices: Mapped[bool] = mapped_column(Boolean, default=False)
    # the choices' ids, kept once sent (the payload is emptied): a typed number presses one
    choice_ids: Mapped[list[str] | None] = mapped_column(JSON)
    message_ref: Mapped[str | None] = mapped_column(String(64))  # the platform's message id
    case_id: Mapped[int | None] = mapped_column(Integer)  # a message about a case, to staff
    broadcast_id: Mapped[int | None] = mapped_column(Integer)  # one recipient's copy
    beneficiary_id: Mapped[int | None] = mapped_column(Integer)  # (broadcast rows) to whom
    # a sender took it (status "sending"); past this time another sender may take it again
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(60))  # host:pid of that sender
    # what the platform later said of a sent message: delivered, read, failed (WhatsApp)
    delivery: Mapped[str | None] = mapped_column(String(10))
    delivery_at: Mapped[datetime | None]


class Broadcast(Base):
    """An announcement to a segment of beneficiaries: composed, confirmed, then sent as
    outbox rows (one per recipient) at a lower priority than conversation replies."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    # draft -> sending <-> paused -> done | cancelled
    status: Mapped[str] = mapped_column(String(12), index=True)
    stage: Mapped[str | None] = mapped_column(String(60))  # (a draft) what it waits for
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: the shell
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(Integer)  # a photo or file, the text its caption
    segment: Mapped[dict[str, Any]]
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # where the delivery report goes when it ends (the admin's chat)
    report_channel: Mapped[str | None] = mapped_column(String(20))
    report_chat: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5), default="ar")  # the admin's


class SendRate(Base):
    """A channel's shared sending clock: every sender process reserves its slots here, so
    the global rate holds across processes."""

    __tablename__ = "send_rates"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)  # epoch seconds of the next free slot


class ChatWindow(Base):
    """When a person last wrote on a channel that limits what may be sent later (WhatsApp:
    free-form messages only within 24 hours of it)."""

    __tablename__ = "chat_windows"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_inbound_at: Mapped[datetime]


class WebMessage(Base):
    """The web chat's transcript, both ways, kept so that a page reopened later shows the
    conversation and the replies that came while it was closed."""

    __tablename__ = "web_messages"
    __table_args__ = (Index("ix_web_messages_chat", "chat_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))  # a hash of the browser's token
    direction: Mapped[str] = mapped_column(String(3))  # "in" (the visitor) or "out" (the bot)
    # what the page shows: text, choices, language, file name
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJson("web_messages.payload"))
    document_id: Mapped[int | None] = mapped_column(Integer)  # a document sent with it
    created_at: Mapped[datetime]


class Counter(Base):
    """Named sequences (request numbers per prefix and year)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
