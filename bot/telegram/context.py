"""What every Telegram handler shares: a typed context, the stores, start-up hooks.

Handlers are declared as `async def handler(update: Update, context: CoachContext)`
and reach the rest of the product through typed properties instead of string keys:

    context.services   -> bot.services.Services (every store and service, built once)
    context.settings   -> bot.settings.Settings
    await context.language()  -> "zh" | "en" for the user of this update

Why this shape (PTB's `contexttypesbot` example): live objects go into
`application.bot_data` once, in `build_application`, and a `CallbackContext`
subclass exposes them with types. `bot_data` is never persisted.

Feature modules can also register, from their `register(application)`:
    add_startup_hook(application, coro_fn)    # awaited in post_init, e.g. rebuild jobs
    add_shutdown_hook(application, coro_fn)   # awaited in post_shutdown
    add_menu_command(application, "tip", "tips.cmd_tip")  # shown in Telegram's "/" menu
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings
    from bot.store.users import UserProfile

SERVICES_KEY = "services"
STARTUP_HOOKS_KEY = "startup_hooks"
SHUTDOWN_HOOKS_KEY = "shutdown_hooks"
MENU_COMMANDS_KEY = "menu_commands"
ADMIN_MENU_COMMANDS_KEY = "admin_menu_commands"

Hook = Callable[[Application], Awaitable[None]]


class CoachContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to our services (see module docstring)."""

    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._profile: "UserProfile | None" = None

    @property
    def services(self) -> "Services":
        return self.application.bot_data[SERVICES_KEY]

    @property
    def settings(self) -> "Settings":
        return self.services.settings

    @property
    def profile(self) -> "UserProfile | None":
        """The user's profile, loaded once per update by the access gate."""
        return self._profile

    def remember_profile(self, profile: "UserProfile") -> None:
        self._profile = profile

    async def language(self) -> str:
        """The language of this update's user ("zh" first; "en" when they chose it)."""
        if self._profile is not None:
            return self._profile.language
        if self._user_id is None:
            return self.settings.language
        return await asyncio.to_thread(self.services.users.language, self._user_id)

    def is_admin(self, user_id: int | None = None) -> bool:
        uid = self._user_id if user_id is None else user_id
        return uid is not None and uid in self.settings.admin_user_ids


def services_of(application: Application) -> "Services":
    return application.bot_data[SERVICES_KEY]


def add_startup_hook(application: Application, hook: Hook) -> None:
    """Run `await hook(application)` once the bot is initialised (errors are logged, not fatal)."""
    application.bot_data.setdefault(STARTUP_HOOKS_KEY, []).append(hook)


def add_shutdown_hook(application: Application, hook: Hook) -> None:
    """Run `await hook(application)` when the bot shuts down."""
    application.bot_data.setdefault(SHUTDOWN_HOOKS_KEY, []).append(hook)


def add_menu_command(application: Application, command: str, text_key: str, admin_only: bool = False) -> None:
    """Show `/command` in Telegram's command menu, described by the i18n text `text_key`."""
    key = ADMIN_MENU_COMMANDS_KEY if admin_only else MENU_COMMANDS_KEY
    entries: list[tuple[str, str]] = application.bot_data.setdefault(key, [])
    if all(existing != command for existing, _ in entries):
        entries.append((command, text_key))
