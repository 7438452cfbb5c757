"""The Help Center's questions and answers, and the server-side search over them.

Each answer is a list of blocks: ("p", text) for a paragraph, ("ol"/"ul", [items]) for lists.
Every answer must stay true of what this portal does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faq:
    slug: str
    question: str
    blocks: tuple[tuple[str, object], ...]

    @property
    def text(self) -> str:
        parts = [self.question]
        for _, content in self.blocks:
            parts.extend(content if isinstance(content, list) else [str(content)])
        return " ".join(parts)


@dataclass(frozen=True)
class Section:
    title: str
    faqs: list[Faq] = field(default_factory=list)


SECTIONS: list[Section] = [
    Section(
        "Logging in and enrolling",
        [
            Faq(
                "enroll",
                "How do I enroll for online access?",
                (("p", "Select Enroll Now at the top of any page. Enrollment has four steps."),),
            ),
        ],
    ),
]

_WORD = re.compile(r"\w+")


def search_faq(query: str) -> list[Section]:
    """Sections whose questions or answers contain every word of the query (any case)."""
    words = [w.casefold() for w in _WORD.findall(query)]
    if not words:
        return SECTIONS
    results = []
    for section in SECTIONS:
        hits = [f for f in section.faqs if all(w in f.text.casefold() for w in words)]
        if hits:
            results.append(Section(section.title, hits))
    return results
