"""Keep a model's `[n]` citation markers honest, even while the text streams.

Why: a model may cite material it was never given ("[9]" with 3 chunks), write
"[1, 3]" or "【2】", label the number as small models do ("[编号1]", "[资料1]",
"(1)" after a sentence), or cite chunks out of order. Readers need markers that point
at real sources, numbered 1..m in order of first use, and the streamed text must
already be the final text — so rewriting happens incrementally, holding back
only an unfinished "[…" at the end of a delta.
"""

from __future__ import annotations

import re

# Small models label the number ("[编号1]", "【资料 2】") or use round brackets after a sentence ("……即可(1)").
_LABEL = r"(?:编号|资料|材料|来源|出处|参考|文档|片段|source|ref)?\s*"
CITATION_MARKER = re.compile(
    rf"[\[【]\s*{_LABEL}(\d{{1,3}}(?:\s*[,，、]\s*{_LABEL}\d{{1,3}})*)\s*[\]】]"
    # Round brackets only right after text (not a list's "(1)" at the start of a line), before punctuation or the end.
    rf"|(?<=[^\s\d(（])[(（]{_LABEL}(\d{{1,2}})[)）](?=[。；;，,！!？?\s]|$)",
    re.IGNORECASE,
)
_OPEN = re.compile(r"[\[【(（][\s\d,，、编号资料材来源出处参考文档片段a-z]*$", re.IGNORECASE)
MAX_PENDING = 24  # an open bracket longer than this is not a marker


def strip_markers(text: str) -> str:
    """Text without any `[n]` / `【n】` markers."""
    return CITATION_MARKER.sub("", text)


class MarkerRewriter:
    """Rewrite markers against `valid` materials (numbered 1..valid) as text arrives.

    `feed(delta)` returns the text that is safe to show now; `flush()` returns the
    rest at the end. `used` lists the original material numbers in citation order
    (new number n ↔ `used[n-1]`).
    """

    def __init__(self, valid: int) -> None:
        self.valid = valid
        self.used: list[int] = []
        self.dropped = 0
        self._pending = ""
        self._last = ""

    def _replace(self, match: re.Match[str]) -> str:
        out: list[str] = []
        numbers = match.group(1) or match.group(2)
        for raw in re.findall(r"\d{1,3}", numbers):
            number = int(raw)
            if not 1 <= number <= self.valid:
                self.dropped += 1
                continue
            if number not in self.used:
                self.used.append(number)
            new = f"[{self.used.index(number) + 1}]"
            if new not in out:
                out.append(new)
        return "".join(out)

    def rewrite(self, text: str) -> str:
        return CITATION_MARKER.sub(self._replace, text)

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        self._pending = ""
        tail = _OPEN.search(text)
        if tail and len(text) - tail.start() <= MAX_PENDING:
            # A round bracket is a marker only after text: keep the character before it with it.
            self._pending = text[tail.start() :]
            text = text[: tail.start()]
        return self._emit(text)

    def _emit(self, text: str) -> str:
        """Rewrite `text`, seeing the character shown before it (a round-bracket marker needs text before it)."""
        out = self.rewrite(self._last + text)[len(self._last) :]
        if text:
            self._last = text[-1]
        return out

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._emit(text)


def rewrite_markers(text: str, valid: int) -> tuple[str, list[int]]:
    """Whole-text version: (rewritten text, original material numbers in citation order)."""
    rewriter = MarkerRewriter(valid)
    return rewriter.rewrite(text), rewriter.used
