"""The static HTML viewer: data embedded, page parses, the script runs (under node when available)."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from importlib.resources import files

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_common.viewer import viewer_data, write_viewer


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags, self.scripts, self._in = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in = tag == "script"
        if self._in:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.scripts[-1] += data


def scene(T=12, K=5):
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(50, 3)) * 0.02
    path = np.tile(np.eye(4), (8, 1, 1))
    path[:, 0, 3] = np.linspace(0, 0.4, 8)
    hand = rng.normal(size=(T, K, 3)) * 0.05
    return cloud, path, hand


def embedded(page: str) -> dict:
    p = Collect()
    p.feed(page)
    data_script = next(s for s in p.scripts if "UNIHM_DATA" in s)
    return json.loads(data_script.split("=", 1)[1].strip().rstrip(";")), p


def test_page_contains_the_data_and_parses(tmp_path):
    cloud, path, hand = scene()
    out = write_viewer(tmp_path / "v.html", cloud, np.ones_like(cloud) * 0.5, path,
                       {"inspire_right": (hand, [(0, 1), (1, 2)])}, fps=20, title="t <x>", metrics={"ok": 1})
    page = out.read_text()
    data, p = embedded(page)
    assert {"canvas", "script", "input", "button"} <= set(p.tags) and len(p.scripts) == 2
    assert "t &lt;x&gt;" in page and "http" not in page.split("<script>", 1)[1]  # nothing fetched at run time
    assert np.allclose(data["cloud"]["points"], np.round(cloud, 4)) and data["cloud"]["colors"][0] == [128] * 3
    assert np.allclose(data["path"][-1]["xyz"], path[-1, :3, 3]) and data["frames"] == 12 and data["fps"] == 20
    assert np.allclose(data["hands"][0]["points"], np.round(hand, 4)) and data["hands"][0]["links"] == [[0, 1], [1, 2]]
    rel = np.reshape(data["path"][3]["rel"], (4, 4))  # moves the start cloud to pose 3
    assert np.allclose(rel @ path[0], path[3], atol=1e-4)


def test_script_breaking_text_is_escaped_and_big_clouds_subsampled(tmp_path):
    cloud = np.random.default_rng(1).normal(size=(9000, 3))
    out = write_viewer(tmp_path / "v.html", cloud, title="</script>", metrics={"note": "</script><b>"})
    page = out.read_text()
    data, p = embedded(page)
    assert len(data["cloud"]["points"]) == 4000 and page.count("</script>") == 2


def test_bad_shapes_are_input_errors():
    cloud, path, hand = scene()
    with pytest.raises(InputError, match="target_path"):
        viewer_data(cloud, target_path=path[:, :3])
    with pytest.raises(InputError, match="colors"):
        viewer_data(cloud, cloud_colors=cloud[:3])
    with pytest.raises(InputError, match="link indices"):
        viewer_data(hand_frames={"h": (hand, [(0, 9)])})
    with pytest.raises(InputError, match=r"\(T, K, 3\)"):
        viewer_data(hand_frames={"h": (hand[0], [])})


def test_the_js_is_small_and_plain():
    js = files("unihm_common.viewer").joinpath("viewer.js").read_text()
    assert len(js) < 8000 and "import " not in js and "require(" not in js and "http" not in js


STUB = """
const calls = {lineTo: 0, fillRect: 0};
const ctx = new Proxy({}, {get: (t, k) => (k in calls) ? () => { calls[k]++; } : () => {}, set: () => true});
const el = () => ({addEventListener: () => {}, getContext: () => ctx, width: 800, height: 600, value: 0, max: 0});
const els = {view: el(), scrub: el(), play: el(), frame: el()};
global.document = {getElementById: id => els[id]};
global.window = {addEventListener: () => {}, UNIHM_DATA: @DATA@};
let frames = 0;
global.requestAnimationFrame = f => { if (frames++ < 3) f(frames * 1000); };
@SCRIPT@
console.log(JSON.stringify({calls, label: els.frame.textContent, max: els.scrub.max}));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_the_script_draws_everything_under_node(tmp_path):
    cloud, path, hand = scene()
    data = viewer_data(cloud, None, path, {"h": (hand, [(0, 1), (1, 2), (2, 3)])}, fps=10)
    js = files("unihm_common.viewer").joinpath("viewer.js").read_text()
    src = tmp_path / "run.js"
    src.write_text(STUB.replace("@DATA@", json.dumps(data)).replace("@SCRIPT@", js))
    res = subprocess.run(["node", str(src)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    # per drawn frame: 50 cloud points + background; 7 path segments + 3 axes + 3 hand links
    assert out["calls"]["fillRect"] % 51 == 0 and out["calls"]["fillRect"] >= 51
    assert out["calls"]["lineTo"] == 13 * out["calls"]["fillRect"] // 51
    assert out["label"].startswith("frame ") and "/ 12" in out["label"] and out["max"] == 11
