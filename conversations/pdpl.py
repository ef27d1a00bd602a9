"""The register of processing activities (the PDPL's records of processing), drawn from the
profile, so that it says what this deployment actually collects, why, for how long, who
sees it and how it is protected. `wasl pdpl records` prints it."""

from __future__ import annotations

from typing import Any

from conversations.profile import FieldKind, Profile

KIND_CATEGORY = {
    FieldKind.NATIONAL_ID: "identity (national ID or iqama number)",
    FieldKind.PHONE: "contact (mobile number)",
    FieldKind.IBAN: "financial (bank account, IBAN)",
    FieldKind.FILE: "documents (photos and scans)",
    FieldKind.DATE: "dates (birth, validity of documents)",
}


def register(profile: Profile) -> dict[str, Any]:
    """The register: controller, purposes, data per service, retention, recipients,
    transfers and safeguards."""
    retention = profile.retention
    services = []
    for service in profile.services:
        categories: dict[str, list[str]] = {}
        for spec in service.fields:
            category = ("sensitive (health or finances, asked after a separate consent)"
                        if spec.sensitive else KIND_CATEGORY.get(spec.kind, "answers to the form"))
            categories.setdefault(category, []).append(spec.label.get("en") or spec.key)
        services.append({"service": service.label.get("en"), "key": service.key,
                         "categories": categories})
    body = ("the competent body" if profile.decision.body == "competent_body"
            else "the research committee")
    return {
        "controller": {"name": profile.association.get("ar"),
                       "name_en": profile.association.get("en"),
                       "contact": [c.value for c in profile.contact_channels]},
        "purposes": [
            {"purpose": "beneficiary_services", "basis": "consent, recorded with the notice's version",
             "what": "to study the beneficiary's requests for support and provide the service"},
            {"purpose": "sensitive_data", "basis": "a separate, explicit consent",
             "what": "health and financial answers a service needs"},
            {"purpose": "surveys", "basis": "the beneficiary's right to be heard",
             "what": "satisfaction with a service or a researcher's help; reported to the board, "
                     "never used to punish"},
            {"purpose": "announcements", "basis": "consent, withdrawn with /stop",
             "what": "the association's announcements"},
        ],
        "data": services,
        "retention_days": retention.model_dump(),
        "recipients": ["the association's social researchers", body,
                       "the association's admins (reports carry counts, not people)"],
        "processors": ["the messaging platforms the beneficiary writes on (Telegram, WhatsApp "
                       "Cloud API by Meta) carry the messages; the data is stored only on the "
                       "association's own machine"],
        "transfers": "none outside the association, unless a law requires it",
        "safeguards": [
            "national IDs, IBANs, sensitive answers, documents and transcripts sealed at rest "
            "with AES-GCM; national IDs looked up by a keyed hash",
            "identifying numbers masked on staff screens unless the file is asked for; every "
            "view of personal data audited",
            "one role check for every staff command, on every channel; refusals audited",
            "no personal data in the logs at any level",
            "SQLite overwrites deleted data (secure_delete)",
        ],
        "rights": {"access": "/mydata (a PDF and JSON, at once)",
                   "destruction": "/delete (at once, but what the policy still holds)",
                   "correction and withdrawing consent": "from «My data and privacy», "
                                                         "by a researcher within 30 days"},
    }


def as_text(found: dict[str, Any]) -> str:
    """The register as a readable document (Markdown)."""
    c = found["controller"]
    lines = [f"# Register of processing: {c['name']} ({c['name_en']})", "",
             f"Contact: {', '.join(c['contact'])}", "", "## Purposes"]
    lines += [f"- {p['purpose']}: {p['what']} (basis: {p['basis']})" for p in found["purposes"]]
    lines += ["", "## Data collected, per service"]
    for s in found["data"]:
        lines.append(f"- {s['service']} (`{s['key']}`)")
        lines += [f"  - {cat}: {', '.join(fields)}" for cat, fields in s["categories"].items()]
    lines += ["", "## Retention (days)"]
    lines += [f"- {k}: {v}" for k, v in found["retention_days"].items()]
    lines += ["", "## Recipients"] + [f"- {r}" for r in found["recipients"]]
    lines += ["", "## Processors"] + [f"- {p}" for p in found["processors"]]
    lines += ["", f"## Transfers\n{found['transfers']}", "", "## Safeguards"]
    lines += [f"- {s}" for s in found["safeguards"]]
    lines += ["", "## Rights in the bot"] + [f"- {k}: {v}" for k, v in found["rights"].items()]
    return "\n".join(lines) + "\n"
