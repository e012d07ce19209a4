"""Language annotation: templated instructions (5 per sequence, paper §3.1) and a pluggable VLM annotator.

`template_instructions` needs no network. `OpenAICompatibleAnnotator` sends keyframes (first, last and the
three frames before first contact) to an OpenAI-compatible chat endpoint; it is off unless configured.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from unihm_common.errors import ConfigError, InputError

_VERBS = {
    "grab": ["pick up", "grab", "lift", "take hold of and raise", "grasp and lift"],
    "pick_place": ["move", "place", "put", "transfer", "relocate"],
    "push": ["push", "slide", "shove", "nudge", "push along the table"],
    "pull": ["pull", "drag", "draw", "pull back", "slide towards you"],
    "open": ["open", "pull open", "open up", "swing open", "slide open"],
    "close": ["close", "push shut", "shut", "close up", "slide closed"],
    "handover": ["hand over", "pass", "give", "hand", "pass over"],
}
_TEMPLATES = [
    "{Verb} the {obj}{goal}.",
    "Please {verb} the {obj}{goal}.",
    "Can you {verb} the {obj}{goal}?",
    "{Verb} the {obj} with your {side} hand{goal}.",
    "I need you to {verb} the {obj}{goal}.",
    "Use one hand to {verb} the {obj}{goal}.",
    "Grasp the {obj} and {verb} it{goal}.",
    "Reach for the {obj} and {verb} it{goal}.",
]


def describe_goal(task: str, T_start: np.ndarray, T_end: np.ndarray) -> str:
    """A short goal phrase from the object's displacement (world: x away from the person, y to the left)."""
    dx, dy, dz = (np.asarray(T_end)[:3, 3] - np.asarray(T_start)[:3, 3])
    if task == "grab":
        return "up" if dz > 0.02 else ""
    if task in ("open", "close"):
        return ""
    if task == "handover":
        return "to the person on your " + ("left" if dy > 0 else "right")
    words = []
    if abs(dx) > 0.05:
        words.append("farther away" if dx > 0 else "closer to you")
    if abs(dy) > 0.05:
        words.append("to the left" if dy > 0 else "to the right")
    return " and ".join(words)


def _goal_suffix(task: str, goal: str) -> str:
    if not goal:
        return ""
    return f" {goal}" if task in ("grab", "handover") else f" {goal}"


def object_phrases(attrs: dict[str, Any]) -> list[str]:
    name = str(attrs.get("name", "object")).replace("_", " ")
    colour, size = attrs.get("colour"), attrs.get("size")
    out = [name]
    if colour:
        out.append(f"{colour} {name}")
    if size:
        out.append(f"{size} {name}")
    if colour and size:
        out.append(f"{size} {colour} {name}")
    return out


def template_instructions(task: str, attrs: dict[str, Any], goal: str, rng: np.random.Generator,
                          n: int = 5, side: str = "right") -> list[str]:
    """n distinct instructions from task verbs, object name/colour/size and the goal phrase."""
    if task not in _VERBS:
        raise InputError(f"unknown task {task!r}; known: {', '.join(_VERBS)}")
    objs = object_phrases(attrs)
    seen: list[str] = []
    for _ in range(200):
        verb = _VERBS[task][int(rng.integers(len(_VERBS[task])))]
        text = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(
            verb=verb, Verb=verb[0].upper() + verb[1:], obj=objs[int(rng.integers(len(objs)))],
            goal=_goal_suffix(task, goal), side=side)
        if text not in seen:
            seen.append(text)
        if len(seen) == n:
            break
    return seen


def keyframe_indices(contact: np.ndarray) -> list[int]:
    """Paper §3.1 keyframes: first, last and the three frames preceding the first contact."""
    contact = np.asarray(contact)
    T = len(contact)
    hits = np.flatnonzero(contact.any(axis=1)) if contact.ndim == 2 else np.flatnonzero(contact)
    first = int(hits[0]) if len(hits) else T - 1
    before = [max(0, first - k) for k in (3, 2, 1)]
    return sorted(set([0, *before, T - 1]))


class Annotator(Protocol):
    """Returns n instructions for a sequence from its keyframes (PNG bytes) and a text context."""

    def annotate(self, keyframes_png: list[bytes], context: str, n: int = 5) -> list[str]: ...


@dataclass(frozen=True)
class VLMConfig:
    """An OpenAI-compatible chat-completions endpoint. Off unless `enabled`."""

    enabled: bool = False
    base_url: str = "http://127.0.0.1:8000/v1"  # the endpoint root; /chat/completions is appended
    model: str = "gpt-4o"
    api_key_env: str = "OPENAI_API_KEY"  # environment variable holding the key (never stored in configs)
    timeout_s: float = 60.0


class OpenAICompatibleAnnotator:
    """Annotator for an OpenAI-compatible vision-language endpoint (stdlib HTTP, no SDK needed)."""

    def __init__(self, cfg: VLMConfig) -> None:
        if not cfg.enabled:
            raise ConfigError("VLM annotation is off: set enabled: true in the annotator config to use it")
        self.cfg = cfg

    def request_body(self, keyframes_png: list[bytes], context: str, n: int) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": (
            f"These are keyframes of a hand manipulating an object ({context}): the first frame, the three "
            f"frames before first contact and the last frame. Return a JSON list of {n} distinct, short "
            "natural-language instructions a person could give to make a robot hand do this.")}]
        for png in keyframes_png:
            b64 = base64.b64encode(png).decode()
            content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}})
        return {"model": self.cfg.model, "messages": [{"role": "user", "content": content}], "temperature": 0.7}

    def annotate(self, keyframes_png: list[bytes], context: str, n: int = 5) -> list[str]:
        import os
        import urllib.request

        body = json.dumps(self.request_body(keyframes_png, context, n)).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.cfg.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.cfg.base_url.rstrip("/") + "/chat/completions", data=body, headers=headers)
        with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
            reply = json.loads(resp.read())
        return parse_instructions(reply["choices"][0]["message"]["content"], n)


def parse_instructions(text: str, n: int) -> list[str]:
    """Parse a model reply: a JSON list, or one instruction per line."""
    text = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError
    except ValueError:
        items = [line.lstrip("-*0123456789. ").strip() for line in text.splitlines()]
    items = [str(i).strip() for i in items if str(i).strip()]
    if len(items) < n:
        raise InputError(f"annotator returned {len(items)} instructions, expected {n}: {text[:200]!r}")
    return items[:n]
