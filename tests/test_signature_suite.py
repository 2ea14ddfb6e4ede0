"""SIGNATURE_SUITE at start: whole apps made with each suite sign with it, and a key ring holding a key of the other
suite is refused at start (a ConfigError naming where the key came from), not at the first scan. What signing does
in either suite is tests/contract/test_signing_contract.py."""

from __future__ import annotations

import json
import re

import pytest

from backend import config as app_config
from backend import create_app
from backend.config import ConfigError
from backend.keys import suite
from tests.conftest import base_config
from tests.test_production_start import production

OTHER = {"ed25519": "sm2", "sm2": "ed25519"}
LABEL = {"ed25519": "Ed25519", "sm2": "SM2"}


def key_set(suite_name: str, kid: str = "k20260101000000") -> str:
    return json.dumps({kid: suite(suite_name).generate_pem().decode()})


@pytest.mark.parametrize("name", ["ed25519", "sm2"])
@pytest.mark.parametrize("ring", ["BADGE", "TRANSPARENCY"])
def test_a_production_key_of_the_other_suite_is_refused_naming_its_variable(database_url, tmp_path, name, ring):
    config = production(
        database_url,
        tmp_path,
        SIGNATURE_SUITE=name,
        BADGE_SIGNING_KEYS=key_set(name),
        TRANSPARENCY_SIGNING_KEYS=key_set(name),
    )
    config[f"{ring}_SIGNING_KEYS"] = key_set(OTHER[name])
    with pytest.raises(ConfigError, match=f"^{ring}_SIGNING_KEYS: .* is not an {LABEL[name]} key") as refused:
        create_app(config)
    assert f"SIGNATURE_SUITE={name}" in str(refused.value)


@pytest.mark.parametrize("name", ["ed25519", "sm2"])
def test_a_key_file_of_the_other_suite_is_refused_naming_its_folder(database_url, tmp_path, name):
    folder = tmp_path / "theirs"
    folder.mkdir()
    (folder / "k20260101000000.pem").write_bytes(suite(OTHER[name]).generate_pem())
    config = {**base_config(database_url, tmp_path), "SIGNATURE_SUITE": name, "BADGE_KEYS_DIR": str(folder)}
    with pytest.raises(
        ConfigError, match=f"^{re.escape(f'BADGE_KEYS_DIR={folder}')}: badge key k20260101000000 is not an"
    ):
        create_app(config)


def test_a_key_that_is_no_pem_is_refused(database_url, tmp_path):
    config = production(database_url, tmp_path, BADGE_SIGNING_KEYS=json.dumps({"k20260101000000": "not a key"}))
    with pytest.raises(ConfigError, match=r"^BADGE_SIGNING_KEYS: badge key k20260101000000 is not a PEM private key"):
        create_app(config)


def test_an_sm2_app_signs_with_sm2_from_its_own_development_folders(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNATURE_SUITE", "sm2")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    for variable in ("BADGE_KEYS_DIR", "TRANSPARENCY_KEYS_DIR", "BADGE_SIGNING_KEYS", "TRANSPARENCY_SIGNING_KEYS"):
        monkeypatch.delenv(variable, raising=False)
    values = app_config.load(str(tmp_path))
    assert (values["BADGE_KEYS_DIR"], values["TRANSPARENCY_KEYS_DIR"]) == (
        str(tmp_path / "badge_keys-sm2"),
        str(tmp_path / "transparency_keys-sm2"),
    )
    # An Ed25519 key left in the Ed25519 folder is not in the way.
    (tmp_path / "badge_keys").mkdir()
    (tmp_path / "badge_keys" / "k20260101000000.pem").write_bytes(suite("ed25519").generate_pem())
    overrides = {
        key: value
        for key, value in base_config(database_url, tmp_path).items()
        if key not in ("BADGE_KEYS_DIR", "TRANSPARENCY_KEYS_DIR")
    }
    app = create_app(overrides)
    try:
        assert app.config["BADGE_KEYS_DIR"] == str(tmp_path / "badge_keys-sm2")
        client = app.test_client()
        for path in ("/api/v1/badges/keys", "/api/v1/transparency/keys"):
            (key,) = client.get(path).get_json()["keys"]
            assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "SM2", "SM2SM3", "sig")
            assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
        assert client.get("/readyz").get_json()["checks"]["signing_keys"]["ok"] is True
    finally:
        app.extensions["officer_snapshots"].stop()
