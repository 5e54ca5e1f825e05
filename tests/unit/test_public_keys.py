"""The local ListPublicKeys stand-in: `redtrail local --public-keys FILE` reads a PublicKeyList-shaped file."""

import base64
import json

import pytest

from redtrail_devtools.cloudtrail_signer import SigningKey
from redtrail_devtools.public_keys import PublicKeysError, demo_keys, load_public_keys

KEY = SigningKey()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "Expecting value"),
        ("[]", "expected a non-empty JSON list"),
        ('[{"Fingerprint": "x"}]', "key 0: no base64 Value"),
        ('[{"Value": "***"}]', "key 0: Value is not base64"),
        (json.dumps([{"Value": base64.b64encode(KEY.der).decode(), "Fingerprint": "ab"}]), "is not the MD5"),
        (json.dumps([{"Value": base64.b64encode(KEY.der).decode(), "ValidityStartTime": "soon"}]), "'soon'"),
    ],
)
def test_a_bad_public_keys_file_is_a_one_line_error_naming_what_is_wrong(tmp_path, content, message):
    # Given a public-keys file with one thing wrong
    path = tmp_path / "keys.json"
    path.write_text(content)
    # When it is loaded
    with pytest.raises(PublicKeysError) as raised:
        load_public_keys(path)
    # Then the error is one line, names the file and what is wrong
    assert "\n" not in str(raised.value)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_public_keys_file_as_list_public_keys_prints_it_is_served_as_given(tmp_path):
    # Given the keys as `aws cloudtrail list-public-keys` prints them (ISO times), and one without times
    listed = demo_keys(KEY)[0]
    printed = listed | {"ValidityStartTime": "2024-01-01T00:00:00Z", "ValidityEndTime": "2025-01-01T00:00:00+00:00"}
    bare = {"Value": listed["Value"]}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([printed, bare]))
    # When it is loaded
    first, second = load_public_keys(path)
    # Then the times are epoch seconds, the fingerprint is the key's, and a key without times is always valid
    assert first["ValidityStartTime"] == 1704067200.0
    assert first["Fingerprint"] == second["Fingerprint"] == KEY.fingerprint
    assert second["ValidityStartTime"] < first["ValidityStartTime"] < first["ValidityEndTime"]
    assert second["ValidityEndTime"] > first["ValidityEndTime"]
