"""The refiner options the operator graph runs for a hand (launch/config), for offline users of the refiner."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def graph_refiner_options(hand: str) -> Any:
    """The `RefinerOptions` of `hand`'s graph (launch/config: default.yaml, then <hand>.yaml, `/**/refiner` ->
    `options`), so offline refinement (evaluation, dataset refinement) matches the deployed refiner."""
    import yaml

    from unihm_common.config import from_dict
    from unihm_common.launch_graph import graph_params_files
    from unihm_refiner.refiner import RefinerOptions

    options: dict[str, Any] = {}
    for path in graph_params_files(hand):
        doc = yaml.safe_load(Path(path).read_text()) or {}
        options.update(((doc.get("/**/refiner") or {}).get("ros__parameters") or {}).get("options") or {})
    return from_dict(RefinerOptions, options, source="launch/config refiner options")
