"""Staff search: a beneficiary by request number, national ID, mobile or name.

Names are compared Arabic-folded (hamza, alef maqsura, taa marbuta, tashkeel), digits in
any script. The query is never stored or logged: the audit entry records only that a
search was made and how many it found (handlers/staff.py)."""

from __future__ import annotations

from conversations.base import Found
from conversations.profile import FieldKind, Profile
from conversations.text import ascii_digits, fold
from storage.repositories import UnitOfWork

PHONE_TAIL = 9  # a Saudi mobile without its country code or leading zero: 5XXXXXXXX


def _digits(text: str) -> str:
    return "".join(ch for ch in ascii_digits(text) if ch.isdigit())


def _kinds(profile: Profile) -> tuple[set[str], set[str]]:
    """The keys of national-ID fields and of phone fields, over every service."""
    ids, phones = set(), set()
    for service in profile.services:
        for spec in service.fields:
            if spec.kind is FieldKind.NATIONAL_ID:
                ids.add(spec.key)
            elif spec.kind is FieldKind.PHONE:
                phones.add(spec.key)
    return ids, phones


def matches(query: str, number: str, values: dict[str, object], profile: Profile) -> str | None:
    """How one request matches the query: number, phone, name, or None."""
    typed = ascii_digits(query).strip().upper().replace(" ", "")
    if typed == number.upper():
        return "number"
    digits = _digits(query)
    _ids, phones = _kinds(profile)  # a national ID is looked up by its keyed hash (find)
    if len(digits) >= PHONE_TAIL and not _an_id(digits) and any(
            len(_digits(str(values.get(k) or ""))) >= PHONE_TAIL
            and _digits(str(values.get(k)))[-PHONE_TAIL:] == digits[-PHONE_TAIL:]
            for k in phones):
        return "phone"
    words = fold(query).split()
    name = values.get(profile.signature.name_field or "full_name")
    if words and not digits and isinstance(name, str):
        folded = fold(name).split()
        if all(any(part.startswith(w) for part in folded) for w in words):
            return "name"
        # compound names written with or without their space: "عبد الله", "عبدالله"
        if "".join(words) in "".join(folded):
            return "name"
    return None


def _an_id(digits: str) -> bool:
    """A Saudi national ID or iqama number: ten digits starting with 1 or 2 (a mobile
    typed with its zero starts with 05)."""
    return len(digits) == 10 and digits[0] in "12"


async def find(uow: UnitOfWork, profile: Profile, query: str,
               role: str = "researcher") -> list[Found]:
    """Every beneficiary the query matches, each once, newest request first; an admins'
    follow-up case is shown to admins only."""
    hits: dict[int, str] = {}
    requests: dict[int, list[tuple[str, str]]] = {}
    names: dict[int, str] = {}
    key = profile.signature.name_field or "full_name"
    for beneficiary_id, number, _service, status, values in await uow.requests.searchable():
        requests.setdefault(beneficiary_id, []).append((number, status))
        if isinstance(values.get(key), str) and beneficiary_id not in names:
            names[beneficiary_id] = values[key]
        how = matches(query, number, values, profile)
        if how is not None:
            hits.setdefault(beneficiary_id, how)
    digits = _digits(query)
    if len(digits) == 10:  # a national ID: looked up by its keyed hash, never read in clear
        for beneficiary_id in await uow.requests.by_national_id(digits):
            hits.setdefault(beneficiary_id, "national_id")
    if len(digits) >= PHONE_TAIL and not _an_id(digits):  # WhatsApp: the number is the account
        for beneficiary_id, sender in await uow.requests.whatsapp_numbers():
            if _digits(sender)[-PHONE_TAIL:] == digits[-PHONE_TAIL:]:
                hits.setdefault(beneficiary_id, "phone")
    found = []
    for beneficiary_id, how in hits.items():
        case = await uow.desk.open_case(beneficiary_id)
        shown = case is not None and (case.audience == "researcher" or role == "admin")
        found.append(Found(beneficiary_id, names.get(beneficiary_id), how,
                           tuple(requests.get(beneficiary_id, ())),
                           case.id if case and shown else None))
    return found
