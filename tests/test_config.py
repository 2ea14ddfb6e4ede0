"""Configuration read from the environment: the defaults follow what `make run` actually does."""

import pytest

from backend import config as app_config


@pytest.fixture
def env(monkeypatch):
    for name in ("PUBLIC_BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_links_point_at_the_port_make_run_serves_when_no_public_address_is_given(env, tmp_path):
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    env.setenv("PORT", "8731")
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "http://127.0.0.1:8731"
    env.setenv("HOST", "192.168.1.20")
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "http://192.168.1.20:8731"
    env.setenv("HOST", "0.0.0.0")  # every address: this machine's own is loopback
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "http://127.0.0.1:8731"
    env.setenv("HOST", "::1")
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "http://[::1]:8731"


def test_a_public_address_given_wins_over_host_and_port(env, tmp_path):
    env.setenv("PORT", "8731")
    env.setenv("PUBLIC_BASE_URL", "https://zfgs.example.gov.cn/")
    assert app_config.load(str(tmp_path))["PUBLIC_BASE_URL"] == "https://zfgs.example.gov.cn"
