"""The verdict every meaning check returns, and the token key they compare by."""

from __future__ import annotations

from dataclasses import dataclass

from medstation.llm.polarity import Token


@dataclass(frozen=True)
class Verdict:
    """``ok``: the claim is stated by the evidence; else ``reason`` (one sentence) and the claim ``words`` at fault."""

    ok: bool
    reason: str = ""
    words: tuple[str, ...] = ()


OK = Verdict(True)


def key(t: Token) -> str:
    return t.role or t.stem
