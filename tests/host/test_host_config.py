import pytest

from haltguard.host.config import ConfigFileError, HostConfig, expand_env, load_config


def test_embedded_defaults_need_no_file():
    c = load_config()
    assert c.scorer.engine == "onnx" and c.scorer.variant == "int8"
    assert c.revocation.backend == "memory" and c.rate_limit.backend == "memory"
    assert c.session.keys == [] and not c.auth.open_access


def test_env_expansion_with_default_and_missing(tmp_path):
    assert expand_env({"a": ["${X}-${Y:-dflt}"]}, {"X": "1"}) == {"a": ["1-dflt"]}
    with pytest.raises(ConfigFileError, match="environment variable NOPE is not set"):
        expand_env("${NOPE}", {})
    f = tmp_path / "c.yaml"
    f.write_text("session:\n  keys:\n    - kid: k1\n      secret: ${SECRET}\n")
    c = load_config(f, env={"SECRET": "s" * 40})
    assert c.session.keys[0].secret == "s" * 40


@pytest.mark.parametrize("data, field", [
    ({"server": {"port": 70000}}, "server.port"),
    ({"session": {"keys": [{"kid": "k1", "secret": "short"}]}}, "session.keys.0.secret"),
    ({"rate_limit": {"backend": "redis"}}, "redis.url"),
    ({"scorer": {"engine": "tensorflow"}}, "scorer.engine"),
    ({"sever": {}}, "sever"),
    ({"auth": {"keys": [{"name": "x"}]}}, "exactly one of key or key_sha256"),
    ({"revocation": {"backend": "file"}}, "needs path"),
])
def test_bad_config_names_the_field(data, field):
    with pytest.raises(ConfigFileError) as ei:
        load_config(data=data, env={})
    assert field in str(ei.value)


def test_bad_yaml_and_missing_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("server: [unclosed")
    with pytest.raises(ConfigFileError, match="not valid YAML"):
        load_config(f)
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_duplicate_key_ids_rejected():
    with pytest.raises(Exception, match="unique"):
        HostConfig.model_validate({"session": {"keys": [{"kid": "a", "secret": "x" * 32}, {"kid": "a", "secret": "y" * 32}]}})


def test_env_keys_without_scopes_get_no_admin_and_errors_never_echo_a_key():
    from haltguard.host.auth import KeyRing, parse_env_keys
    from haltguard.host.config import ALL_SCOPES, AuthConfig

    (e,) = parse_env_keys("app:0123456789abcdefXYZ")
    assert "admin" not in e["scopes"] and "metrics" not in e["scopes"] and "proxy" in e["scopes"]
    (e,) = parse_env_keys("ops:0123456789abcdefXYZ:admin+metrics:t1")
    assert e["scopes"] == ["admin", "metrics"] and e["tenant"] == "t1"
    secret = "s3cr3t-bare-key-without-a-name"
    for raw in (secret, f"me:{secret[:5]}", f"me:{secret}:nope"):
        with pytest.raises(ValueError) as exc:
            parse_env_keys(raw)
        assert secret not in str(exc.value) and secret[:5] not in str(exc.value)
    ring = KeyRing(AuthConfig(keys=[{"name": "cfg", "key": "k" * 20}]), env={})
    assert ring.authenticate("k" * 20).scopes == frozenset(s for s in ALL_SCOPES if s not in ("admin", "metrics"))
