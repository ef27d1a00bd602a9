"""The register of processing activities (the PDPL's records of processing), drawn from the
profile, so that it says what this deployment actually collects, why, for how long, who
sees it and how it is protected. `wasl pdpl records` prints it."""

from __future__ import annotations

from typing import Any

from conversations.base import Translator
from conversations.fields import N_
from conversations.profile import FieldKind, Profile

KIND_CATEGORY = {
    FieldKind.NATIONAL_ID: N_("identity (national ID or iqama number)"),
    FieldKind.PHONE: N_("contact (mobile number)"),
    FieldKind.IBAN: N_("financial (bank account, IBAN)"),
    FieldKind.FILE: N_("documents (photos and scans)"),
    FieldKind.DATE: N_("dates (birth, validity of documents)"),
}
OTHER = N_("answers to the form")
SENSITIVE = N_("sensitive (health or finances, asked after a separate consent)")
RETENTION = {
    "drafts_days": N_("unfinished requests and their files"),
    "messages_days": N_("the conversation log"),
    "transcripts_days": N_("closed cases' transcripts"),
    "closed_requests_days": N_("requests rejected, delivered or closed"),
    "web_chat_days": N_("the web chat's transcript"),
    "copies_days": N_("copies of one's data (files)"),
    "outbox_days": N_("messages sent (their chat)"),
    "audit_days": N_("the audit log"),
    "chat_windows_days": N_("when a WhatsApp chat last wrote (for its 24-hour window)"),
    "voice_days": N_("voice messages no researcher was asked to listen to"),
    "volunteers_days": N_("volunteers' sign-ups (from the last sign-up)"),
}


def register(profile: Profile, tr: Translator, lang: str = "ar") -> dict[str, Any]:
    """The register, in `lang`: controller, purposes, data per service, retention,
    recipients, transfers and safeguards."""
    _ = tr.gettext
    retention = profile.retention
    services = []
    for service in profile.services:
        categories: dict[str, list[str]] = {}
        for spec in service.fields:
            category = _(SENSITIVE if spec.sensitive else KIND_CATEGORY.get(spec.kind, OTHER))
            categories.setdefault(category, []).append(spec.label.get(lang) or spec.key)
        services.append({"service": service.label.get(lang), "key": service.key,
                         "categories": categories})
    body = (_("the competent body") if profile.decision.body == "competent_body"
            else _("the research committee"))
    return {
        "controller": {"name": profile.association.get(lang),
                       "contact": [c.value for c in profile.contact_channels]},
        "purposes": [
            {"purpose": "beneficiary_services", "name": _("Serving the beneficiary"),
             "basis": _("consent, recorded with the notice's version"),
             "what": _("to study the beneficiary's requests for support and provide the service")},
            {"purpose": "sensitive_data", "name": _("Health and financial data"),
             "basis": _("a separate, explicit consent"),
             "what": _("health and financial answers a service needs")},
            {"purpose": "surveys", "name": _("Satisfaction surveys"),
             "basis": _("the beneficiary's right to be heard"),
             "what": _("satisfaction with a service or a researcher's help; reported to the "
                       "board, never used to punish")},
            {"purpose": "announcements", "name": _("Announcements"),
             "basis": _("consent, withdrawn with /stop"),
             "what": _("the association's announcements")},
            *([{"purpose": "volunteering", "name": _("Volunteering"),
                "basis": _("a separate consent, withdrawn from «My data and privacy»"),
                "what": _("contacting volunteers about volunteering: {fields}").format(
                    fields=", ".join(f.label.get(lang) for f in profile.volunteering.fields))}]
              if profile.volunteering.enabled else []),
        ],
        "data": services,
        "retention_days": (days := {**retention.model_dump(),
                                    "volunteers_days": profile.volunteering.keep_days}),
        "retention": {_(RETENTION[k]): v for k, v in days.items()},
        "recipients": [_("the association's social researchers"), body,
                       _("the association's admins (reports carry counts, not people)")],
        "processors": [_("the messaging platforms the beneficiary writes on (Telegram, "
                         "WhatsApp Cloud API by Meta) carry the messages; the data is stored "
                         "only on the association's own machine")],
        "transfers": _("none outside the association, unless a law requires it"),
        "safeguards": [
            _("national IDs, IBANs, sensitive answers, documents and transcripts sealed at "
              "rest with AES-GCM; national IDs looked up by a keyed hash"),
            _("identifying numbers masked on staff screens unless the file is asked for; "
              "every view of personal data audited"),
            _("one role check for every staff command, on every channel; refusals audited"),
            _("no personal data in the logs at any level"),
            _("SQLite overwrites deleted data (secure_delete)"),
        ],
        "rights": {_("access"): _("/mydata: a PDF and JSON, at once"),
                   _("destruction"): _("/delete: at once, but what the policy still holds"),
                   _("withdrawing consent"): _("from «My data and privacy», at once"),
                   _("correction"): _("from «My data and privacy», by a researcher within 30 "
                                      "days")},
    }


def as_text(found: dict[str, Any], tr: Translator) -> str:
    """The register as a readable document (Markdown), in the language it was made in."""
    _ = tr.gettext
    c = found["controller"]
    lines = [_("# Register of processing: {name}").format(name=c["name"]), "",
             _("Contact: {contact}").format(contact="، ".join(c["contact"])), "",
             _("## Purposes")]
    basis = _("basis")
    lines += [f"- {p['name']}: {p['what']} ({basis}: {p['basis']})" for p in found["purposes"]]
    lines += ["", _("## Data collected, per service")]
    for s in found["data"]:
        lines.append(f"- {s['service']} (`{s['key']}`)")
        lines += [f"  - {cat}: {'، '.join(fields)}" for cat, fields in s["categories"].items()]
    lines += ["", _("## Retention (days)")]
    lines += [f"- {k}: {v}" for k, v in found["retention"].items()]
    lines += ["", _("## Recipients")] + [f"- {r}" for r in found["recipients"]]
    lines += ["", _("## Processors")] + [f"- {p}" for p in found["processors"]]
    lines += ["", _("## Transfers"), found["transfers"], "", _("## Safeguards")]
    lines += [f"- {s}" for s in found["safeguards"]]
    lines += ["", _("## Rights in the bot")] + [f"- {k}: {v}" for k, v in found["rights"].items()]
    return "\n".join(lines) + "\n"
