"""Configuration read from the environment: the defaults follow what `make run` actually does."""

import ast
import re
import runpy

import pytest

from backend import config as app_config
from backend.app import create_app
from backend.config import ROOT
from search_index import make_engine


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


def test_every_variable_has_a_type_and_a_meaning():
    for setting in app_config.SETTINGS:
        assert callable(setting.parse) and setting.description, setting.name
    assert len(app_config.BY_NAME) == len(app_config.SETTINGS), "a variable declared twice"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("TOKEN_TTL_SECONDS", "-5"),
        ("WEB_THREADS", "0"),
        ("SEARCH_INDEX_CHECK_SECONDS", "soon"),
        ("SCHEDULER_THREAD", "yes"),
        ("APP_ENV", "prod"),
        ("WECHAT_MINIAPP_ENV_VERSION", "beta"),
        ("PUBLIC_BASE_URL", "zfgs.example.gov.cn"),
        ("ELASTICSEARCH_URL", "http://es1:9200,es2:9200"),
        ("ELASTICSEARCH_REPLICAS", "-1"),
        ("DISCLOSURE_PERIODS", '{"penalty": {"person": 365'),
        ("DISCLOSURE_PERIODS", '{"penalty": {"person": "one year"}}'),
        ("DISCLOSURE_PERIODS", '["penalty"]'),
        ("BADGE_SIGNING_KEYS", "k1.pem"),
        # Contact details must outlast the 15 days a closed complaint can be reopened in.
        ("COMPLAINT_CONTACT_RETENTION_DAYS", "14"),
    ],
)
def test_a_wrong_value_stops_the_start_naming_the_variable(env, tmp_path, name, value):
    env.setenv(name, value)
    with pytest.raises(app_config.ConfigError, match=f"^{name}="):
        app_config.load(str(tmp_path))
    with pytest.raises(app_config.ConfigError, match=f"^{name}="):
        create_app({})


def test_values_are_read_with_their_types(env, tmp_path):
    env.setenv("TOKEN_TTL_SECONDS", "60")
    env.setenv("SCHEDULER_THREAD", "0")
    env.setenv("WECHAT_TIMEOUT_SECONDS", "1.5")
    env.setenv("DISCLOSURE_PERIODS", '{"penalty": {"person": 180}}')
    env.setenv("ACCESS_LOG", "")  # empty: no access log (the benches and live tests use it)
    loaded = app_config.load(str(tmp_path))
    assert loaded["TOKEN_TTL_SECONDS"] == 60
    assert loaded["SCHEDULER_THREAD"] is False
    assert loaded["WECHAT_TIMEOUT_SECONDS"] == 1.5
    assert loaded["DISCLOSURE_PERIODS"] == {"penalty": {"person": 180}}
    assert loaded["ACCESS_LOG"] is None
    env.setenv("TOKEN_TTL_SECONDS", "")  # empty: the default
    assert app_config.load(str(tmp_path))["TOKEN_TTL_SECONDS"] == 900


def test_elasticsearch_takes_a_cluster_of_nodes_and_a_replica_count(env, tmp_path):
    env.setenv("ELASTICSEARCH_URL", "http://es1:9200/, http://es2:9200,https://es3:9200")
    env.setenv("ELASTICSEARCH_REPLICAS", "1")
    loaded = app_config.load(str(tmp_path))
    assert loaded["ELASTICSEARCH_URL"] == "http://es1:9200,http://es2:9200,https://es3:9200"
    engine = make_engine({**loaded, "SEARCH_INDEX_PREFIX": "nodes"})
    nodes = {node.base_url for node in engine.client.transport.node_pool.all()}
    assert nodes == set(loaded["ELASTICSEARCH_URL"].split(","))
    assert engine.replicas == 1


def test_gunicorn_reads_its_settings_through_the_same_table(env, tmp_path):
    # The module exports its metrics folder to the environment (for the workers): set here, so that it is undone.
    env.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    env.setenv("PORT", "8731")
    env.setenv("WEB_THREADS", "6")
    env.setenv("ACCESS_LOG", "")
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert (settings["bind"], settings["threads"], settings["accesslog"]) == ("127.0.0.1:8731", 6, None)
    env.setenv("WEB_WORKERS", "many")
    with pytest.raises(app_config.ConfigError, match=r"^WEB_WORKERS="):
        runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


# -- README and code name the same variables ------------------------------------------------------
def readme_variables() -> set[str]:
    """The variables named in the first column of README.md's configuration tables."""
    names: set[str] = set()
    in_table = False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| variable | default | meaning |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_readme_configuration_tables_list_every_variable_and_only_those():
    declared = set(app_config.BY_NAME)
    listed = readme_variables()
    assert declared - listed == set(), "variables read but missing from README's configuration tables"
    assert listed - declared == set(), "variables in README's configuration tables that the code does not read"


READERS = ("environ", "environb", "getenv")


def environment_reads(source: str) -> list[int]:
    """Lines of ``source`` that read the process environment (os.environ, os.getenv, os.putenv)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        reads_os = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
        if (reads_os and node.attr in READERS) or (
            isinstance(node, ast.ImportFrom) and node.module == "os" and any(a.name in READERS for a in node.names)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_only_backend_config_reads_the_environment():
    assert environment_reads("import os\nhost = os.environ.get('HOST')\nport = os.getenv('PORT')") == [2, 3]
    sources = [*ROOT.glob("backend/**/*.py"), *ROOT.glob("miniapp_api/**/*.py"), *ROOT.glob("search_index/**/*.py")]
    sources.append(ROOT / "deploy" / "gunicorn.conf.py")
    readers = {
        str(path.relative_to(ROOT)): found
        for path in sources
        if path != ROOT / "backend" / "config.py" and (found := environment_reads(path.read_text()))
    }
    assert readers == {}
