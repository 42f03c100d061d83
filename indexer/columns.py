"""Which column of a 4CAT table is a post's id, author, text, URL, hashtags and time.

One set of rules for every table shape that has 4CAT's columns: a CSV row ("Download CSV",
Zeeschuimer's CSV), a line of 4CAT's API stream (`/api/dataset/KEY/items/?stream=true`), and a
raw item mapped by `indexer.platforms`. So a post reads the same whichever file it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from indexer.tables_common import Draft, split_hashtags

ID_COLUMNS = ("id", "post_id", "item_id")
_AUTHOR_COLUMNS = ("author", "username", "user")
# Telegram's `author` is the sender's numeric id; its name columns say who that is.
_TELEGRAM_AUTHOR_COLUMNS = ("author_username", "author_name", "author")
_BODY_COLUMNS = ("body", "text", "message", "caption", "description")
_URL_COLUMNS = ("tiktok_url", "url", "permalink", "post_url", "link")
# `unix_timestamp` first: 4CAT writes Instagram's and Telegram's `timestamp` in its server's
# local time, `unix_timestamp` is the moment itself.
_TIME_COLUMNS = ("unix_timestamp", "timestamp", "date", "created_at", "taken_at")
_HASHTAG_COLUMN = "hashtags"
MISSING_COLUMN = "missing_fields"  # 4CAT's list of the fields the platform did not give


class Roles:
    """The columns of one header that feed the `Post` fields; every other column is kept in
    `extra` as it is."""

    def __init__(self, names: Iterable[str]) -> None:
        """Pick the columns by name, whatever their case; the first of each name counts."""
        self.names = list(names)
        index: dict[str, str] = {}
        for name in self.names:
            index.setdefault(name.lower(), name)

        def pick(candidates: tuple[str, ...]) -> list[str]:
            return [index[c] for c in candidates if c in index]

        ids = pick(ID_COLUMNS)
        self.id = ids[0] if ids else None
        self.telegram = "author_username" in index and "chat" in index
        authors = _TELEGRAM_AUTHOR_COLUMNS if self.telegram else _AUTHOR_COLUMNS
        self.authors = pick(authors) if self.telegram else pick(authors)[:1]
        self.body = pick(_BODY_COLUMNS)[:1]
        self.urls = pick(_URL_COLUMNS)[:1]
        self.chat = index.get("chat")
        self.hashtags = index.get(_HASHTAG_COLUMN)
        self.times = pick(_TIME_COLUMNS)
        self.missing = index.get(MISSING_COLUMN)
        used = {self.id, *self.authors, *self.body, *self.urls, self.hashtags, *self.times}
        self.extra = [name for name in self.names if name not in used]

    def draft(self, post_id: str, row: Mapping[str, Any]) -> Draft:
        """The post of one row (`row` maps this header's names to values)."""
        missing = {field.strip().lower() for field in _text(row.get(self.missing, "")).split(",")}
        url = _first(row, self.urls)
        if not url and self.telegram:
            url = _telegram_link(_text(row.get(self.chat, "")), post_id)
        return Draft(
            post_id=post_id,
            author=_first(row, self.authors),
            body=_first(row, self.body),
            url=url,
            hashtags=split_hashtags(_text(row.get(self.hashtags, ""))) if self.hashtags else (),
            times=[(name, row.get(name)) for name in self.times if name.lower() not in missing],
            extra={name: row[name] for name in self.extra if name in row},
        )


def _first(row: Mapping[str, Any], names: list[str]) -> str:
    return next((text for name in names if (text := _text(row.get(name, "")))), "")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _telegram_link(chat: str, post_id: str) -> str:
    """`https://t.me/<chat>/<message>` for a public chat (one known by its username); a chat
    known only by its number has no public link."""
    message = post_id.rpartition("-")[2]
    if not chat or chat.lstrip("-").isdigit() or not message.isdigit():
        return ""
    return f"https://t.me/{chat}/{message}"
