"""Reading what a model replied, before any feature checks it.

Why apart from the client: the offline role-play imports this without loading the
openai package.
"""

from __future__ import annotations


def strip_code_fence(text: str) -> str:
    """A JSON reply without the Markdown fence small models put around it (```json … ```)."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()
