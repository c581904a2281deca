"""zh-CN for the collectors' English fetch errors and item warnings, with what to do about them.

`sources.last_error`, `fetches.error` and `items.warnings` stay English: they are the log and
the collectors write them (monitor/collectors/fetch.py, robots.py, sourcing.py, encoding.py …).
People read them here, matched by the patterns those modules write. A message no pattern knows
is shown as a generic line with the English after it, so nothing is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Explained:
    text: str  # zh-CN: what happened
    advice: str = ""  # zh-CN: what to do ("" when nothing is needed)
    detail: str | None = None  # the English original, shown after a message no pattern knows

    def __str__(self) -> str:
        parts = [self.text, self.advice, f"（原始信息：{self.detail}）" if self.detail else ""]
        return " ".join(p for p in parts if p)


RETRY = "系统会自动重试；持续失败请核实网址或联系网站管理方。"
FIX_URL = "请在浏览器中打开该网址核实，必要时编辑信息源更新地址。"
Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Explained]]


def _rule(pattern: str, make: Callable[[re.Match[str]], Explained]) -> Rule:
    return re.compile(pattern, re.DOTALL), make


def _http(match: re.Match[str]) -> Explained:
    code = int(match.group(1))
    if code == 429:
        return Explained(
            "网站限制访问频率（HTTP 429）。", "系统已按网站要求推迟采集；经常出现时请调大「最短轮询间隔」。"
        )
    if code == 503:
        return Explained("网站暂时无法提供服务（HTTP 503）。", "系统已按网站要求推迟采集，通常会自行恢复。")
    if code in (404, 410):
        return Explained(f"网址不存在（HTTP {code}），栏目可能已改版或迁移。", FIX_URL)
    if code in (401, 403):
        return Explained(
            f"网站拒绝访问（HTTP {code}）。", "请核实是否需要账号（「凭据变量名」），或联系网站管理方确认未屏蔽采集。"
        )
    if code >= 500:
        return Explained(f"网站服务器出错（HTTP {code}）。", RETRY)
    return Explained(f"网站返回错误（HTTP {code}）。", FIX_URL)


def _robots_unreadable(match: re.Match[str]) -> Explained:
    why = explain_error(match.group(1))
    reason = why.text.rstrip("。") if why is not None and why.detail is None else match.group(1)
    return Explained(
        f"无法读取该网站的 robots.txt（{reason}），按规范暂停采集该网站。",
        "约 15 分钟后自动重试，多为网站故障，通常会自行恢复；持续失败请联系网站管理方。",
    )


ERROR_RULES: tuple[Rule, ...] = (
    _rule(
        r"robots\.txt of \S+ could not be read \((.*?)\); nothing is fetched",
        _robots_unreadable,
    ),
    _rule(
        r"redirected to (\S+): robots\.txt of \S+ disallows ",
        lambda m: Explained(
            f"网址跳转到了另一网站的 {m.group(1)}，该网站的 robots.txt 不允许本系统采集，未发出请求。",
            "已采集的内容不受影响。请把信息源地址改为允许采集的地址；robots_permission 只对信息源自身所在网站有效，"
            "不适用于跳转到的其他网站。",
        ),
    ),
    _rule(
        r"robots\.txt of \S+ disallows (\S+) for ",
        lambda m: Explained(
            f"网站的 robots.txt 不允许本系统采集该地址（{m.group(1)}），未发出请求。",
            "已采集的内容不受影响。如本单位已获网站主办单位书面同意采集，请编辑信息源，在「选项」中填写 "
            "robots_permission（写明授权依据）；否则请改用该网站允许采集的栏目或订阅源，或停用此信息源。",
        ),
    ),
    _rule(
        r"connect timed out after ([\d.]+) s",
        lambda m: Explained(f"连接网站超时（{m.group(1)} 秒内未连上）。", "网站可能宕机或网络不通；" + RETRY),
    ),
    _rule(
        r"read timed out: no data for ([\d.]+) s",
        lambda m: Explained(f"网站响应超时（{m.group(1)} 秒没有返回数据）。", RETRY),
    ),
    _rule(
        r"timed out: the whole request took over ([\d.]+) s",
        lambda m: Explained(f"网站响应过慢（整个请求超过 {m.group(1)} 秒）。", RETRY),
    ),
    _rule(
        r"more than (\d+) redirects",
        lambda m: Explained(f"网址跳转次数过多（超过 {m.group(1)} 次），可能是循环跳转。", FIX_URL),
    ),
    _rule(
        r"HTTP (\d{3}) redirect to (\S+) not followed",
        lambda m: Explained(
            f"网址已跳转到 {m.group(2)}（HTTP {m.group(1)}），当前设置不跟随跳转。", "请把信息源地址改为跳转后的地址。"
        ),
    ),
    _rule(r"^HTTP (\d{3})\b", _http),
    _rule(
        r"TLS verification failed",
        lambda m: Explained(
            "网站的 HTTPS 证书校验失败（证书过期、域名不符或不受信任），为安全起见未采集。",
            "系统不会跳过证书校验；请联系网站管理方修复证书，或核实网址。",
        ),
    ),
    _rule(
        r"body larger than ([\d.]+) MiB",
        lambda m: Explained(
            f"返回内容过大（超过 {m.group(1)} MiB），未读取。", "请核实网址指向订阅源或列表页，而不是大文件。"
        ),
    ),
    _rule(
        r"ClientConnectorDNSError|Name or service not known|nodename nor servname|Temporary failure in name resolution",
        lambda m: Explained("网站域名无法解析。", "请核实网址拼写；域名也可能已失效或暂时无法解析。" + RETRY),
    ),
    _rule(
        r"Cannot connect to host|ClientConnectorError|Connection refused",
        lambda m: Explained("无法连接到网站（连接被拒绝或网络不通）。", RETRY),
    ),
    _rule(
        r"ServerDisconnectedError|ClientPayloadError|ClientOSError|Connection reset",
        lambda m: Explained("网站在传输中途断开了连接。", RETRY),
    ),
    _rule(
        r"credentials (\S+) are not set",
        lambda m: Explained(
            f"信息源要求的凭据未配置：采集进程中没有环境变量 {m.group(1)}。",
            f"请运维人员为采集进程设置 {m.group(1)}（或 {m.group(1)}_FILE）后重启采集进程。",
        ),
    ),
    _rule(
        r"(\S+)_FILE names a file that cannot be read",
        lambda m: Explained(
            f"信息源的凭据文件无法读取（{m.group(1)}_FILE）。", "请运维人员检查该文件的路径和读取权限。"
        ),
    ),
    _rule(
        r"the fetched items could not be stored",
        lambda m: Explained(
            "已取到内容，但数据库拒绝保存（系统故障），本次内容未入库。", "请联系运维人员查看采集日志；系统会自动重试。"
        ),
    ),
    _rule(
        r"selector item=(.*?) matched nothing",
        lambda m: Explained(
            f"列表选择器 item={m.group(1)} 在页面上没有匹配到任何条目，网站可能已改版。",
            "请编辑信息源，按当前页面结构更新「选项」中的选择器。",
        ),
    ),
    _rule(
        r"the list page selectors failed|page could not be parsed as HTML",
        lambda m: Explained("列表页无法按设置的选择器读取。", "请编辑信息源，核实「选项」中的选择器。"),
    ),
    _rule(
        r"no feed found in|no feed or entries found|JSON Feed has no items|feed could not be parsed|not valid JSON",
        lambda m: Explained(
            "该地址没有可识别的订阅源（RSS/Atom/JSON Feed）内容。",
            "请核实网址是订阅源地址；普通网页栏目请把类型改为「网页列表」并设置选择器。",
        ),
    ),
)

WARNING_RULES: tuple[Rule, ...] = (
    _rule(
        r"article not fetched: more than (\d+) new articles",
        lambda m: Explained(f"未抓取正文：一次采集到的新稿件超过 {m.group(1)} 篇，其余只保存了标题和链接。"),
    ),
    _rule(
        r"article not fetched: \S+ asks for ([\d.]+) s between requests \(Crawl-delay\); at most (\d+)",
        lambda m: Explained(
            f"未抓取正文：网站要求每次访问间隔 {m.group(1)} 秒（robots.txt 的 Crawl-delay），"
            f"本次只抓取了 {m.group(2)} 篇正文。"
        ),
    ),
    _rule(
        r"article not fetched: (\S+) failed earlier in this poll \((.*)\)$",
        lambda m: Explained(f"未抓取正文：该网站本次采集中已出错（{_short(m.group(2))}），本次不再请求。"),
    ),
    _rule(r"article not fetched: (.*)$", lambda m: Explained(f"未抓取正文：{_short(m.group(1))}")),
    _rule(
        r"older list page \S+ not read \((.*)\)$",
        lambda m: Explained(f"未读取更早的列表页（{_short(m.group(1))}），之前的稿件可能有遗漏。"),
    ),
    _rule(
        r"next-page link \S+ leaves",
        lambda m: Explained("「下一页」链接指向其他网站，未跟随，之前的稿件可能有遗漏。"),
    ),
    _rule(
        r"read (\d+) list page\(s\) \(max_pages\)",
        lambda m: Explained(
            f"已读 {m.group(1)} 页列表且全部是新稿件，更早的稿件可能有遗漏。",
            "可在信息源「选项」中调大 max_pages，或缩短轮询间隔。",
        ),
    ),
    _rule(r"mojibake repaired", lambda m: Explained("发现乱码（编码被读错），已自动修复。")),
    _rule(r"mojibake", lambda m: Explained("发现乱码，未能自动修复。", "请打开原文人工阅读。")),
    _rule(
        r"U\+FFFD|not valid in any likely charset",
        lambda m: Explained("部分文字无法解码，已丢失。", "请打开原文人工阅读。"),
    ),
    _rule(
        r"charset conflict|although \S+ was declared|are not valid \S+ \(declared\)|unknown charset|guessed ",
        lambda m: Explained("网页声明的字符编码有误，已自动判断编码。"),
    ),
    _rule(r"unreadable date (.*)$", lambda m: Explained(f"无法识别发布时间 {m.group(1)}，按采集时间处理。")),
    _rule(r"no article text found", lambda m: Explained("文章页未识别出正文，只保存了标题和摘要。")),
    _rule(r"article extraction failed", lambda m: Explained("文章页正文提取失败，只保存了标题和摘要。")),
    _rule(r"feed is not well-formed", lambda m: Explained("订阅源格式不规范，已尽量读取。")),
)


def _first(rules: tuple[Rule, ...], message: str) -> Explained | None:
    for pattern, make in rules:
        match = pattern.search(message)
        if match is not None:
            return make(match)
    return None


def _short(error: str) -> str:
    """An error inside a warning, in zh-CN when known (its advice is left out: the item is stored)."""
    found = _first(ERROR_RULES, error)
    return found.text.rstrip("。") if found is not None else error


def explain_error(error: str | None) -> Explained | None:
    """A source's last error (or a fetch's) for people; None when there is none."""
    if not error:
        return None
    return _first(ERROR_RULES, error) or Explained(
        "采集出错（未归类的错误）。", "系统会自动重试；持续出现请联系运维人员。", error
    )


def explain_warning(warning: str) -> Explained:
    """One of an item's collection warnings for people."""
    return _first(WARNING_RULES, warning) or Explained("采集提示：", "", warning)


def warnings_text(warnings: list[str] | None) -> str:
    """An item's warnings as one zh-CN line (the 稿件 page's tooltip)."""
    return "；".join(str(explain_warning(w)) for w in warnings or [])
