"""Raw platform items as Zeeschuimer captures them (TikTok, Instagram) and as 4CAT's Telegram
search serialises Telethon messages, with what 4CAT's `map_item` makes of each: the truth the
readers are tested against.

The shapes follow the keys 4CAT's mappers read (datasources/*/search_*.py at 4CAT 227bead1):
TikTok's item-list API, Instagram's item-list ("XDTMediaDict") and Polaris items, Telegram's
serialised `Message` with `_chat` and `_sender`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 2024-01-31 12:00:00 UTC and on
T0 = 1706702400


@dataclass(frozen=True)
class Expected:
    """A post as 4CAT's CSV has it, in picsift's fields (time as unix seconds, None unknown)."""

    post_id: str
    author: str
    ts: int | None
    url: str
    body: str
    hashtags: tuple[str, ...]
    image_urls: tuple[str, ...] = ()  # what 4CAT's image downloader fetches for the post
    extra: dict[str, Any] = field(default_factory=dict)  # a few other columns, as written


def iso(ts: int | None) -> str:
    """picsift's `timestamp` for unix seconds."""
    if ts is None:
        return ""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- TikTok ----------------------------------------------------------------------------------

TIKTOK_IDS = ("7321692663852404001", "7321692663852404002", "7321692663852404003")
SOUND = "https://p16-sign-va.tiktokcdn.com/music-cover/original-sound~c5_720x720.jpeg"


def tiktok_items() -> list[dict[str, Any]]:
    """Three posts: two share a sound (one music cover URL), one has challenges but no
    hashtags in its text, the third's author came as a plain string (embedded JSON)."""
    items = []
    for n, post_id in enumerate(TIKTOK_IDS):
        items.append(
            {
                "id": post_id,
                "desc": ["a cat on a keyboard #cats #fyp", "sleepy dog", "third #news"][n],
                "createTime": T0 + 3600 * n,
                "author": {
                    "id": f"680000000000000000{n}",
                    "uniqueId": ["cats.daily", "dogs.daily", "news.now"][n],
                    "nickname": ["Cats Daily", "Dogs Daily", "News Now"][n],
                    "avatarThumb": f"https://p16-sign.tiktokcdn.com/avatar-{n}~c5_100x100.jpeg",
                },
                "authorStats": {"followerCount": 1200 + n},
                "music": {
                    "id": "7000000000000000001" if n < 2 else "7000000000000000009",
                    "title": "original sound" if n < 2 else "news jingle",
                    "authorName": "Cats",
                    "coverLarge": SOUND if n < 2 else f"{SOUND}?other={n}",
                    "playUrl": "https://sf16-ies-music-va.tiktokcdn.com/obj/sound.mp3",
                },
                "video": {
                    "cover": f"https://p16-sign.tiktokcdn.com/obj/{post_id}~tplv-cover.jpeg",
                    "downloadAddr": f"https://v16-webapp.tiktok.com/video/{post_id}.mp4",
                },
                "stats": {
                    "playCount": 340 * (n + 1),
                    "diggCount": 12 + n,
                    "commentCount": 3,
                    "shareCount": 1,
                },
                "textExtra": [
                    [{"hashtagName": "cats"}, {"hashtagName": ""}, {"hashtagName": "fyp"}],
                    [],
                    [{"hashtagName": "news"}],
                ][n],
                "challenges": [[{"title": "cats"}], [{"title": "dogs"}], []][n],
                "locationCreated": "NL",
            }
        )
    return items


def tiktok_expected() -> list[Expected]:
    """What 4CAT's TikTok CSV says of `tiktok_items()`: `hashtags` from the text only (the
    second post's challenge is no hashtag), `tiktok_url` built from author and id."""
    out = []
    for item in tiktok_items():
        author = item["author"]["uniqueId"]
        out.append(
            Expected(
                post_id=item["id"],
                author=author,
                ts=item["createTime"],
                url=f"https://www.tiktok.com/@{author}/video/{item['id']}",
                body=item["desc"],
                hashtags=tuple(t["hashtagName"] for t in item["textExtra"] if t["hashtagName"]),
                image_urls=(item["video"]["cover"],),
                extra={
                    "plays": str(item["stats"]["playCount"]),
                    "music_name": item["music"]["title"],
                },
            )
        )
    return out


# --- Instagram -------------------------------------------------------------------------------

_IG_USER = {"id": "4433221100", "username": "cat.photos", "full_name": "Cat Photos"}


def _candidates(name: str) -> dict[str, Any]:
    return {"candidates": [{"url": f"https://scontent.cdninstagram.com/v/{name}.jpg?stp=1080"}]}


def instagram_items() -> list[dict[str, Any]]:
    """Item-list posts (a photo, a two-photo carousel, a video), a Polaris post (no time), a
    partial item (no time) and an ad, which 4CAT leaves out. Ids are the numeric
    `<media>_<user>` ids; 4CAT's post id is the shortcode `code`."""
    photo = {
        "id": "3301000000000000001_4433221100",
        "code": "C1aBcDeFgHi",
        "media_type": 1,
        "taken_at": T0,
        "caption": {"text": "sunny #cats, on the #sofa!"},
        "user": _IG_USER,
        "image_versions2": _candidates("photo1"),
        "like_count": 7,
        "comment_count": 2,
    }
    carousel = {
        "id": "3301000000000000002_4433221100",
        "code": "C2bCdEfGhIj",
        "media_type": 8,
        "taken_at": T0 + 60,
        "caption": {"text": "two of them #cats"},
        "user": _IG_USER,
        "carousel_media": [
            {"media_type": 1, "image_versions2": _candidates("carousel-a")},
            {"media_type": 1, "image_versions2": _candidates("carousel-b")},
        ],
        "like_count": 9,
    }
    video = {
        "id": "3301000000000000003_4433221100",
        "code": "C3cDeFgHiJk",
        "media_type": 2,
        "taken_at": T0 + 120,
        "caption": None,
        "user": _IG_USER,
        "image_versions2": _candidates("video-thumb"),
        "video_versions": [{"url": "https://scontent.cdninstagram.com/v/video.mp4"}],
        "like_count": 1,
    }
    polaris = {
        "__typename": "XIGPolarisPhotoMedia",
        "id": "3301000000000000004_4433221100",
        "code": "C4dEfGhIjKl",
        "caption": {"text": "grid view #grid"},
        "user": {"id": "4433221100", "username": "cat.photos"},
        "display_uri": "https://scontent.cdninstagram.com/v/polaris.jpg",
    }
    partial = {
        "id": "3301000000000000005_4433221100",
        "code": "C5eFgHiJkLm",
        "media_type": 1,
        "_zs_partial": True,
        "user": {"id": "4433221100", "username": "cat.photos"},
        "image_versions2": _candidates("partial"),
    }
    ad = {
        "id": "3301000000000000006_99",
        "code": "C6AdAdAdAdA",
        "media_type": 1,
        "product_type": "ad",
        "taken_at": T0,
        "user": {"id": "99", "username": "brand"},
        "image_versions2": _candidates("ad"),
        "like_count": 0,
    }
    return [photo, carousel, video, polaris, partial, ad]


def instagram_expected() -> list[Expected]:
    """What 4CAT's Instagram CSV says (the ad left out): shortcode ids, `/p/<code>` URLs,
    hashtags from the caption, no time for the Polaris and the partial item."""

    def url(code: str) -> str:
        return f"https://www.instagram.com/p/{code}"

    def cdn(name: str) -> str:
        return f"https://scontent.cdninstagram.com/v/{name}.jpg?stp=1080"

    return [
        Expected("C1aBcDeFgHi", "cat.photos", T0, url("C1aBcDeFgHi"),
                 "sunny #cats, on the #sofa!", ("cats", "sofa"), (cdn("photo1"),)),
        Expected("C2bCdEfGhIj", "cat.photos", T0 + 60, url("C2bCdEfGhIj"),
                 "two of them #cats", ("cats",), (cdn("carousel-a"), cdn("carousel-b"))),
        Expected("C3cDeFgHiJk", "cat.photos", T0 + 120, url("C3cDeFgHiJk"), "", (),
                 (cdn("video-thumb"),)),
        Expected("C4dEfGhIjKl", "cat.photos", None, url("C4dEfGhIjKl"), "grid view #grid",
                 ("grid",), ("https://scontent.cdninstagram.com/v/polaris.jpg",)),
        Expected("C5eFgHiJkLm", "cat.photos", None, url("C5eFgHiJkLm"), "", (),
                 (cdn("partial"),)),
    ]  # fmt: skip


# --- Telegram --------------------------------------------------------------------------------


def telegram_messages() -> list[dict[str, Any]]:
    """Message 101 in two chats (a public channel and a group known only by its number), and
    a message without media, as 4CAT's Telegram search serialises them (`serialize_obj`)."""

    def message(chat: dict[str, Any], sender: dict[str, Any], number: int, text: str, date: int):
        # The Message itself gets no `_type` (Telethon's patched class is not in
        # telethon.tl.types); datetimes are written as float seconds.
        return {
            "id": number,
            "message": text,
            "message_markdown": text,
            "date": float(date),
            "edit_date": None,
            "views": 50 + number,
            "_chat": chat,
            "_sender": sender,
            "media": {
                "_type": "MessageMediaPhoto",
                "photo": {"_type": "Photo", "id": 5000 + number, "dc_id": 4, "file_reference": ""},
            },
            "reactions": None,
            "fwd_from": None,
            "reply_to": None,
        }

    channel = {"_type": "Channel", "id": 1111111111, "username": "catnews", "title": "Cat News"}
    group = {"_type": "Chat", "id": 2222222222, "username": None, "title": "Dog Friends"}
    editor = {"_type": "User", "id": 31, "username": "editor", "first_name": "Ed"}
    member = {"_type": "User", "id": 32, "username": None, "first_name": "Ann", "last_name": "Lee"}
    no_media = message(channel, editor, 102, "no picture", T0 + 200)
    no_media["media"] = None
    return [
        message(channel, editor, 101, "cats today", T0),
        message(group, member, 101, "dogs today", T0 + 100),
        no_media,
    ]


def telegram_expected() -> list[Expected]:
    """4CAT's Telegram ids are `<chat>-<message id>`, the chat its username, else its number;
    the author is the sender's username, else full name (4CAT's `author` is the numeric id)."""
    return [
        Expected("catnews-101", "editor", T0, "https://t.me/catnews/101", "cats today", ()),
        Expected("2222222222-101", "Ann Lee", T0 + 100, "", "dogs today", ()),
        Expected("catnews-102", "editor", T0 + 200, "https://t.me/catnews/102", "no picture", ()),
    ]
