"""Association profiles: the shipped five load; mistakes are reported with file:line."""

from __future__ import annotations

import pytest

from bot import profiles
from conversations.profile import FieldKind

SHIPPED = ["alhuda", "bakkah", "basmat", "bir_bin_hirmas", "sadeed"]


def test_five_profiles_ship():
    assert profiles.shipped() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_is_complete(name):
    p = profiles.load(name)
    assert p.association.ar and p.association.en
    assert p.request_prefix and p.decision.days == 14
    for service in p.services:
        kinds = {f.kind for f in service.fields}
        assert FieldKind.NATIONAL_ID in kinds and FieldKind.PHONE in kinds, service.key
        for f in service.fields:
            assert f.label.ar and f.label.en, f.key


def write(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
key: t
association: {ar: جمعية}
request_prefix: TT
privacy: {version: v1}
contact_channels:
  - {kind: phone, value: "0500000000"}
services:
  - key: s
    label: {ar: خدمة}
    fields:
      - key: n
        kind: integer
        label: {ar: عدد}
"""


def test_a_valid_minimal_profile(tmp_path):
    assert profiles.load(str(write(tmp_path, BASE))).services[0].fields[0].kind == "integer"


def test_errors_name_file_line_and_key(tmp_path):
    bad = BASE.replace("request_prefix: TT", "request_prefix: tt").replace(
        "        label: {ar: عدد}", "        label: {ar: عدد}\n        rules: {not_expired: true}")
    path = write(tmp_path, bad)
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load(str(path))
    message = str(err.value)
    assert f"{path}:3: request_prefix" in message
    assert f"{path}:11: services.0.fields.0" in message and "not_expired" in message
    assert "at least 1 item" not in message  # no noise about the list the bad item is in


def test_unknown_key_and_bad_yaml(tmp_path):
    with pytest.raises(profiles.ProfileError, match=r"p.yaml:6: contact_channels.0.colour"):
        profiles.load(str(write(tmp_path, BASE.replace("value: \"0500000000\"}",
                                                       "value: \"0500000000\", colour: red}"))))
    with pytest.raises(profiles.ProfileError, match="not valid YAML"):
        profiles.load(str(write(tmp_path, "key: [unclosed")))


def test_typed_signature_needs_a_name_field_in_every_service(tmp_path):
    text = BASE + "signature: {mode: typed_name, name_field: full_name}\n"
    with pytest.raises(profiles.ProfileError, match="full_name"):
        profiles.load(str(write(tmp_path, text)))


def test_unknown_profile_name_lists_the_shipped_ones():
    with pytest.raises(profiles.ProfileError, match="bakkah"):
        profiles.load("nowhere")


def test_keys_the_bot_uses_itself_are_refused(tmp_path):
    text = BASE.replace("  - key: s\n", "  - key: back\n")
    with pytest.raises(profiles.ProfileError, match="reserved"):
        profiles.load(str(write(tmp_path, text)))
