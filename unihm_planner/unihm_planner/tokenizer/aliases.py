"""Hand aliases: use a trained hand's encoder/decoder for a hand with the same joints under other names.

A left-hand variant (e.g. `shadow_left`, `xhand_left`) has the joint semantics of its right twin; its
joint names are equal or differ only by a `left`/`right` token (`left_hand_j3` <-> `right_hand_j3`).
An alias maps the alias's joint order onto the trained twin's order by those canonical names, so
`model.tokenize(x_left, "shadow_left")` runs the `shadow_right` encoder on the permuted columns and
`detokenize(..., "shadow_left")` returns columns in the alias's order. Library aliases (`shadow` ->
`shadow_right`) resolve the same way. Aliases are stored in config.json (no hand library needed to load).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unihm_common.errors import ConfigError

_SIDES = ("left", "right")


def canonical_joint_name(name: str) -> str:
    """Joint name with its `_`-separated side token neutralised: `left_hand_j3`, `right_hand_j3` -> `*_hand_j3`."""
    return "_".join("*" if tok.lower() in _SIDES else tok for tok in name.split("_"))


def joint_permutation(alias_joints: Sequence[str], target_joints: Sequence[str], what: str = "alias") -> list[int]:
    """Index list `idx` with `x_target = x_alias[..., idx]`; raise `ConfigError` unless the names match 1:1."""
    alias_c = [canonical_joint_name(j) for j in alias_joints]
    target_c = [canonical_joint_name(j) for j in target_joints]
    if len(set(alias_c)) != len(alias_c) or sorted(alias_c) != sorted(target_c):
        missing = sorted(set(target_c) - set(alias_c))
        extra = sorted(set(alias_c) - set(target_c))
        raise ConfigError(f"{what}: joint names do not map one-to-one onto the trained hand's (side tokens "
                          f"ignored); missing {missing[:5]}, extra {extra[:5]}")
    pos = {c: i for i, c in enumerate(alias_c)}
    return [pos[c] for c in target_c]


def side_twin(hand: str) -> str | None:
    """`shadow_left` -> `shadow_right` and back; None for names without a side suffix."""
    for a, b in (("_left", "_right"), ("_right", "_left")):
        if hand.endswith(a):
            return hand[: -len(a)] + b
    return None


def library_aliases(trained: Iterable[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Aliases the hand library implies for `trained` hands: {alias: (trained hand, alias joint order)}.

    Side twins of trained hands (`shadow_left` for `shadow_right`) and library alias names
    (`shadow` -> `shadow_right`); each must map one-to-one by joint name (else it is skipped).
    """
    from unihm_common.hands import available_hands, load_hand_spec
    from unihm_common.hands.registry import hand_aliases

    trained = list(trained)
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for hand in available_hands():
        twin = side_twin(hand)
        if hand in trained or twin not in trained:
            continue
        joints = tuple(load_hand_spec(hand).joint_names)
        try:
            joint_permutation(joints, load_hand_spec(twin).joint_names, hand)
        except ConfigError:
            continue
        out[hand] = (twin, joints)
    for alias, canonical in hand_aliases().items():
        target = canonical if canonical in trained else None
        if target is None or alias in trained or alias in out:
            continue
        out[alias] = (target, tuple(load_hand_spec(canonical).joint_names))
    return out
