"""Pure parts of the security set-up: the key policy, generated secrets, TLS options from Redis URLs, redaction."""

from __future__ import annotations

import ssl
import stat

import pytest

from api.auth import Access, AuthPolicy, access_for
from celeryconfig import build
from geulpi_tasks.errors import Unauthorized, error_from_dict, error_to_wire
from geulpi_tasks.redis_urls import redacted_url, redis_ssl_options
from geulpi_tasks.settings import Settings
from geulpi_tasks.tools.credentials import load_or_create_secret, new_api_key, new_flower_auth
from workers.launcher import security_env


def test_access_classes_follow_blueprint_and_method():
    assert access_for("system.health", "GET") is Access.OPEN
    assert access_for(None, "POST") is Access.OPEN  # unknown route: the router answers 404/405
    assert access_for("models.get_versions", "GET") is Access.READ
    assert access_for("classify.classify_event", "POST") is Access.CLASSIFY
    assert access_for("feedback.post_feedback", "POST") is Access.CLASSIFY
    assert access_for("models.promote", "POST") is Access.MUTATE
    assert access_for("some_new_blueprint.anything", "PUT") is Access.MUTATE  # new endpoints are closed by default


def test_policy_needs_a_key_only_where_configured():
    policy = AuthPolicy.from_settings(Settings(api_keys="k1,k2", auth_reads="KEY", auth_classify="open"))
    assert policy.needs_key(Access.MUTATE) and policy.needs_key(Access.READ)
    assert not policy.needs_key(Access.CLASSIFY) and not policy.needs_key(Access.OPEN)
    assert policy.key_matches("k1") and policy.key_matches("k2")
    assert not policy.key_matches("k") and not policy.key_matches("k1,k2") and not policy.key_matches("")


def test_policy_check_raises_typed_errors():
    policy = AuthPolicy.from_settings(Settings(api_keys="secret"))
    policy.check("Bearer secret", Access.MUTATE)
    policy.check(None, Access.CLASSIFY)
    with pytest.raises(Unauthorized) as missing:
        policy.check(None, Access.MUTATE)
    assert missing.value.code == "missing_api_key" and missing.value.details == {"field": "Authorization"}
    with pytest.raises(Unauthorized) as wrong:
        policy.check("Bearer nope", Access.MUTATE)
    assert wrong.value.code == "invalid_api_key"
    with pytest.raises(Unauthorized) as unconfigured:
        AuthPolicy.from_settings(Settings()).check("Bearer secret", Access.MUTATE)
    assert unconfigured.value.code == "api_key_not_configured"


def test_unauthorized_crosses_the_task_wire_as_itself():
    rebuilt = error_from_dict(error_to_wire(Unauthorized("no", code="missing_api_key")))
    assert isinstance(rebuilt, Unauthorized) and rebuilt.details["field"] == "Authorization"


def test_settings_never_print_secrets():
    settings = Settings(api_keys="top-secret", flower_basic_auth="admin:hunter2")
    assert "top-secret" not in repr(settings) and "hunter2" not in repr(settings)
    assert settings.api_key_list == ("top-secret",)
    assert Settings.from_env(settings.to_env()).api_key_list == ("top-secret",)


def test_secret_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "sub" / "api-key"
    first, created = load_or_create_secret(path, new_api_key)
    assert created and len(first) > 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_secret(path, new_api_key)
    assert again == first and not created_again
    path.chmod(0o644)
    load_or_create_secret(path, new_api_key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_or_create_secret(path, new_api_key)


def test_flower_auth_is_one_user_password_pair():
    user, _, password = new_flower_auth().partition(":")
    assert user == "admin" and len(password) >= 24 and "," not in password and ":" not in password


def test_launcher_generates_and_reuses_secrets_unless_configured(tmp_path):
    env, lines = security_env(Settings(data_dir=tmp_path))
    assert env["GEULPI_API_KEYS"] == (tmp_path / "api-key").read_text().strip()
    assert env["FLOWER_BASIC_AUTH"] == (tmp_path / "flower-auth").read_text().strip()
    assert any(env["GEULPI_API_KEYS"] in line for line in lines)
    assert any(env["FLOWER_BASIC_AUTH"] in line for line in lines)
    assert security_env(Settings(data_dir=tmp_path))[0] == env
    configured, _ = security_env(Settings(data_dir=tmp_path / "other", api_keys="mine", flower_basic_auth="a:b"))
    assert configured == {} and not (tmp_path / "other" / "api-key").exists()


def test_redis_tls_options_come_from_the_url_and_verify_by_default():
    assert redis_ssl_options("redis://:pw@127.0.0.1:6379/0") is None
    assert redis_ssl_options("rediss://h:6380/0") == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    options = redis_ssl_options("rediss://h:6380/0?ssl_cert_reqs=CERT_NONE&ssl_ca_certs=%2Fetc%2Fca.pem"
                                "&ssl_check_hostname=false&socket_timeout=3")
    assert options == {"ssl_cert_reqs": ssl.CERT_NONE, "ssl_ca_certs": "/etc/ca.pem", "ssl_check_hostname": False}
    with pytest.raises(ValueError, match="ssl_cert_reqs"):
        redis_ssl_options("rediss://h/0?ssl_cert_reqs=maybe")


def test_celery_gets_tls_options_for_rediss_urls_only():
    plain = build(Settings(redis_url="redis://:pw@h:6379/0"))
    assert "broker_use_ssl" not in plain and "redis_backend_use_ssl" not in plain
    secure = build(Settings(redis_url="rediss://:pw@h:6380/0?ssl_ca_certs=%2Fca.pem"))
    expected = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": "/ca.pem"}
    assert secure["broker_use_ssl"] == expected and secure["redis_backend_use_ssl"] == expected


def test_redacted_url_hides_only_the_password():
    assert redacted_url("redis://:p%40ss@h:1/0") == "redis://:***@h:1/0"
    assert redacted_url("rediss://user:pw@h:1/0?ssl_ca_certs=x") == "rediss://user:***@h:1/0?ssl_ca_certs=x"
    assert redacted_url("redis://h:1/0") == "redis://h:1/0"


def test_celery_wire_is_json_only():
    conf = build(Settings())
    assert conf["accept_content"] == ["json"] and conf["result_accept_content"] == ["json"]
    assert conf["task_serializer"] == "json" and conf["result_serializer"] == "json"
