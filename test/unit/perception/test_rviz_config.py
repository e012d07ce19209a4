"""launch/unihm.rviz is valid RViz2 YAML and shows exactly the topics listed in unihm_perception.topics."""

from pathlib import Path

import yaml

from unihm_perception import topics

RVIZ = Path(__file__).resolve().parents[3] / "launch" / "unihm.rviz"


def topic_settings(node, found=None):
    """Every {'Value': '/name', 'Durability Policy': ...} under a key ending in 'Topic', anywhere in the tree."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).endswith("Topic") and isinstance(value, dict) and "Value" in value:
                found.append(value)
            else:
                topic_settings(value, found)
    elif isinstance(node, list):
        for item in node:
            topic_settings(item, found)
    return found


def test_rviz_file_is_an_rviz2_config():
    cfg = yaml.safe_load(RVIZ.read_text())
    vm = cfg["Visualization Manager"]
    assert vm["Global Options"]["Fixed Frame"] == "world"
    classes = [d["Class"] for d in vm["Displays"]] + [t["Class"] for t in vm["Tools"]]
    assert all(c.startswith("rviz_default_plugins/") for c in classes), classes
    for needed in ("Image", "PointCloud2", "Path", "MarkerArray", "RobotModel"):
        assert f"rviz_default_plugins/{needed}" in classes
    assert "rviz_default_plugins/SetGoal" in classes
    assert {p["Class"] for p in cfg["Panels"]} >= {"rviz_common/Displays", "rviz_common/Views"}


def test_every_rviz_topic_is_in_the_graph_list_and_back():
    settings = topic_settings(yaml.safe_load(RVIZ.read_text()))
    names = [s["Value"] for s in settings]
    assert all(n.startswith("/") for n in names), "RViz topics are absolute (empty namespace)"
    unknown = sorted({n.lstrip("/") for n in names} - set(topics.RVIZ_TOPICS))
    assert not unknown, f"RViz names topics nobody publishes: {unknown}"
    unshown = sorted(set(topics.RVIZ_TOPICS) - {n.lstrip("/") for n in names})
    assert not unshown, f"listed for RViz but not in unihm.rviz: {unshown}"
    for s in settings:  # latched topics must be read as Transient Local, or RViz misses the last message
        latched = s["Value"].lstrip("/") in topics.LATCHED_TOPICS
        assert (s["Durability Policy"] == "Transient Local") == latched, s["Value"]


def test_checker_catches_a_stray_topic():
    doc = {"Displays": [{"Topic": {"Value": "/not_a_topic", "Durability Policy": "Volatile"}}]}
    assert [s["Value"] for s in topic_settings(doc)] == ["/not_a_topic"]
