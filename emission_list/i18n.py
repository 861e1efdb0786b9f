"""Texts meant for people, held in Simplified Chinese and English."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

Text = Mapping[str, str]


def text(zh: str, en: str) -> dict[str, str]:
    """Build a bilingual text."""
    return {"zh-CN": zh, "en": en}


def pick(value: Text, language: str = DEFAULT_LANGUAGE) -> str:
    """The text in ``language`` (``zh-CN`` or ``en``; ``zh*`` means Chinese), else Chinese."""
    lang = "zh-CN" if language.lower().startswith("zh") else language.lower()[:2]
    return value.get(lang) or value.get(DEFAULT_LANGUAGE) or next(iter(value.values()))


def is_bilingual(value: object) -> bool:
    """True when ``value`` holds a non-empty text in every supported language."""
    return isinstance(value, Mapping) and all(
        isinstance(value.get(lang), str) and value.get(lang) for lang in LANGUAGES
    )
