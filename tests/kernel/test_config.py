from __future__ import annotations

import json

import pytest

from haltguard.kernel import Cadence, ConfigError, HaltConfig, SoftMode, TrendRule, WindowRule


def test_defaults_round_trip_through_json():
    cfg = HaltConfig()
    again = HaltConfig.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(cfg.to_json())["window"] == {"size": 10, "threshold": 0.55}


def test_partial_dict_and_null_rules():
    cfg = HaltConfig.from_dict({"window": None, "trend": {"size": 3, "max_drop": 0.2}, "release": "optimistic"})
    assert cfg.window is None and cfg.trend == TrendRule(3, 0.2) and cfg.release == "optimistic"
    assert HaltConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "data, field",
    [
        ({"hard_limit": 1.5}, "hard_limit"),
        ({"hard_limit": "0.5"}, "hard_limit"),
        ({"hard_limit": float("nan")}, "hard_limit"),
        ({"soft_limit": -0.1}, "soft_limit"),
        ({"release": "eager"}, "release"),
        ({"window": {"size": 0}}, "window.size"),
        ({"window": {"size": 3, "thresh": 0.5}}, "window.thresh"),
        ({"trend": {"size": 1}}, "trend.size"),
        ({"trend": {"max_drop": True}}, "trend.max_drop"),
        ({"cadence": {"mode": "sometimes"}}, "cadence.mode"),
        ({"cadence": {"mode": "adaptive", "min_every": 4, "max_every": 2}}, "cadence.max_every"),
        ({"soft_mode": {"enabled": "yes"}}, "soft_mode.enabled"),
        ({"fail_open": {"deadline": 1}}, "fail_open.deadline"),
        ({"deadline_ms": -5}, "deadline_ms"),
        ({"bogus": 1}, "bogus"),
        ([1, 2], "config"),
    ],
)
def test_invalid_values_name_the_field(data, field):
    with pytest.raises(ConfigError) as err:
        HaltConfig.from_dict(data)
    assert err.value.field == field
    assert field in str(err.value)


def test_invalid_json_is_a_config_error():
    with pytest.raises(ConfigError, match="invalid JSON"):
        HaltConfig.from_json("{nope")


def test_dataclass_constructors_validate_too():
    with pytest.raises(ConfigError):
        WindowRule(size=-1)
    with pytest.raises(ConfigError):
        SoftMode(max_wait_tokens=-1)
    with pytest.raises(ConfigError):
        Cadence(every=0)
    with pytest.raises(ConfigError, match="window"):
        HaltConfig(window={"size": 3})  # type: ignore[arg-type]
