"""The tip bank: `knowledge/tips/*.yaml` loaded and validated into `Tip` objects.

Why validation names file and field, and why a bad file never stops the rest:
managers edit these files by hand. One typo must produce a message they can act
on ("gifts.yaml: tips[2] (gift-novelty).source.quote: …"), while every other
tip keeps being delivered. Files whose name starts with `_` hold settings
(topics, cities), not tips. The schema is documented in knowledge/tips/README.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from bot.corpus.documents import ManifestError
from bot.coach.criteria import load_criteria
from bot.corpus.library import read_manifest_texts
from bot.datafiles import DataFileError, read_yaml

MAX_TEXT_CHARS = 120
QUOTE_MIN, QUOTE_MAX = 10, 60
TOPICS_FILE = "_topics.yaml"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")  # fits in 64-byte callback data
_TIP_KEYS = {"id", "text", "source", "tags", "quiz"}
_TAG_KEYS = {"topic", "criteria", "scenario"}
_SCENARIO_SKIP = {"criteria.yaml", "signals.yaml"}


@dataclass(frozen=True)
class TipSource:
    """Where a tip comes from: a manifest doc id and a verbatim quote from that file."""

    doc: str
    quote: str


@dataclass(frozen=True)
class Quiz:
    question: str
    answer: str


@dataclass(frozen=True)
class Tip:
    """One daily tip, as a manager wrote it."""

    id: str
    text: str
    source: TipSource
    topic: str
    criteria: tuple[str, ...] = ()
    scenario: str | None = None
    quiz: Quiz | None = None
    file: str = ""


@dataclass(frozen=True)
class BankIssue:
    """A problem in the bank. Errors drop the tip (or file); warnings keep it."""

    file: str
    where: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        level = "错误" if self.severity == "error" else "提醒"
        where = f"{self.where}: " if self.where else ""
        return f"[{level}] {self.file}: {where}{self.message}"


@dataclass
class TipBank:
    """All valid tips, the topic names, and every issue found while loading."""

    tips: tuple[Tip, ...]
    topics: dict[str, dict[str, str]]
    issues: list[BankIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {tip.id: tip for tip in self.tips}

    def get(self, tip_id: str) -> Tip | None:
        return self._by_id.get(tip_id)

    @property
    def errors(self) -> list[BankIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[BankIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def topic_label(self, topic: str, lang: str = "zh") -> str:
        names = self.topics.get(topic, {})
        return names.get(lang) or names.get("zh") or topic

    def coverage(self) -> dict[str, Counter]:
        """Counts per topic and per criterion, for `salescoach tips check`."""
        return {
            "topic": Counter(t.topic for t in self.tips),
            "criteria": Counter(c for t in self.tips for c in t.criteria),
            "scenario": Counter(t.scenario for t in self.tips if t.scenario),
            "quiz": Counter(t.topic for t in self.tips if t.quiz),
        }


def text_length(text: str) -> int:
    """Characters a reader sees (whitespace not counted)."""
    return len(re.sub(r"\s+", "", text))


# ---- reference data the tips point at ----------------------------------------------------


@dataclass(frozen=True)
class References:
    """What tags and sources may refer to; None means "unknown, don't check"."""

    source_texts: dict[str, str] | None = None  # doc id → full text
    topics: dict[str, dict[str, str]] | None = None
    criteria: frozenset[str] | None = None
    scenarios: frozenset[str] | None = None


def load_source_texts(sources_dir: Path, max_bytes: int = 20 * 1_048_576) -> tuple[dict[str, str] | None, list[BankIssue]]:
    """Doc id → text for every manifest entry (the quote check needs the exact text)."""
    try:
        texts, errors = read_manifest_texts(sources_dir, max_bytes)
    except ManifestError as exc:
        return None, [BankIssue("manifest.yaml", "", str(exc), "warning")]
    if not texts and not errors:
        return None, []
    issues = [BankIssue(name, "", f"资料无法读取，引用它的提示无法核对：{error}", "warning") for name, error in errors.items()]
    return texts, issues


def load_topics(tips_dir: Path) -> tuple[dict[str, dict[str, str]] | None, list[BankIssue]]:
    path = tips_dir / TOPICS_FILE
    if not path.is_file():
        return None, []
    try:
        data = read_yaml(path) or {}
    except DataFileError as exc:
        return None, [BankIssue(path.name, f"第 {exc.line} 行" if exc.line else "", exc.message)]
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict):
        return None, [BankIssue(path.name, "topics", "需要 topics: 映射（id: {zh: 名称, en: name}）")]
    out: dict[str, dict[str, str]] = {}
    issues: list[BankIssue] = []
    for key, names in topics.items():
        if not isinstance(names, dict) or not isinstance(names.get("zh"), str):
            issues.append(BankIssue(path.name, f"topics.{key}", "至少需要 zh 名称"))
            continue
        out[str(key)] = {lang: str(names.get(lang) or names["zh"]) for lang in ("zh", "en")}
    return out, issues


def load_criteria_labels(scenarios_dir: Path) -> dict[str, dict[str, str]] | None:
    """Rubric criteria (id → {zh, en}) through the one criteria parser; None when the file is missing or broken."""
    try:
        criteria = load_criteria(scenarios_dir)
    except DataFileError:
        return None
    return {cid: {"zh": info.zh, "en": info.name("en")} for cid, info in criteria.items()}


def load_criteria_ids(scenarios_dir: Path) -> frozenset[str] | None:
    labels = load_criteria_labels(scenarios_dir)
    return frozenset(labels) if labels is not None else None


def load_scenario_ids(scenarios_dir: Path) -> frozenset[str] | None:
    """Scenario ids found in knowledge/scenarios/*.yaml (None when there are none yet)."""
    if not scenarios_dir.is_dir():
        return None
    ids: set[str] = set()
    for path in sorted(scenarios_dir.glob("*.yaml")):
        if path.name in _SCENARIO_SKIP or path.name.startswith("_"):
            continue
        try:
            data = read_yaml(path)
        except DataFileError:
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.add(data["id"])
    return frozenset(ids) or None


def load_references(knowledge_dir: Path, tips_dir: Path | None = None) -> tuple[References, list[BankIssue]]:
    tips_dir = tips_dir or knowledge_dir / "tips"
    texts, issues = load_source_texts(knowledge_dir / "sources")
    topics, topic_issues = load_topics(tips_dir)
    scenarios_dir = knowledge_dir / "scenarios"
    refs = References(
        source_texts=texts,
        topics=topics,
        criteria=load_criteria_ids(scenarios_dir),
        scenarios=load_scenario_ids(scenarios_dir),
    )
    return refs, issues + topic_issues


# ---- parsing one tip ---------------------------------------------------------------------


class _TipParser:
    """Turns one YAML mapping into a Tip, recording issues with precise locations."""

    def __init__(self, file: str, where: str, refs: References, issues: list[BankIssue]) -> None:
        self.file, self.where, self.refs, self.issues = file, where, refs, issues
        self.failed = False

    def _at(self, field_name: str) -> str:
        return f"{self.where}.{field_name}" if field_name else self.where

    def error(self, field_name: str, message: str) -> None:
        self.issues.append(BankIssue(self.file, self._at(field_name), message))
        self.failed = True

    def warn(self, field_name: str, message: str) -> None:
        self.issues.append(BankIssue(self.file, self._at(field_name), message, "warning"))

    def text_field(self, data: dict[str, Any], key: str, label: str, path: str = "") -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.error(path or key, f"缺少{label}（需要一段文字）")
            return ""
        return value.strip()

    def parse(self, raw: Any, default_topic: str | None) -> Tip | None:
        if not isinstance(raw, dict):
            self.error("", "每条提示应该是一个映射（id、text、source、tags…）")
            return None
        for key in sorted(set(raw) - _TIP_KEYS):
            self.warn(str(key), "未知字段，已忽略")
        tip_id = raw.get("id")
        if not isinstance(tip_id, str) or not _ID_RE.match(tip_id):
            self.error("id", f"id 需要 2–40 位小写字母、数字、- 或 _，收到：{tip_id!r}")
        text = self.text_field(raw, "text", "提示正文")
        if text and text_length(text) > MAX_TEXT_CHARS:
            self.error("text", f"太长：{text_length(text)} 字，上限 {MAX_TEXT_CHARS} 字")
        source = self._source(raw.get("source"))
        topic, criteria, scenario = self._tags(raw.get("tags"), default_topic)
        quiz = self._quiz(raw.get("quiz"))
        if self.failed or source is None or topic is None:
            return None
        return Tip(id=tip_id, text=text, source=source, topic=topic, criteria=criteria, scenario=scenario, quiz=quiz, file=self.file)

    def _source(self, raw: Any) -> TipSource | None:
        if not isinstance(raw, dict):
            self.error("source", "需要 source: {doc: 资料 id, quote: 原文引文}")
            return None
        doc = raw.get("doc")
        quote = raw.get("quote")
        if not isinstance(doc, str) or not doc.strip():
            self.error("source.doc", "缺少资料 id（见 knowledge/sources/manifest.yaml 的 id）")
            return None
        if not isinstance(quote, str) or not quote.strip():
            self.error("source.quote", "缺少原文引文")
            return None
        doc, quote = doc.strip(), quote.strip()
        if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
            self.error("source.quote", f"引文应为 {QUOTE_MIN}–{QUOTE_MAX} 个字，现在 {len(quote)} 个")
        texts = self.refs.source_texts
        if texts is not None:
            if doc not in texts:
                self.error("source.doc", f"资料 id {doc!r} 不在 manifest.yaml 里（可用：{', '.join(sorted(texts))}）")
            elif quote not in texts[doc]:
                self.error("source.quote", f"引文在资料 {doc!r} 的原文中找不到（需逐字复制）：{quote!r}")
        return TipSource(doc=doc, quote=quote)

    def _tags(self, raw: Any, default_topic: str | None) -> tuple[str | None, tuple[str, ...], str | None]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.error("tags", "tags 应该是映射（topic、criteria、scenario）")
            return None, (), None
        for key in sorted(set(raw) - _TAG_KEYS):
            self.warn(f"tags.{key}", "未知字段，已忽略")
        topic = raw.get("topic", default_topic)
        if not isinstance(topic, str) or not topic:
            self.error("tags.topic", "缺少主题（在提示的 tags.topic 或文件顶层的 topic 写）")
            topic = None
        elif self.refs.topics is not None and topic not in self.refs.topics:
            self.error("tags.topic", f"未知主题 {topic!r}（在 {TOPICS_FILE} 里定义）")
        criteria_raw = raw.get("criteria", [])
        if isinstance(criteria_raw, str):
            criteria_raw = [criteria_raw]
        if not isinstance(criteria_raw, list) or not all(isinstance(c, str) for c in criteria_raw):
            self.error("tags.criteria", "应为评分维度 id 的列表，例如 [listen_first, compliance]")
            criteria_raw = []
        criteria = tuple(dict.fromkeys(c.strip() for c in criteria_raw if c.strip()))
        known = self.refs.criteria
        for criterion in criteria:
            if known is not None and criterion not in known:
                self.warn("tags.criteria", f"评分维度 {criterion!r} 不在 knowledge/scenarios/criteria.yaml 里")
        scenario = raw.get("scenario")
        if scenario is not None and (not isinstance(scenario, str) or not scenario.strip()):
            self.error("tags.scenario", "应为场景 id（文字）")
            scenario = None
        elif isinstance(scenario, str):
            scenario = scenario.strip()
            if self.refs.scenarios is not None and scenario not in self.refs.scenarios:
                self.warn("tags.scenario", f"场景 {scenario!r} 在 knowledge/scenarios/ 里找不到，“练一练”按钮不会显示")
        return topic, criteria, scenario

    def _quiz(self, raw: Any) -> Quiz | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error("quiz", "quiz 应为 {question: 问题, answer: 答案}")
            return None
        question = self.text_field(raw, "question", "测验问题", "quiz.question")
        answer = self.text_field(raw, "answer", "测验答案", "quiz.answer")
        return Quiz(question, answer) if question and answer else None


# ---- loading the bank --------------------------------------------------------------------


def tip_files(tips_dir: Path) -> list[Path]:
    return sorted(p for p in tips_dir.glob("*.yaml") if not p.name.startswith("_"))


def parse_tip_file(path: Path, refs: References) -> tuple[list[Tip], list[BankIssue]]:
    """Tips of one file; a file that cannot be read yields issues and no tips."""
    issues: list[BankIssue] = []
    try:
        data = read_yaml(path)
    except DataFileError as exc:
        return [], [BankIssue(path.name, f"第 {exc.line} 行" if exc.line else "", f"{exc.message}（整个文件已跳过）")]
    if not isinstance(data, dict) or not isinstance(data.get("tips"), list):
        return [], [BankIssue(path.name, "tips", "顶层需要 tips: 列表（可选 topic: 默认主题）")]
    default_topic = data.get("topic") if isinstance(data.get("topic"), str) else None
    tips: list[Tip] = []
    for index, raw in enumerate(data["tips"]):
        label = f"tips[{index}]"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label += f" ({raw['id']})"
        tip = _TipParser(path.name, label, refs, issues).parse(raw, default_topic)
        if tip is not None:
            tips.append(tip)
    return tips, issues


def load_bank(tips_dir: Path, refs: References | None = None) -> TipBank:
    """Every valid tip in `tips_dir`; duplicate ids keep the first and report the rest."""
    refs = refs or References()
    issues: list[BankIssue] = []
    tips: list[Tip] = []
    seen: dict[str, str] = {}
    if not tips_dir.is_dir():
        return TipBank(tips=(), topics=refs.topics or {}, issues=[BankIssue(str(tips_dir), "", "提示目录不存在")])
    for path in tip_files(tips_dir):
        file_tips, file_issues = parse_tip_file(path, refs)
        issues.extend(file_issues)
        for tip in file_tips:
            if tip.id in seen:
                issues.append(BankIssue(path.name, f"id {tip.id}", f"与 {seen[tip.id]} 中的提示重复，已跳过"))
                continue
            seen[tip.id] = path.name
            tips.append(tip)
    topics = refs.topics if refs.topics is not None else {t.topic: {"zh": t.topic, "en": t.topic} for t in tips}
    order = {topic: i for i, topic in enumerate(topics)}
    tips.sort(key=lambda t: order.get(t.topic, len(order)))  # stable: file order within a topic
    return TipBank(tips=tuple(tips), topics=topics, issues=issues)


def load_bank_for(knowledge_dir: Path) -> TipBank:
    """The shipped layout: knowledge/tips checked against sources, topics, criteria, scenarios."""
    tips_dir = knowledge_dir / "tips"
    refs, ref_issues = load_references(knowledge_dir, tips_dir)
    bank = load_bank(tips_dir, refs)
    bank.issues[:0] = ref_issues
    return bank
