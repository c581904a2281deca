"""Demo accounts, one per web role. The password is fixed and printed: for the demo database only."""

from __future__ import annotations

from monitor.app import Services
from monitor.domain import UserRole
from monitor.web.auth.accounts import NewAccount, add_account
from monitor.web.auth.passwords import PasswordHasher

DEMO_PASSWORD = "minghu-demo-2026"
DEMO_ACCOUNTS = (
    NewAccount("duty", UserRole.DUTY_OFFICER, "朱敏（值班员）", person_id="zhu_min"),
    NewAccount("unit", UserRole.UNIT_HANDLER, "王晨阳（住建局联络员）", unit_id="housing", person_id="wang_chenyang"),
    NewAccount("leader", UserRole.LEADER, "钱志强（副市长）", person_id="qian_zhiqiang"),
    NewAccount("analyst", UserRole.ANALYST, "演示分析员"),
    NewAccount("admin", UserRole.ADMIN, "演示管理员"),
    NewAccount("gov", UserRole.GOV_OFFICE, "蒋文博（市政府办督查科）", person_id="jiang_wenbo"),
)


async def create_demo_accounts(services: Services) -> list[str]:
    """Create the accounts; returns one zh-CN line per login to print."""
    hasher = PasswordHasher()
    lines = []
    for account in DEMO_ACCOUNTS:
        await add_account(services.db, hasher, services.clock, services.org, account, DEMO_PASSWORD, actor="demo")
        lines.append(
            f"  {account.role.label}：用户名 {account.username}  密码 {DEMO_PASSWORD}  （{account.display_name}）"
        )
    return lines
