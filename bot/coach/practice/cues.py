"""Cue words in a rep's turn, with Chinese negation taken into account.

Why: "我们严禁打到个人账户" and "打到我个人账户也行" share the cue 个人账户 but
mean opposite things. Positive cues (a rep doing the right thing) only need a
negator right before them ("不理解" is not "理解"); risky cues (kickbacks,
pushing, denial) are ignored when their clause is negated anywhere
("返点、购物卡这些我做不了"). Words that merely contain a negator character
(别人, 不错, 没问题…) do not count as negation.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.text.sentences import split_clauses

NEGATOR_CHARS = "不没别禁拒勿未莫无"
# Words that put a whole clause off-limits without a negator character ("返点是违规的").
NEGATOR_WORDS = ("违规", "违反", "违法", "犯法", "红线", "杜绝", "免谈", "碰不得", "要不得")
# Words that contain a negator character without negating anything.
NOT_NEGATION = (
    "不错", "不少", "不过", "不仅", "不管", "不论", "不好意思", "不客气", "不断", "不停", "差不多",
    "没问题", "别人", "别家", "别的", "特别", "区别", "级别", "类别", "分别", "个别", "告别",
    "无论", "无所谓", "未来", "禁得起",
)
NEAR_WINDOW = 3


@dataclass(frozen=True)
class CueHit:
    """A cue found in a rep's turn, with the clause that shows it (evidence to quote back)."""

    cue: str
    clause: str
    turn: int


def _mask_non_negations(text: str) -> str:
    for word in NOT_NEGATION:
        text = text.replace(word, "＿" * len(word))
    return text


def _negated_near(clause: str, start: int) -> bool:
    """A negator within the few characters right before the cue."""
    window = _mask_non_negations(clause)[max(0, start - NEAR_WINDOW) : start]
    return any(ch in window for ch in NEGATOR_CHARS)


def _negated_clause(clause: str, cue: str) -> bool:
    """A negator anywhere in the clause, outside the cue itself."""
    rest = _mask_non_negations(clause.replace(cue, "＿"))
    return any(ch in rest for ch in NEGATOR_CHARS) or any(w in rest for w in NEGATOR_WORDS)


def find_cues(turns: list[str], cues: tuple[str, ...] | list[str], *, risky: bool = False) -> list[CueHit]:
    """Non-negated occurrences of `cues` in `turns`, one hit per (cue, clause).

    `risky=True` uses clause-level negation (for improper/pushy/denial cues),
    otherwise a negator right before the cue cancels it.
    """
    hits: list[CueHit] = []
    for t, turn in enumerate(turns):
        for clause in split_clauses(turn):  # 、 does not cut: a negation covers the whole list
            low = clause.lower()
            for cue in cues:
                c = cue.lower()
                start = low.find(c)
                if start < 0:
                    continue
                if risky:
                    if _negated_clause(low, c):
                        continue
                elif _negated_near(low, start):
                    # try a later occurrence in the same clause
                    later = low.find(c, start + 1)
                    if later < 0 or _negated_near(low, later):
                        continue
                hits.append(CueHit(cue=cue, clause=clause, turn=t))
    return hits


def has_cue(text: str, cues: tuple[str, ...] | list[str], *, risky: bool = False) -> bool:
    return bool(find_cues([text], cues, risky=risky))
