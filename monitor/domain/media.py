"""媒体类型 of a source: as the operator set it, else inferred from its address and name (pure).

The inference is a default, never a judgement: every place that shows an inferred type says so
(「推断」 with the reason), and setting the type on the source replaces it. Rules are checked in
order — the host, then the path (RSSHub-style routes such as /weibo/user/…), then the name —
and a source matching none is a 网站 (a feed or a list page is a site's channel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.domain.enums import MediaType, SourceKind

# host (or a parent domain of it) -> type; more specific hosts first (视频号 is under weixin.qq.com)
_HOSTS: tuple[tuple[str, MediaType], ...] = (
    ("channels.weixin.qq.com", MediaType.SHORT_VIDEO),
    ("weixin.qq.com", MediaType.WECHAT),
    ("weibo.com", MediaType.WEIBO),
    ("weibo.cn", MediaType.WEIBO),
    ("douyin.com", MediaType.SHORT_VIDEO),
    ("iesdouyin.com", MediaType.SHORT_VIDEO),
    ("kuaishou.com", MediaType.SHORT_VIDEO),
    ("ixigua.com", MediaType.SHORT_VIDEO),
    ("bilibili.com", MediaType.SHORT_VIDEO),
    ("tieba.baidu.com", MediaType.FORUM),
)
# the first label of the host (bbs.example.cn) or any path segment (/rsshub/weibo/…)
_WORDS: dict[str, MediaType] = {
    "weibo": MediaType.WEIBO,
    "wechat": MediaType.WECHAT,
    "weixin": MediaType.WECHAT,
    "douyin": MediaType.SHORT_VIDEO,
    "kuaishou": MediaType.SHORT_VIDEO,
    "bilibili": MediaType.SHORT_VIDEO,
    "bbs": MediaType.FORUM,
    "forum": MediaType.FORUM,
    "club": MediaType.FORUM,
    "tieba": MediaType.FORUM,
    "blog": MediaType.BLOG,
    "epaper": MediaType.PRINT,
    "paper": MediaType.PRINT,
    "szb": MediaType.PRINT,  # 数字报
    "dzb": MediaType.PRINT,  # 电子报
    "12345": MediaType.HOTLINE_12345,
    "mailbox": MediaType.MAILBOX,
    "xinxiang": MediaType.MAILBOX,  # 信箱
    "ldxx": MediaType.MAILBOX,  # 领导信箱
    "liuyan": MediaType.MAILBOX,  # 留言板
}
# words in the source's name, checked in this order
_NAME_WORDS: tuple[tuple[str, MediaType], ...] = (
    ("12345", MediaType.HOTLINE_12345),
    ("信箱", MediaType.MAILBOX),
    ("留言板", MediaType.MAILBOX),
    ("视频号", MediaType.SHORT_VIDEO),
    ("抖音", MediaType.SHORT_VIDEO),
    ("快手", MediaType.SHORT_VIDEO),
    ("短视频", MediaType.SHORT_VIDEO),
    ("微博", MediaType.WEIBO),
    ("公众号", MediaType.WECHAT),
    ("微信", MediaType.WECHAT),
    ("论坛", MediaType.FORUM),
    ("贴吧", MediaType.FORUM),
    ("博客", MediaType.BLOG),
    ("客户端", MediaType.APP),
    ("电子报", MediaType.PRINT),
    ("数字报", MediaType.PRINT),
)
_NEWSPAPER = re.compile(r"(日报|晚报|早报|时报|商报|都市报|青年报|法制报|周报|报社)$")
_APP = re.compile(r"\bapp\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MediaTypeGuess:
    """A source's media type and where it comes from."""

    media_type: MediaType
    inferred: bool  # True: the source sets none; read from its address or name
    basis: str  # zh-CN, why: 「已设置」, 「按地址 weibo.com 推断」, 「按名称“论坛”推断」, 「默认」

    @property
    def text(self) -> str:
        """How people see it: 微博, or 微博（推断：按地址 weibo.com）."""
        if not self.inferred:
            return self.media_type.label
        return f"{self.media_type.label}（推断：{self.basis}）"


def media_type_of(media_type: MediaType | None, kind: SourceKind, url: str, name: str) -> MediaTypeGuess:
    """The type set on a source, else the one inferred from its URL and name (kind: the default's reason)."""
    if media_type is not None:
        return MediaTypeGuess(media_type, False, "已设置")
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    for suffix, found in _HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return MediaTypeGuess(found, True, f"按地址 {suffix}")
    first = host.split(".", 1)[0]
    if first in _WORDS:
        return MediaTypeGuess(_WORDS[first], True, f"按地址 {first}.")
    for segment in parts.path.lower().split("/"):
        if segment in _WORDS:
            return MediaTypeGuess(_WORDS[segment], True, f"按地址路径 /{segment}/")
    return _from_name(name.strip()) or MediaTypeGuess(MediaType.WEBSITE, True, _default_basis(kind))


def _from_name(name: str) -> MediaTypeGuess | None:
    for word, found in _NAME_WORDS:
        if word in name:
            return MediaTypeGuess(found, True, f"按名称“{word}”")
    match = _NEWSPAPER.search(name)
    if match:
        return MediaTypeGuess(MediaType.PRINT, True, f"按名称“{match.group(1)}”")
    if _APP.search(name):
        return MediaTypeGuess(MediaType.APP, True, "按名称“App”")
    return None


def _default_basis(kind: SourceKind) -> str:
    what = "网页列表" if kind == SourceKind.HTML_LIST else "RSS/Atom 订阅"
    return f"默认：{what}按网站计"
