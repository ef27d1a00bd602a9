"""The register of processing is drawn from each profile: every field it asks is listed
once, under the right category, with the profile's own retention periods."""

from __future__ import annotations

import pytest

from bot import profiles
from conversations import pdpl

SHIPPED = ["bakkah", "sadeed", "basmat", "alhuda", "bir_bin_hirmas"]


@pytest.mark.parametrize("key", SHIPPED)
def test_every_field_is_in_the_register_under_its_category(key, translations):
    profile = profiles.load(key)
    found = pdpl.register(profile, translations["en"], "en")
    for service, listed in zip(profile.services, found["data"], strict=True):
        names = [f for fields in listed["categories"].values() for f in fields]
        assert sorted(names) == sorted(s.label.get("en") or s.key for s in service.fields)
        sensitive = [c for c in listed["categories"] if c.startswith("sensitive")]
        expected = sorted(s.label.get("en") for s in service.fields if s.sensitive)
        assert sorted(listed["categories"][sensitive[0]]) == expected if expected else not sensitive
    assert found["retention_days"] == {**profile.retention.model_dump(),
                                       "volunteers_days": profile.volunteering.keep_days}
    text = pdpl.as_text(found, translations["en"])
    assert profile.association.get("en") in text and "## Safeguards" in text
    arabic = pdpl.register(profile, translations["ar"], "ar")
    text = pdpl.as_text(arabic, translations["ar"])
    assert profile.association.get("ar") in text and "## الضمانات" in text
    assert f"- سجل التدقيق: {profile.retention.audit_days}" in text


def test_the_register_names_the_policys_decider(translations):
    en = translations["en"]
    assert "the competent body" in pdpl.register(profiles.load("alhuda"), en, "en")["recipients"]
    assert "the research committee" in pdpl.register(profiles.load("bakkah"), en, "en")["recipients"]
