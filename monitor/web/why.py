"""The classifier's reasons (`classification.why`) as zh-CN lines for the incident page.

The classifier stores structured reasons (scores, who decided, top terms, fact mentions); shown
as they are they read as Python data with English keys. Each known part becomes one labelled
line; anything else is still shown, as text, never as a raw dict or list.
"""

from __future__ import annotations

from typing import Any

WHY_LABELS = {
    "relevance": "相关性",
    "event_type": "类别",
    "incident": "突发事件",
    "facts": "提取的事实",
    "event_level": "突发事件级别",
    "opinion_level": "舆情级别",
    "unit": "责任单位",
}
FACT_LABELS = {
    "deaths": "死亡",
    "missing": "失联",
    "injured": "受伤",
    "serious_injured": "重伤",
    "people_involved": "涉及人数",
    "economic_loss_cny": "直接经济损失（元）",
}
MAX_TERMS = 8


def why_lines(why: Any) -> list[tuple[str, str]]:
    """(label, text) per reason; the label is empty for a reason that has none."""
    if not why:
        return []
    if isinstance(why, str):
        return [("", why)]
    if isinstance(why, list | tuple):
        return [("", _plain(w)) for w in why if w not in (None, "", [], {})]
    if not isinstance(why, dict):
        return [("", str(why))]
    lines = []
    for key, value in why.items():
        text = _PARTS[key](value) if key in _PARTS and isinstance(value, dict | list) else _plain(value)
        if text:
            lines.append((WHY_LABELS.get(key, str(key)), text))
    return lines


def _by(by: Any) -> str:
    if by == "model":
        return "模型判定"
    if isinstance(by, str) and by.startswith("rule"):
        return "关键词规则判定"
    return str(by or "")


def _terms(terms: Any) -> str:
    """Top terms without the feature markers («词» marks a whole word), each once."""
    seen: list[str] = []
    for term in terms or ():
        text = str(term).strip("«» ")
        if text and text not in seen:
            seen.append(text)
    return "关键词：" + "、".join(seen[:MAX_TERMS]) if seen else ""


def _score(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _relevance(value: Any) -> str:
    if not isinstance(value, dict):
        return _plain(value)
    head = "，".join(p for p in (_score(value.get("score")), _by(value.get("by"))) if p)
    return "；".join(p for p in (head, _terms(value.get("top_terms"))) if p)


def _event_type(value: Any) -> str:
    if not isinstance(value, dict):
        return _plain(value)
    detail = "，".join(p for p in (_by(value.get("by")), _score(value.get("score"))) if p)
    head = f"{value.get('label') or '—'}（{detail}）" if detail else str(value.get("label") or "—")
    return "；".join(p for p in (head, _terms(value.get("top_terms"))) if p)


def _incident(value: Any) -> str:
    if not isinstance(value, dict):
        return _plain(value)
    verdict = "是" if value.get("value") else "否"
    because = value.get("because")
    return f"{verdict}（{because}）" if because else verdict


def _facts(value: Any) -> str:
    if not isinstance(value, list):
        return _plain(value)
    parts = []
    for mention in value:
        if not isinstance(mention, dict):
            parts.append(str(mention))
            continue
        name = FACT_LABELS.get(str(mention.get("field")), "")
        approx = "约" if mention.get("qualifier") == "approx" else ""
        quote = f"「{mention['text']}」" if mention.get("text") else ""
        parts.append(f"{name} {approx}{mention.get('value')}{quote}".strip() if name else quote or str(mention))
    return "、".join(parts)


def _plain(value: Any) -> str:
    """Any other reason as text: lists joined, mappings as 键：值."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "；".join(f"{k}：{_plain(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list | tuple):
        return "；".join(_plain(v) for v in value if v not in (None, "", [], {}))
    return str(value)


_PARTS = {
    "relevance": _relevance,
    "event_type": _event_type,
    "incident": _incident,
    "facts": _facts,
}
