"""Role-play scenarios as data: the schema, loading and validation of `knowledge/scenarios/*.yaml`.

Why data: a sales manager adds a scenario by dropping in a YAML file, so every
customer line, cue word and rubric criterion lives there, not in code. A bad
file is reported with its name and the exact field (`kickback.yaml:
rubric[2].weight: …`) and skipped; the other scenarios still load. Rubric
sources quote the material verbatim (`{doc, quote}`); the quote is checked
against the source file here and resolved to a citation (title + location)
through the knowledge base, so citations follow the chunking wherever it goes.
The schema is documented for managers in `knowledge/scenarios/README.md`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from bot.coach.practice.scenario_types import (  # re-exported: callers import the types from here
    DEFAULT_AVOID_PENALTY,
    DEFAULT_GOAL_RESISTANCE,
    DEFAULT_WALK_AWAY_AT,
    DIFFICULTIES,
    Avoid,
    Beat,
    Brief,
    Check,
    Criterion,
    EndConditions,
    Guarded,
    Persona,
    Scenario,
    ScenarioCatalog,
    Signals,
    SourceRef,
    SourceText,
)
from bot.coach.criteria import CRITERIA_FILE, CriterionInfo, load_criteria
from bot.coach.types import Citation
from bot.datafiles import DataFileError, Fields, read_yaml

SIGNALS_FILE = "signals.yaml"
RESERVED_FILES = frozenset({CRITERIA_FILE, SIGNALS_FILE})
QUOTE_MIN, QUOTE_MAX = 10, 60
RUBRIC_MIN, RUBRIC_MAX = 3, 6
REACTION_KINDS = ("improper", "pushed", "ignored")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,39}")


ScenarioError = DataFileError  # a bad scenario file: "file: field: what（第 N 行）"


# ---------------------------------------------------------------- shared files


def load_signals(scenarios_dir: Path) -> tuple[Signals, dict[str, tuple[str, ...]]]:
    """Default signals and reaction lines shared by every simulated customer (signals.yaml)."""
    path = scenarios_dir / SIGNALS_FILE
    if not path.is_file():
        return Signals(), {}
    document = read_yaml(path, SIGNALS_FILE)
    f = Fields(SIGNALS_FILE, document)
    data = f.mapping(document, "")
    signals = _read_signals(f, data.get("signals") or {}, "signals", Signals())
    reactions = _read_reactions(f, data.get("reactions") or {}, "reactions", {})
    factors: dict[str, tuple[float, float]] = {}
    styles: dict[str, str] = {}
    raw = f.mapping(data.get("difficulty") or {}, "difficulty")
    for level, value in raw.items():
        where = f"difficulty.{level}"
        if level not in DIFFICULTIES:
            raise f.fail(where, f"只能是 {' / '.join(DIFFICULTIES)}")
        value = f.mapping(value, where)
        factors[level] = (
            f.number(value, "raise", where, lo=0.1, hi=5, default=1.0),
            f.number(value, "lower", where, lo=0.1, hi=5, default=1.0),
        )
        styles[level] = f.text(value, "style", where, required=False)
    moods = []
    for i, item in enumerate(f.items(data, "moods", "")):
        moods.append((f.integer(item, "at", f"moods[{i}]", lo=0, hi=100), f.text(item, "text", f"moods[{i}]")))
    moods.sort(key=lambda m: m[0], reverse=True)
    return replace(signals, factors=factors, styles=styles, moods=tuple(moods)), reactions


def _read_signals(f: Fields, raw: Any, path: str, base: Signals) -> Signals:
    raw = f.mapping(raw, path)
    return Signals(
        improper_cues=base.improper_cues + f.texts(raw, "improper_cues", path, min_items=0),
        push_cues=base.push_cues + f.texts(raw, "push_cues", path, min_items=0),
        improper=f.integer(raw, "improper", path, lo=0, hi=100, default=base.improper),
        push=f.integer(raw, "push", path, lo=0, hi=100, default=base.push),
        ignored=f.integer(raw, "ignored", path, lo=0, hi=100, default=base.ignored),
        factors=base.factors,
        styles=base.styles,
        moods=base.moods,
    )


def _read_reactions(f: Fields, raw: Any, path: str, base: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    raw = f.mapping(raw, path)
    out = dict(base)
    for key in raw:
        if key not in REACTION_KINDS:
            raise f.fail(f"{path}.{key}", f"只能是 {' / '.join(REACTION_KINDS)}")
        out[key] = f.texts(raw, key, path, one_or_list=True)
    return out


# ---------------------------------------------------------------- sources




def load_source_texts(sources_dir: Path, max_bytes: int = 20 * 1_048_576) -> dict[str, SourceText]:
    """Manifest documents by id with their text, read as ingestion reads them (any format, any encoding).

    A document that cannot be read has no text: its quotes are then not checked.
    """
    from bot.corpus.documents import ManifestError, load_manifest
    from bot.corpus.library import read_manifest_texts

    try:
        manifest = load_manifest(sources_dir)
        texts, _ = read_manifest_texts(sources_dir, max_bytes)
    except ManifestError:
        return {}
    return {e.doc_id: SourceText(e.doc_id, e.title, texts.get(e.doc_id, "")) for e in manifest.values()}


CitationResolver = Callable[[str, str], Citation | None]
"""(doc_id, quote) -> the citation of the chunk that contains the quote, or None."""


def knowledge_resolver(knowledge: Any) -> CitationResolver:
    """Resolve quotes through the knowledge base's `locate` (the chunk of that doc holding the quote).

    Quotes are validated as verbatim when a scenario loads, so a direct lookup
    is exact and needs no embedding; the chunk's location follows re-chunking.
    """

    cache: dict[tuple[str, str], Citation | None] = {}

    def resolve(doc_id: str, quote: str) -> Citation | None:
        if (doc_id, quote) not in cache:
            cache[(doc_id, quote)] = _locate(doc_id, quote)
        return cache[(doc_id, quote)]

    def _locate(doc_id: str, quote: str) -> Citation | None:
        try:
            hit = knowledge.locate(doc_id, quote)
        except Exception:  # an unindexed or broken store must not stop scenarios from loading
            return None
        if hit is None:
            return None
        return Citation(n=0, doc=doc_id, title=hit.title, location=hit.location, text=quote)

    return resolve


# ---------------------------------------------------------------- scenario parsing


def parse_scenario(
    data: Any,
    file: str,
    criteria: dict[str, CriterionInfo],
    sources: dict[str, SourceText],
    base_signals: Signals,
    base_reactions: dict[str, tuple[str, ...]],
) -> Scenario:
    """Build a Scenario from parsed YAML; raises ScenarioError naming the first bad field."""
    f = Fields(file, data)
    data = f.mapping(data, "")
    scenario_id = f.text(data, "id", "")
    if not _ID_RE.fullmatch(scenario_id):
        raise f.fail("id", f"只能用小写英文字母、数字、短横线和下划线（2–40 个字符），收到 {scenario_id!r}")
    difficulty = f.text(data, "difficulty", "")
    if difficulty not in DIFFICULTIES:
        raise f.fail("difficulty", f"只能是 {' / '.join(DIFFICULTIES)}，收到 {difficulty!r}")
    brief_raw = f.mapping(data.get("brief"), "brief")
    brief = Brief(f.text(brief_raw, "situation", "brief"), f.text(brief_raw, "goal", "brief"))
    persona = _parse_persona(f, data.get("persona"))
    beats = _parse_beats(f, data)
    signals = _read_signals(f, data.get("signals") or {}, "signals", base_signals)
    reactions = _read_reactions(f, data.get("reactions") or {}, "reactions", base_reactions)
    for kind in REACTION_KINDS:
        if not reactions.get(kind):
            raise f.fail(f"reactions.{kind}", "缺少客户的反应台词（signals.yaml 里也没有默认值）")
    rubric = _parse_rubric(f, data, criteria, sources)
    end_raw = f.mapping(data.get("end"), "end")
    end = EndConditions(
        max_turns=f.integer(end_raw, "max_turns", "end", lo=2, hi=30),
        goal_line=f.text(end_raw, "goal_line", "end"),
        turn_limit_line=f.text(end_raw, "turn_limit_line", "end"),
        goal_resistance=f.integer(end_raw, "goal_resistance", "end", lo=0, hi=100, default=DEFAULT_GOAL_RESISTANCE),
    )
    return Scenario(
        id=scenario_id,
        title=f.text(data, "title", ""),
        topic=f.text(data, "topic", ""),
        difficulty=difficulty,
        brief=brief,
        persona=persona,
        opening=f.text(data, "opening", ""),
        beats=beats,
        fallbacks=f.texts(data, "fallbacks", ""),
        reactions=reactions,
        signals=signals,
        rubric=rubric,
        end=end,
        file=file,
    )


def _parse_persona(f: Fields, raw: Any) -> Persona:
    p = f.mapping(raw, "persona")
    return Persona(
        name=f.text(p, "name", "persona"),
        role=f.text(p, "role", "persona"),
        company=f.text(p, "company", "persona"),
        personality=f.text(p, "personality", "persona"),
        concerns=f.texts(p, "concerns", "persona"),
        motives=f.texts(p, "motives", "persona"),
        resistance=f.integer(p, "resistance", "persona", lo=0, hi=100),
        ends_meeting=f.texts(p, "ends_meeting", "persona"),
        walk_away_line=f.text(p, "walk_away_line", "persona"),
        walk_away_at=f.integer(p, "walk_away_at", "persona", lo=1, hi=100, default=DEFAULT_WALK_AWAY_AT),
    )


def _parse_beats(f: Fields, data: dict) -> tuple[Beat, ...]:
    beats: list[Beat] = []
    seen: set[str] = set()
    for i, raw in enumerate(f.items(data, "beats", "", min_items=2)):
        where = f"beats[{i}]"
        beat_id = f.text(raw, "id", where)
        if beat_id in seen:
            raise f.fail(f"{where}.id", f"{beat_id!r} 重复了")
        seen.add(beat_id)
        guarded = None
        if raw.get("guarded") is not None:
            g = f.mapping(raw["guarded"], f"{where}.guarded")
            guarded = Guarded(
                at=f.integer(g, "at", f"{where}.guarded", lo=0, hi=100),
                reply=f.text(g, "reply", f"{where}.guarded"),
                resistance=f.integer(g, "resistance", f"{where}.guarded", lo=-100, hi=100, default=0),
            )
        beat = Beat(
            id=beat_id,
            moves=f.texts(raw, "moves", where),
            cues=f.texts(raw, "cues", where, min_items=0),
            replies=f.texts(raw, "reply", where, one_or_list=True),
            resistance=f.integer(raw, "resistance", where, lo=-100, hi=100, default=0),
            goal=f.flag(raw, "goal", where),
            improper=f.flag(raw, "improper", where),
            guarded=guarded,
        )
        if beat.bad and not beat.cues:
            raise f.fail(f"{where}.cues", "会让客户反感的动作（resistance 为正或 improper）必须写线索词，否则无法可靠识别")
        if beat.goal and beat.bad:
            raise f.fail(f"{where}.goal", "会让客户反感的动作不能算作达成目标")
        beats.append(beat)
    if not any(b.goal for b in beats):
        raise f.fail("beats", "至少要有一个 goal: true 的动作，客户才会“被说服”")
    return tuple(beats)


def _parse_rubric(
    f: Fields, data: dict, criteria: dict[str, CriterionInfo], sources: dict[str, SourceText]
) -> tuple[Criterion, ...]:
    raw_items = f.items(data, "rubric", "")
    if not RUBRIC_MIN <= len(raw_items) <= RUBRIC_MAX:
        raise f.fail("rubric", f"需要 {RUBRIC_MIN}–{RUBRIC_MAX} 条评分标准，现在是 {len(raw_items)} 条")
    rubric: list[Criterion] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_items):
        where = f"rubric[{i}]"
        cid = f.text(raw, "id", where)
        if cid not in criteria:
            raise f.fail(f"{where}.id", f"{cid!r} 不在 criteria.yaml 里（可用：{', '.join(sorted(criteria))}）")
        if cid in seen:
            raise f.fail(f"{where}.id", f"{cid!r} 在本场景里重复了")
        seen.add(cid)
        weight = f.integer(raw, "weight", where, lo=1, hi=100)
        checks = []
        for j, c in enumerate(f.items(raw, "checks", where, min_items=1)):
            cw = f"{where}.checks[{j}]"
            checks.append(Check(f.text(c, "label", cw), f.texts(c, "cues", cw)))
        avoid = []
        for j, a in enumerate(f.items(raw, "avoid", where)):
            aw = f"{where}.avoid[{j}]"
            avoid.append(
                Avoid(f.text(a, "label", aw), f.texts(a, "cues", aw), f.number(a, "penalty", aw, lo=0, hi=1, default=DEFAULT_AVOID_PENALTY))
            )
        refs = []
        for j, s in enumerate(f.items(raw, "sources", where, min_items=1)):
            refs.append(_parse_source(f, s, f"{where}.sources[{j}]", sources))
        rubric.append(
            Criterion(
                id=cid,
                name=criteria[cid].zh,
                name_en=criteria[cid].en,
                weight=weight,
                good=f.text(raw, "good", where),
                checks=tuple(checks),
                avoid=tuple(avoid),
                example=f.text(raw, "example", where),
                sources=tuple(refs),
            )
        )
    total = sum(c.weight for c in rubric)
    if total != 100:
        raise f.fail(f"rubric[{len(rubric) - 1}].weight", f"所有 weight 加起来应该是 100，现在是 {total}")
    return tuple(rubric)


def _parse_source(f: Fields, raw: dict, where: str, sources: dict[str, SourceText]) -> SourceRef:
    doc = f.text(raw, "doc", where)
    quote = f.text(raw, "quote", where, verbatim=True)
    if doc not in sources:
        known = ", ".join(sorted(sources)) or "（资料清单为空）"
        raise f.fail(f"{where}.doc", f"{doc!r} 不在 knowledge/sources/manifest.yaml 里（可用：{known}）")
    if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
        raise f.fail(f"{where}.quote", f"引文应为 {QUOTE_MIN}–{QUOTE_MAX} 个字，现在是 {len(quote)} 个")
    text = sources[doc].text
    if text and quote not in text:
        raise f.fail(f"{where}.quote", f"在《{sources[doc].title}》原文里找不到这段话（必须逐字摘抄）：{quote!r}")
    return SourceRef(doc=doc, quote=quote)


# ---------------------------------------------------------------- loading


def scenario_files(scenarios_dir: Path) -> list[Path]:
    if not scenarios_dir.is_dir():
        return []
    return sorted(p for p in scenarios_dir.glob("*.yaml") if p.name not in RESERVED_FILES and not p.name.startswith("_"))


def load_catalog(
    scenarios_dir: Path,
    sources_dir: Path,
    resolver: CitationResolver | None = None,
) -> ScenarioCatalog:
    """Load every scenario file; a bad file is reported in `errors` and skipped, never fatal.

    With a `resolver`, every rubric quote is resolved to its chunk's citation now;
    without one, citations are resolved later per scenario (`resolve_citations`),
    which keeps start-up fast.
    """
    catalog = ScenarioCatalog()
    try:
        catalog.criteria = load_criteria(scenarios_dir)
        signals, reactions = load_signals(scenarios_dir)
    except ScenarioError as exc:
        catalog.errors.append(exc)
        return catalog
    sources = load_source_texts(sources_dir)
    catalog.sources = sources
    for path in scenario_files(scenarios_dir):
        try:
            scenario = parse_scenario(read_yaml(path, path.name), path.name, catalog.criteria, sources, signals, reactions)
        except ScenarioError as exc:
            catalog.errors.append(exc)
            continue
        if scenario.id in catalog.scenarios:
            other = catalog.scenarios[scenario.id].file
            catalog.errors.append(ScenarioError(path.name, "id", f"{scenario.id!r} 已被 {other} 使用"))
            continue
        catalog.scenarios[scenario.id] = resolve_citations(scenario, sources, resolver) if resolver else scenario
    return catalog


def resolve_citations(scenario: Scenario, sources: dict[str, SourceText], resolver: CitationResolver | None) -> Scenario:
    """Attach a Citation to every rubric source: the knowledge base's chunk location, else the document title."""
    cache: dict[tuple[str, str], Citation | None] = {}
    rubric: list[Criterion] = []
    for criterion in scenario.rubric:
        refs: list[SourceRef] = []
        for n, ref in enumerate(criterion.sources, start=1):
            key = (ref.doc, ref.quote)
            if key not in cache:
                cache[key] = resolver(ref.doc, ref.quote) if resolver else None
            found = cache[key]
            title = sources[ref.doc].title if ref.doc in sources else ref.doc
            citation = Citation(
                n=n,
                doc=ref.doc,
                title=found.title if found else title,
                location=found.location if found else "",
                text=ref.quote,
            )
            refs.append(replace(ref, citation=citation))
        rubric.append(replace(criterion, sources=tuple(refs)))
    return replace(scenario, rubric=tuple(rubric))


__all__ = [
    "DIFFICULTIES", "Avoid", "Beat", "Brief", "Check", "CitationResolver", "Criterion", "CriterionInfo",
    "EndConditions", "Guarded", "Persona", "Scenario", "ScenarioCatalog", "ScenarioError", "Signals",
    "SourceRef", "SourceText", "knowledge_resolver", "load_catalog", "load_criteria", "load_signals",
    "load_source_texts", "parse_scenario", "resolve_citations", "scenario_files",
]
