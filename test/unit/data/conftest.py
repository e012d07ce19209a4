"""A tiny synthetic dataset shared by the data tests (generated once per session)."""

import pytest


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    from unihm_data.retarget import retarget_dataset
    from unihm_data.synth import SynthConfig, synthesize

    root = tmp_path_factory.mktemp("hoi")
    cfg = SynthConfig(objects=("mug", "tennis_ball", "sugar_box", "master_chef_can", "drawer"),
                      tasks=("grab", "pick_place", "open"), test_fraction=0.2)
    synthesize(root, 4, seed=3, workers=1, cfg=cfg, progress=False)
    retarget_dataset(root, ["allegro_right", "xhand_left"], progress=False)
    return root
