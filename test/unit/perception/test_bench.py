from unihm_perception.bench import run_benchmark


def test_bench_reports_the_issue_keys():
    out = run_benchmark(["--scenes", "2", "--node-scenes", "0"])  # nodes: test/ros/test_perception_nodes.py
    for key in ("segment_iou", "completion_chamfer_gain", "place_success_rate", "latency_ms", "stage_latency_ms"):
        assert key in out
    assert out["segment_iou"] >= 0.8
    assert out["perception_errors"] == 0
    assert out["latency_ms"] == out["core_latency_ms"] and out["node_latency_ms"] is None
