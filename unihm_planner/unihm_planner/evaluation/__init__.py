"""Evaluation harness of the policy (paper App. F): metrics, motion encoder, baselines, ablations, `unihm eval`."""
