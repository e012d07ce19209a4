"""Shape completion: `classical` (mirror symmetry / primitive fit, no weights) and `snowflake` (learned)."""

from unihm_perception.completion.base import (
    CompletedCloud,
    Completer,
    chamfer_distance,
    completer_backends,
    make_completer,
)

__all__ = ["CompletedCloud", "Completer", "chamfer_distance", "completer_backends", "make_completer"]
