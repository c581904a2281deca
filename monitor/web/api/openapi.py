"""GET /api/openapi.json: the API described from the same action specs the handlers use."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor import __version__
from monitor.web.actions.forms import fixed_choices
from monitor.web.actions.specs import ACTIONS, OPEN_FROM_ITEM, ActionSpec, FieldSpec
from monitor.web.auth.permissions import public
from monitor.web.queue import DERIVED_STATUSES, WORKFLOW_STATUSES

ERROR = {"$ref": "#/components/schemas/Error"}
FILTER_PARAMS = [
    ("level", "舆情级别 L1–L4（可重复）"),
    ("unit", "责任单位 id（主责、牵头或协办）"),
    ("region", "属地（镇/街道 id）"),
    (
        "status",
        "状态（可重复，任一匹配；默认全部在办）："
        + "、".join(f"{s.value}（{s.label}）" for s in WORKFLOW_STATUSES)
        + "；按当前时限计算："
        + "、".join(f"{value}（{text}）" for value, text in DERIVED_STATUSES),
    ),
    ("overdue", "1 = 只看已超期"),
    ("mine", "1 = 只看与我相关"),
    ("page", "页码，从 1 开始"),
    ("limit", "每页条数，最多 500"),
]


def _field_schema(spec_field: FieldSpec) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {
        "int": {"type": "integer", "minimum": 1},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "multi": {"type": "array", "items": {"type": "integer"}},
        "datetime": {"type": "string", "format": "date-time", "description": "无时区时按北京时间理解"},
        "url": {"type": "string", "format": "uri"},
        "file": {"type": "string", "format": "binary"},
    }
    schema = dict(kinds.get(spec_field.kind, {"type": "string", "maxLength": spec_field.max_length}))
    schema["title"] = spec_field.label
    fixed = fixed_choices(spec_field.choices)
    if fixed:
        schema["enum"] = [value for value, _ in fixed]
    elif spec_field.choices:
        hint = CHOICE_HINTS[spec_field.choices]
        schema["description"] = f"{hint}；当前可选值见 GET /api/incidents/{{incident_id}} 的 actions"
    if spec_field.help:
        schema["description"] = f"{schema.get('description', '')} {spec_field.help}".strip()
    return schema


CHOICE_HINTS = {
    "unit": "组织机构中的单位 id",
    "region": "属地：组织机构中镇、街道的单位 id",
    "item": "本事件稿件的 id",
    "rule": "本事件尚未履行的时限要求的 rule_id",
    "manual_rule": "须手工附加的规则 id",
    "extendable_rule": "允许延期的时限要求的 rule_id",
    "pause_request": "待处理的暂停申请在时间线中的 seq",
    "pause_request_to_approve": "他人提出的、待处理的暂停申请在时间线中的 seq（申请人本人不能批准）",
    "open_commitment": "本事件尚未兑现的承诺事项编号（1、2…，按登记顺序）",
}


def _request_body(spec: ActionSpec) -> dict[str, Any]:
    def schema(with_files: bool) -> dict[str, Any]:
        fields = [f for f in spec.fields if with_files or f.kind != "file"]
        return {
            "type": "object",
            "properties": {f.name: _field_schema(f) for f in fields},
            "required": [f.name for f in fields if f.required],
            "additionalProperties": False,
        }

    content = {"application/json": {"schema": schema(False)}}
    if any(f.kind == "file" for f in spec.fields):
        content["multipart/form-data"] = {"schema": schema(True)}
    return {"required": True, "content": content}


def _action_operation(spec: ActionSpec) -> dict[str, Any]:
    return {
        "summary": spec.label,
        "description": f"领域命令 {spec.command}（权限 {spec.permission.value}）。{spec.description}",
        "operationId": f"incident_{spec.slug.replace('-', '_')}",
        "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": _request_body(spec),
        "responses": {
            "201": {
                "description": "已执行：message 为引擎的说明，obligations 为执行后的全部时限要求",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActionResult"}}},
            },
            **{
                code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                for code, text in (
                    ("400", "输入有误（field 指出字段）"),
                    ("401", "缺少或无效的令牌"),
                    ("403", "角色无权执行（或 Cookie 调用缺少 X-CSRF-Token）"),
                    ("404", "事件不存在或无权查看"),
                    ("409", "时限引擎拒绝：事件当前状态或规则不允许（message 说明原因与做法）"),
                    ("415", "请求体类型不对"),
                )
            },
        },
    }


def _get(summary: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
                for n, d in params or []
            ],
            "responses": {
                "200": {"description": "成功"},
                "401": {"description": "缺少或无效的令牌", "content": {"application/json": {"schema": ERROR}}},
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/me": _get("当前用户"),
        "/api/incidents": _get("在办事件（按最近截止时间排序）", FILTER_PARAMS),
        "/api/incidents/{incident_id}": _get("事件详情：稿件、时限要求、时间线"),
        "/api/sources": _get("信息源及其健康状况"),
        "/api/leader/due": _get("领导视图：即将到期与已超期的时限要求", [("hours", "时间范围（小时）")]),
    }
    paths["/api/incidents/{incident_id}"]["get"]["parameters"] = [
        {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    for spec in ACTIONS:
        paths[f"/api/incidents/{{incident_id}}/{spec.slug}"] = {"post": _action_operation(spec)}
    opening = _action_operation(OPEN_FROM_ITEM)  # 从稿件手动立案: on an item, not an incident
    opening |= {"operationId": "item_open", "parameters": [{**opening["parameters"][0], "name": "item_id"}]}
    opening["responses"]["404"]["description"] = "稿件不存在"
    paths["/api/items/{item_id}/open"] = {"post": opening}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "政务舆情回应监测与督办 API",
            "version": __version__,
            "description": "令牌在「我的账户」页面或 `monitor users token` 生成。错误响应为 {message, field}。",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message", "field"],
                    "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}},
                },
                "ActionResult": {
                    "type": "object",
                    "required": ["message", "incident_id", "generation", "events", "obligations"],
                    "properties": {
                        "message": {"type": "string"},
                        "incident_id": {"type": "integer"},
                        "generation": {"type": "integer"},
                        "events": {"type": "array", "items": {"type": "string"}},
                        "obligations": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }


@public
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
