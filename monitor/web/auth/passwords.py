"""Password hashing with Argon2id (memory-hard; RFC 9106 parameters) and password rules."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import exceptions as argon2_errors

MIN_PASSWORD_LENGTH = 10


class PasswordHasher:
    """Hash and verify passwords; verification runs in a worker thread (it is slow on purpose)."""

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4) -> None:
        self._argon = Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism)
        self._dummy = self._argon.hash("not-a-real-password")

    @classmethod
    def for_tests(cls) -> PasswordHasher:
        """Cheap parameters: the same algorithm, a fraction of the cost (never for production)."""
        return cls(time_cost=1, memory_cost_kib=1024, parallelism=1)

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify_sync(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; an unknown user (None) costs the same time and fails."""
        try:
            return self._argon.verify(password_hash or self._dummy, password) and password_hash is not None
        except (argon2_errors.VerificationError, argon2_errors.InvalidHashError):
            return False

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify_sync, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon.check_needs_rehash(password_hash)
        except argon2_errors.InvalidHashError:
            return True


def password_problem(password: str, username: str) -> str | None:
    """A zh-CN explanation of why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符"
    if password.strip() != password:
        return "密码首尾不能是空格"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if len(set(password)) < 4:
        return "密码过于简单，请混合使用不同的字符"
    return None
