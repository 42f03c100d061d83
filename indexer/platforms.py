"""Raw platform items (4CAT's stored NDJSON, Zeeschuimer exports) mapped to the columns 4CAT's
CSV has for them, so a post reads the same whichever file it came from.

Each mapper follows the data source's `map_item` in 4CAT (see docs/formats.md): TikTok
`datasources/tiktok/search_tiktok.py`, Instagram `datasources/instagram/search_instagram.py`
(item list, Polaris and Graph items), Telegram `datasources/telegram/search_telegram.py`. Only
the columns picsift shows or exports are mapped; fields the item lacks are named in
`missing_fields`, as 4CAT does.
"""

from __future__ import annotations

import re
from typing import Any

# Instagram hashtags as 4CAT finds them in the caption: `#` and a run of characters that are
# neither white space nor one of the punctuation marks that end a tag (U+02C6 is a modifier
# circumflex, U+2018/2019 curly quotes).
_TAG_END = r"\s!@#$%\u02c6&*()_+{}:\"|<>?\[\];'\,./`~'\u2018\u2019"
INSTAGRAM_HASHTAG = re.compile(rf"#([^{_TAG_END}]+)")
_INSTAGRAM_PHOTO, _INSTAGRAM_VIDEO, _INSTAGRAM_CAROUSEL = 1, 2, 8
_AD_LINK = "https://www.facebook.com/ads/ig_redirect"


class Unmapped(ValueError):
    """An item 4CAT leaves out of its CSV (an ad); the message says why."""


def platform_of(item: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """`tiktok`, `instagram`, `telegram` or None, from Zeeschuimer's `source_platform` or the
    item's own shape."""
    source = str(meta.get("source_platform", ""))
    if source == "tiktok.com" or ("createTime" in item and "desc" in item):
        return "tiktok"
    graph = "shortcode" in item and str(item.get("__typename", "")).startswith("Graph")
    if source == "instagram.com" or graph or ("code" in item and "user" in item):
        return "instagram"
    if ("_chat" in item or "_chat_peer" in item) and "date" in item:
        return "telegram"
    return None


def raw_id(platform: str, item: dict[str, Any]) -> Any:
    """The field 4CAT makes the post id of (before Telegram's `<chat>-` prefix)."""
    if platform == "instagram":
        return item.get("code") or item.get("shortcode")
    return item.get("id")


def map_raw(platform: str, item: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """The CSV columns of a raw item, `missing_fields` included.

    Raises:
        Unmapped: 4CAT leaves this item out (an Instagram ad).
        KeyError, TypeError, ValueError, AttributeError: the item lacks what its platform
            always has; the caller names the line.
    """
    mapped = {"tiktok": _tiktok, "instagram": _instagram, "telegram": _telegram}[platform](item)
    missing = [key for key, value in mapped.items() if value is _MISSING]
    mapped = {key: ("" if value is _MISSING else value) for key, value in mapped.items()}
    source = meta.get("source_platform_url")
    if platform != "telegram":
        mapped = {"collected_from_url": source or ""} | mapped
    mapped["missing_fields"] = ", ".join(missing)
    return mapped


_MISSING = object()  # a field the item does not have: written empty, named in missing_fields


def _tiktok(post: dict[str, Any]) -> dict[str, Any]:
    author = post.get("author")
    if isinstance(author, dict):
        username, full_name = author.get("uniqueId", ""), author.get("nickname", "")
        avatar = author.get("avatarThumb", "")
    else:
        username, full_name, avatar = author or "", post.get("nickname", "") if author else "", ""
    video, music, stats, author_stats = (
        post.get(key) or {} for key in ("video", "music", "stats", "authorStats")
    )
    created = post.get("createTime", _MISSING)
    return {
        "id": str(post["id"]),
        "thread_id": str(post["id"]),
        "author": username,
        "author_full": full_name,
        "author_followers": author_stats.get("followerCount", ""),
        "author_avatar": avatar,
        "body": post.get("desc", _MISSING),
        "timestamp": created,
        "unix_timestamp": created,
        "music_name": music.get("title", ""),
        "music_id": music.get("id", ""),
        "music_thumbnail": music.get("coverLarge", ""),
        "music_author": music.get("authorName", ""),
        "video_url": video.get("downloadAddr", ""),
        "tiktok_url": f"https://www.tiktok.com/@{username}/video/{post['id']}",
        "thumbnail_url": video.get("cover", ""),
        "likes": stats.get("diggCount", _MISSING),
        "comments": stats.get("commentCount", _MISSING),
        "shares": stats.get("shareCount", _MISSING),
        "plays": stats.get("playCount", _MISSING),
        "hashtags": ",".join(
            tag["hashtagName"] for tag in post.get("textExtra") or [] if tag.get("hashtagName")
        ),
        "challenges": ",".join(c["title"] for c in post.get("challenges") or []),
        "location_created": post.get("locationCreated", ""),
    }


def _instagram(node: dict[str, Any]) -> dict[str, Any]:
    if node.get("product_type") == "ad" or str(node.get("link") or "").startswith(_AD_LINK):
        raise Unmapped("an Instagram ad, which 4CAT leaves out")
    kind = str(node.get("__typename", ""))
    if "polaris" in kind.lower():
        return _instagram_polaris(node)
    if kind and kind != "XDTMediaDict":
        return _instagram_graph(node)
    return _instagram_itemlist(node)


def _instagram_author(node: dict[str, Any]) -> dict[str, Any]:
    user, owner = node.get("user") or {}, node.get("owner") or {}

    def field(key: str) -> Any:
        return user.get(key, owner.get(key, _MISSING))

    return {
        "author_id": field("id"),
        "author": field("username"),
        "author_fullname": field("full_name"),
    }


def _caption(node: dict[str, Any]) -> Any:
    if "caption" not in node:
        return _MISSING
    return node["caption"]["text"] if node.get("caption") else ""


def _instagram_common(code: str, caption: Any, node: dict[str, Any]) -> dict[str, Any]:
    return {
        "collected_from_view": node.get("_zs_instagram_view", ""),
        "partial_item": node.get("_zs_partial", ""),
        "id": code,
        "thread_id": code,
        "url": f"https://www.instagram.com/p/{code}",
        "body": caption,
        **_instagram_author(node),
        "hashtags": "" if caption is _MISSING else ",".join(INSTAGRAM_HASHTAG.findall(caption)),
    }


def _instagram_itemlist(node: dict[str, Any]) -> dict[str, Any]:
    caption = _caption(node)
    partial = bool(node.get("_zs_partial"))
    carousel = node.get("media_type") == _INSTAGRAM_CAROUSEL
    media = node.get("carousel_media") or [] if carousel else [node]
    images = []
    for entry in media:
        candidates = (entry.get("image_versions2") or {}).get("candidates") or []
        if candidates:
            images.append(candidates[0]["url"])
        elif entry.get("video_versions"):
            images.append(entry["video_versions"][0]["url"])
    taken = _MISSING if partial else node.get("taken_at", _MISSING)
    return {
        **_instagram_common(node["code"], caption, node),
        "timestamp": taken,
        "media_type": _instagram_media_type(media),
        "num_media": len(media),
        "image_urls": ",".join(images),
        "num_likes": node.get("like_count", _MISSING),
        "likes_hidden": "yes" if node.get("like_and_view_counts_disabled") else "no",
        "num_comments": node.get("comment_count", -1),
        "unix_timestamp": taken,
    }


def _instagram_media_type(media: list[dict[str, Any]]) -> str:
    names = {_INSTAGRAM_PHOTO: "photo", _INSTAGRAM_VIDEO: "video"}
    kinds = {names.get(entry.get("media_type"), "unknown") for entry in media}
    return "mixed" if len(kinds) > 1 else next(iter(kinds), "unknown")


def _instagram_polaris(node: dict[str, Any]) -> dict[str, Any]:
    # Polaris items (4CAT's standard Instagram format since 2026-02) carry no time at all:
    # 4CAT writes 0 and names the field missing.
    kinds = {"XIGPolarisPhotoMedia": "photo", "XIGPolarisVideoMedia": "video"}
    return {
        **_instagram_common(node["code"], _caption(node), node),
        "timestamp": _MISSING,
        "media_type": kinds.get(node["__typename"], "unknown"),
        "image_urls": node.get("display_uri") or _MISSING,
        "play_count": node.get("play_count", _MISSING),
        "unix_timestamp": _MISSING,
    }


def _instagram_graph(node: dict[str, Any]) -> dict[str, Any]:
    edges = (node.get("edge_media_to_caption") or {}).get("edges") or []
    caption = edges[0]["node"]["text"] if edges else _MISSING
    taken = node.get("taken_at_timestamp", _MISSING)
    return {
        **_instagram_common(node["shortcode"], caption, node),
        "timestamp": taken,
        "image_urls": node.get("display_url", _MISSING),
        "num_likes": (node.get("edge_media_preview_like") or {}).get("count", _MISSING),
        "unix_timestamp": taken,
    }


def _telegram(message: dict[str, Any]) -> dict[str, Any]:
    thread = _telegram_thread(message)
    sender = message.get("_sender") or {}
    full_name = " ".join(
        str(sender[key]) for key in ("first_name", "last_name") if sender.get(key)
    ).strip()
    media = message.get("media") or {}
    attachment = _telegram_attachment(media, thread, message["id"])
    date, edited = message.get("date", _MISSING), message.get("edit_date")
    return {
        "id": f"{thread}-{message['id']}",
        "thread_id": thread,
        "chat": thread,
        "author": sender.get("id", ""),
        "author_username": sender.get("username") or "",
        "author_name": full_name,
        "body": message.get("message") or "",
        "views": message.get("views") or "",
        "timestamp": date,
        "unix_timestamp": date,
        "unix_timestamp_edited": edited or "",
        "reply_to": (message.get("reply_to") or {}).get("reply_to_msg_id", ""),
        "link_attached": (media.get("webpage") or {}).get("url") or "",
        **attachment,
    }


def _telegram_thread(message: dict[str, Any]) -> str:
    chat, peer = message.get("_chat"), message.get("_chat_peer")
    if chat:
        thread = chat.get("username") or chat.get("id")
        if not thread and "title" in chat:
            thread = re.sub(r"\s", "", chat["title"])
    elif peer:
        chats = peer.get("chats")
        channel = peer.get("channel_id")
        thread = chats[0].get("username", channel) if chats else channel
    else:
        thread = "unknown"
    return str(thread)


def _telegram_attachment(media: dict[str, Any], thread: str, message_id: Any) -> dict[str, str]:
    """`attachment_type` and `attachment_filename` as 4CAT names them: the image downloader
    saves a photo as `<chat>-<message id>.jpeg`."""
    kind = {
        "MessageMediaPhoto": "photo",
        "MessageMediaDocument": "document",
        "MessageMediaWebPage": "url",
        "MessageMediaContact": "contact",
        "MessageMediaPoll": "poll",
        "MessageMediaGeo": "geo",
    }.get(str(media.get("_type")), "")
    filename = ""
    if kind == "photo" or (kind == "url" and (media.get("webpage") or {}).get("photo")):
        filename = f"{thread}-{message_id}.jpeg"
    elif kind == "document":
        document = media.get("document") or {}
        kind = str(document.get("mime_type", "")).split("/")[0]
        named = [
            a.get("file_name")
            for a in document.get("attributes") or []
            if isinstance(a, dict) and a.get("_type") == "DocumentAttributeFilename"
        ]
        extension = str(document.get("mime_type", "")).split("/")[-1] or "bin"
        filename = named[0] if named and named[0] else f"{thread}-{message_id}.{extension}"
    return {"attachment_type": kind, "attachment_filename": filename}
