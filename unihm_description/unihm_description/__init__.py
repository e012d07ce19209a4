"""Hand and arm models: one folder per hand (`hands/<name>/{<name>.urdf, hand.yaml}`), arms alike.

This package is data. `description_roots()` says where the data lives: the source tree (editable
and pip installs), the ament share directory (colcon installs), and any extra folders listed in
the `UNIHM_DESCRIPTION_PATH` environment variable (colon-separated; each holds `hands/` and/or
`arms/`), which is how a user adds a hand without touching this package.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = "unihm_description"


def _share_dir() -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE))
    except Exception:  # not installed through ament, or ament_index missing
        return None


def description_roots() -> list[Path]:
    """Folders holding `hands/` and `arms/`, highest precedence first."""
    roots: list[Path] = []
    for extra in os.environ.get("UNIHM_DESCRIPTION_PATH", "").split(os.pathsep):
        if extra:
            roots.append(Path(extra).expanduser().resolve())
    source = Path(__file__).resolve().parent.parent
    if (source / "hands").is_dir():
        roots.append(source)
    share = _share_dir()
    if share is not None and (share / "hands").is_dir() and share.resolve() not in roots:
        roots.append(share.resolve())
    return roots


def hands_dirs() -> list[Path]:
    return [r / "hands" for r in description_roots() if (r / "hands").is_dir()]


def arms_dirs() -> list[Path]:
    return [r / "arms" for r in description_roots() if (r / "arms").is_dir()]
