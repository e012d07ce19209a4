"""Strict config loading: unknown keys, wrong types and missing keys name the file and key."""

from dataclasses import dataclass, field

import pytest

from unihm_common.config import from_dict, load_ros_params, load_yaml
from unihm_common.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    gain: float = 1.0


@dataclass(frozen=True)
class Outer:
    name: str
    rate_hz: float = 100.0
    joints: tuple[str, ...] = ()
    inner: Inner = field(default_factory=Inner)
    mode: str | None = None

    def __post_init__(self):
        if self.rate_hz <= 0:
            raise ValueError(f"rate_hz must be > 0, got {self.rate_hz}")


def test_builds_nested_and_coerces():
    cfg = from_dict(Outer, {"name": "a", "rate_hz": 50, "joints": ["j1", "j2"], "inner": {"gain": 2}})
    assert cfg.rate_hz == 50.0 and isinstance(cfg.rate_hz, float)
    assert cfg.joints == ("j1", "j2")
    assert cfg.inner == Inner(2.0)


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"name": "a", "rat_hz": 1}, "unknown key 'rat_hz'"),
        ({"rate_hz": 1.0}, "missing required key 'name'"),
        ({"name": "a", "rate_hz": "fast"}, "key 'rate_hz': expected a number"),
        ({"name": "a", "rate_hz": True}, "key 'rate_hz': expected a number"),
        ({"name": "a", "inner": {"gian": 1}}, "unknown key 'gian'"),
        ({"name": "a", "rate_hz": -1}, "rate_hz must be > 0"),
        ({"name": "a", "joints": "j1"}, "key 'joints': expected a list"),
    ],
)
def test_errors_name_source_and_key(data, needle):
    with pytest.raises(ConfigError) as exc:
        from_dict(Outer, data, source="cfg.yaml")
    assert needle in str(exc.value)
    assert "cfg.yaml" in str(exc.value)


def test_yaml_syntax_error_names_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: YAML syntax error"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "missing.yaml")


def test_ros_params_merge_wildcard_then_node(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("/**:\n  ros__parameters:\n    a: 1\n    b: 2\nnode:\n  ros__parameters:\n    b: 3\n")
    assert load_ros_params(f, "/ns/node") == {"a": 1, "b": 3}
    f.write_text("node:\n  a: 1\n")
    with pytest.raises(ConfigError, match="ros__parameters"):
        load_ros_params(f, "node")


@dataclass(frozen=True)
class Fixed:
    rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pair: tuple[int, str] = (0, "")


def test_fixed_length_tuples_are_checked_per_position():
    assert from_dict(Fixed, {"rgb": [1, 2, 3], "pair": [4, "x"]}) == Fixed((1.0, 2.0, 3.0), (4, "x"))
    with pytest.raises(ConfigError, match="expected 3 items"):
        from_dict(Fixed, {"rgb": [1, 2]})
    with pytest.raises(ConfigError, match=r"pair'\[1\]: expected a string"):
        from_dict(Fixed, {"pair": [1, 2]})
