"""The vector store: the only module that knows chromadb.

Embedded `PersistentClient` by default (one owning process); a Chroma server
(`chroma run`) when CHROMA_HOST is set, so several processes can share one index.
Embeddings are always computed by us and passed in, so chromadb's default
embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.settings import Settings, StartupError

logger = logging.getLogger(__name__)

# Chroma's product telemetry would try the network; keep it off.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class VectorStoreError(RuntimeError):
    """The vector store cannot be opened or used; the message says what to check."""


class CorruptStoreError(VectorStoreError):
    """The embedded store's files are damaged; `salescoach ingest` sets them aside and rebuilds."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"向量库文件已损坏（{path}）：{detail}。运行 salescoach ingest 会把它移到一旁并重新建立索引。")
        self.path = path


class StoreInUse(StartupError):
    """Another process owns the embedded store (the running bot); changing it from here would corrupt it."""


class StoreOwnership:
    """An exclusive lock on the embedded store's folder, held for as long as this process uses it to write.

    Why: the embedded chromadb store is not safe across processes. The bot holds
    this for its lifetime; `salescoach ingest` and `sources remove` take it for
    their run, so one of them started while the bot runs is refused with what to
    do instead, rather than never being seen (or damaging the index).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._handle: Any = None

    def claim(self) -> None:
        if self.settings.chroma_host or self._handle is not None:
            return  # a Chroma server serialises writers itself
        import fcntl

        folder = Path(self.settings.chroma_dir)
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".owner.lock", "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise StoreInUse(
                f"另一个进程（{owner}，通常是正在运行的机器人）正在使用这个向量库（{folder}）。"
                "机器人运行时请在 Telegram 里更新资料：管理员发送文件，或发 /reload；"
                "要让几个进程共用索引，请启动 chroma run 并设置 CHROMA_HOST。"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the lock
            self._handle = None


def set_aside(path: Path) -> Path:
    """Move a damaged embedded store out of the way (kept for inspection) so a new one can be built."""
    import time

    from chromadb.api.client import SharedSystemClient

    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, target)
    SharedSystemClient.clear_system_cache()  # chromadb keeps one client per path in a process
    return target


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


class ChromaVectorStore:
    """One chromadb collection of chunks for one embedding model."""

    def __init__(self, settings: Settings, embedder_name: str, kind: str = "chunks") -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_host:
                self._client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
                self.location = f"http://{settings.chroma_host}:{settings.chroma_port}"
            else:
                Path(settings.chroma_dir).mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
                self.location = str(settings.chroma_dir)
        except Exception as exc:  # chromadb raises several types here
            where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.chroma_dir)
            if not settings.chroma_host and _looks_corrupt(exc):
                raise CorruptStoreError(Path(settings.chroma_dir), str(exc)) from exc
            raise VectorStoreError(f"无法打开向量库（{where}）：{exc}") from exc
        self.collection_name = f"{kind}-{embedder_name}"[:63]
        self._collection = self._client.get_or_create_collection(
            name=self.collection_name,
            metadata={"hnsw:space": "cosine", "embedder": embedder_name},
            embedding_function=None,
        )

    def count(self) -> int:
        return self._collection.count()

    def all_chunks(self) -> list[StoredChunk]:
        data = self._collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(chunk_id=i, text=d or "", metadata=dict(m or {}))
            for i, d, m in zip(data["ids"], data["documents"], data["metadatas"])
        ]

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every entry's id and vector (chunks and hint questions, one row each), for ranking in memory."""
        data = self._collection.get(include=["embeddings"])
        ids = list(data["ids"])
        embeddings = data["embeddings"]
        if embeddings is None or not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.asarray(embeddings, dtype=np.float32)

    def all_metadata(self) -> list[dict[str, Any]]:
        """Every entry's metadata, without its text (enough to tell what is indexed)."""
        return [dict(m or {}) for m in self._collection.get(include=["metadatas"])["metadatas"]]

    def all_entries(self) -> tuple[list[StoredChunk], list[list[float]]]:
        """Every entry with its vector (the sentence store keeps them in memory)."""
        data = self._collection.get(include=["documents", "metadatas", "embeddings"])
        entries = [
            StoredChunk(chunk_id=i, text=d or "", metadata=dict(m or {}))
            for i, d, m in zip(data["ids"], data["documents"], data["metadatas"])
        ]
        embeddings = data["embeddings"]
        return entries, [list(v) for v in (embeddings if embeddings is not None else [])]

    def doc_chunk_ids(self, doc_id: str) -> list[str]:
        return list(self._collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def upsert(self, ids: list[str], embeddings: list[list[float]], texts: list[str], metadatas: list[dict[str, Any]]) -> None:
        for start in range(0, len(ids), 256):
            end = start + 256
            self._collection.upsert(
                ids=ids[start:end], embeddings=embeddings[start:end], documents=texts[start:end], metadatas=metadatas[start:end]
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 256):
            self._collection.delete(ids=ids[start : start + 256])


def _looks_corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(sign in text for sign in ("malformed", "not a database", "file is encrypted", "database disk image"))
