"""Role-play scenarios as data: the schema, loading and validation of `knowledge/scenarios/*.yaml`.

Why data: a sales manager adds a scenario by dropping in a YAML file, so every
customer line, cue word and rubric criterion lives there, not in code. Files
are read through `bot.datafiles`, so a bad file is reported with its name, the
exact field and the line (`kickback.yaml: rubric[2].weight: …（第 41 行）`) and
skipped; the other scenarios still load. Rubric ids must be registered in the
shared criteria.yaml (`bot.coach.criteria`). Rubric
sources quote the material verbatim (`{doc, quote}`); the quote is checked
against the source file here and resolved to a citation (title + location)
through the knowledge base, so citations follow the chunking wherever it goes.
The schema is documented for managers in `knowledge/scenarios/README.md`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping

from bot.coach.criteria import CRITERIA_FILE, Criteria, load_criteria  # re-exported
from bot.coach.practice.scenario_types import (  # re-exported: callers import the types from here
    ActRules,
    RedLine,
    DEFAULT_AVOID_PENALTY,
    DEFAULT_GOAL_RESISTANCE,
    DEFAULT_WALK_AWAY_AT,
    DIFFICULTIES,
    HARMLESS,
    POLARITIES,
    Avoid,
    Beat,
    Brief,
    Check,
    Criterion,
    CriterionInfo,
    EndConditions,
    Guarded,
    LabelledSentences,
    Persona,
    Scenario,
    ScenarioCatalog,
    ScenarioError,
    Signals,
    SourceRef,
    SourceText,
)
from bot.coach.types import Citation
from bot.datafiles import DataFile, DataFileError, Fields, read_yaml
from bot.text.chars import CJK_TEXT

SIGNALS_FILE = "signals.yaml"
ACTS_FILE = "acts.yaml"
RED_LINES_FILE = "red_lines.yaml"
RED_LINE_EXAMPLES_FILE = "red_line_examples.yaml"
POLARITY_EXAMPLES_FILE = "polarity_examples.yaml"
RESERVED_FILES = frozenset(
    {CRITERIA_FILE, SIGNALS_FILE, ACTS_FILE, RED_LINES_FILE, RED_LINE_EXAMPLES_FILE, POLARITY_EXAMPLES_FILE}
)
QUOTE_MIN, QUOTE_MAX = 10, 60
RUBRIC_MIN, RUBRIC_MAX = 3, 6
REACTION_KINDS = ("improper", "pushed", "ignored", "vague")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,39}")


_CJK_GAP = re.compile(rf"(?<=[{CJK_TEXT}])\s+(?=[{CJK_TEXT}])")


def _tidy(text: str) -> str:
    """Strip, and drop the spaces YAML's folded lines leave between Chinese characters."""
    return _CJK_GAP.sub("", text.strip())


def _fields(doc: DataFile | Any, file: str) -> tuple[Fields, Any]:
    """Typed reads for a parsed file (with its lines) or for data built in code (without)."""
    if isinstance(doc, DataFile):
        return doc.fields(_tidy), doc.data
    return Fields(file, clean=_tidy), doc


# ---------------------------------------------------------------- shared files


def _patterns(f: Fields, data: dict, key: str, where: str, *, min_items: int = 0) -> tuple[re.Pattern[str], ...]:
    """Regular expressions, each checked so that a typo names its line instead of failing later."""
    out = []
    values = f.texts(data, key, where, min_items=min_items)
    for i, text in enumerate(values):
        try:
            out.append(re.compile(text))
        except re.error as exc:
            raise f.fail(f"{where}.{key}[{i}]" if where else f"{key}[{i}]", f"不是合法的正则表达式：{exc}", data.get(key), i) from exc
    return tuple(out)


def load_act_rules(scenarios_dir: Path) -> ActRules:
    """acts.yaml: the words that make a sentence negated, a question or vague; chatter; time phrases."""
    path = scenarios_dir / ACTS_FILE
    if not path.exists():
        return ActRules()
    doc = read_yaml(path)
    f = doc.fields()
    data = f.root(doc.data)
    pol = f.section(data, "polarity", "")
    return ActRules(
        negators=f.texts(pol, "negators", "polarity"),
        topics=f.texts(pol, "topics", "polarity", min_items=0),
        concessions=f.texts(pol, "concessions", "polarity", min_items=0),
        silences=f.texts(pol, "silences", "polarity", min_items=0),
        verdicts=f.texts(pol, "verdicts", "polarity", min_items=0),
        conditions=f.texts(pol, "conditions", "polarity", min_items=0),
        not_negation=f.texts(pol, "not_negation", "polarity", min_items=0),
        asks=f.texts(pol, "asks", "polarity"),
        tag_questions=f.texts(pol, "tag_questions", "polarity", min_items=0),
        proposals=f.texts(pol, "proposals", "polarity", min_items=0),
        vague=f.texts(pol, "vague", "polarity", min_items=0),
        specifics=_patterns(f, pol, "specifics", "polarity"),
        smalltalk=f.texts(data, "smalltalk", "", min_items=0),
        times=_patterns(f, data, "times", ""),
    )


def load_red_lines(scenarios_dir: Path, sources: dict[str, SourceText]) -> tuple[RedLine, ...]:
    """red_lines.yaml: the shared compliance red lines, each with the rule it breaks (quoted verbatim)."""
    path = scenarios_dir / RED_LINES_FILE
    if not path.exists():
        return ()
    doc = read_yaml(path)
    f = doc.fields()
    data = f.root(doc.data)
    out: list[RedLine] = []
    for i, raw in enumerate(f.items(data, "red_lines", "")):
        where = f"red_lines[{i}]"
        rule = f.section(raw, "rule", where)
        together = tuple(
            tuple(f.texts(groups, name, f"{where}.together[{k}]") for name in groups)
            for k, groups in enumerate(f.items(raw, "together", where))
        )
        line = RedLine(
            id=f.text(raw, "id", where),
            zh=f.text(raw, "zh", where),
            en=f.text(raw, "en", where, required=False),
            rule=_parse_source(f, rule, f"{where}.rule", sources),
            patterns=_patterns(f, raw, "patterns", where),
            questions=f.flag(raw, "questions", where),
            together=together,
            across_sentences=f.flag(raw, "across_sentences", where),
            unless=f.texts(raw, "unless", where, min_items=0),
        )
        if not (line.patterns or line.together):
            raise f.fail(f"{where}.patterns", "至少要写 patterns 或 together 中的一项，否则这条红线查不出来", raw)
        out.append(line)
    return tuple(out)


def load_red_line_examples(scenarios_dir: Path, red_lines: tuple[RedLine, ...]) -> LabelledSentences | None:
    """red_line_examples.yaml: rep sentences labelled with the red line they cross, or harmless, for the model by wording."""
    path = scenarios_dir / RED_LINE_EXAMPLES_FILE
    if not path.exists():
        return None
    f, data = _fields(read_yaml(path), RED_LINE_EXAMPLES_FILE)
    data = f.root(data, "（threshold / crossing / harmless）", empty_ok=False)
    known = {line.id for line in red_lines}
    crossing = f.section(data, "crossing", "")
    for line_id in crossing:
        if line_id not in known:
            raise f.fail(f"crossing.{line_id}", f"red_lines.yaml 里没有这条红线（有：{'、'.join(sorted(known)) or '无'}）", crossing, line_id)
    labelled = [(line_id, f.texts(crossing, line_id, "crossing")) for line_id in crossing]
    labelled.append((HARMLESS, f.texts(data, "harmless", "")))
    return LabelledSentences(tuple(labelled), threshold=f.number(data, "threshold", "", lo=0.5, hi=0.95, default=0.8))


def load_polarity_examples(scenarios_dir: Path) -> LabelledSentences | None:
    """polarity_examples.yaml: rep sentences labelled with how a move was made (did / refused / asked / vague)."""
    path = scenarios_dir / POLARITY_EXAMPLES_FILE
    if not path.exists():
        return None
    f, data = _fields(read_yaml(path), POLARITY_EXAMPLES_FILE)
    data = f.root(data, "（threshold / did / refused / asked / vague）", empty_ok=False)
    for key in data:
        if key != "threshold" and key not in POLARITIES:
            raise f.fail(str(key), f"只能是 threshold 或 {' / '.join(POLARITIES)}", data, key)
    labelled = tuple((polarity, f.texts(data, polarity, "", min_items=0)) for polarity in POLARITIES)
    return LabelledSentences(
        labelled, threshold=f.number(data, "threshold", "", lo=0.4, hi=0.95, default=0.6), strength=10.0
    )


def load_signals(scenarios_dir: Path) -> tuple[Signals, dict[str, tuple[str, ...]]]:
    """Default signals and reaction lines shared by every simulated customer (signals.yaml)."""
    path = scenarios_dir / SIGNALS_FILE
    if not path.is_file():
        return Signals(), {}
    f, data = _fields(read_yaml(path), SIGNALS_FILE)
    data = f.root(data, "（signals / reactions / difficulty / moods）", empty_ok=False)
    signals = _read_signals(f, data, "", Signals())
    reactions = _read_reactions(f, data, "", {})
    factors: dict[str, tuple[float, float]] = {}
    styles: dict[str, str] = {}
    raw = f.section(data, "difficulty", "", required=False)
    for level, value in raw.items():
        where = f"difficulty.{level}"
        if level not in DIFFICULTIES:
            raise f.fail(where, f"只能是 {' / '.join(DIFFICULTIES)}", raw, level)
        value = f.mapping(value, where, raw, level)
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


def _read_signals(f: Fields, parent: dict, where: str, base: Signals) -> Signals:
    """The `signals:` section of `parent`, extending `base`."""
    raw = f.section(parent, "signals", where, required=False)
    path = f"{where}.signals" if where else "signals"
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


def _read_reactions(f: Fields, parent: dict, where: str, base: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The `reactions:` section of `parent`, overriding `base` kind by kind."""
    raw = f.section(parent, "reactions", where, required=False)
    path = f"{where}.reactions" if where else "reactions"
    out = dict(base)
    for key in raw:
        if key not in REACTION_KINDS:
            raise f.fail(f"{path}.{key}", f"只能是 {' / '.join(REACTION_KINDS)}", raw, key)
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
    doc: DataFile | Any,
    file: str,
    criteria: Mapping[str, CriterionInfo],
    sources: dict[str, SourceText],
    base_signals: Signals,
    base_reactions: dict[str, tuple[str, ...]],
) -> Scenario:
    """Build a Scenario from a parsed file (or plain data); raises ScenarioError naming the first bad field."""
    f, data = _fields(doc, file)
    data = f.root(data, empty_ok=False)
    scenario_id = f.text(data, "id", "")
    if not _ID_RE.fullmatch(scenario_id):
        raise f.fail("id", f"只能用小写英文字母、数字、短横线和下划线（2–40 个字符），收到 {scenario_id!r}", data, "id")
    difficulty = f.text(data, "difficulty", "")
    if difficulty not in DIFFICULTIES:
        raise f.fail("difficulty", f"只能是 {' / '.join(DIFFICULTIES)}，收到 {difficulty!r}", data, "difficulty")
    brief_raw = f.section(data, "brief", "")
    brief = Brief(f.text(brief_raw, "situation", "brief"), f.text(brief_raw, "goal", "brief"))
    persona = _parse_persona(f, data)
    beats = _parse_beats(f, data)
    signals = _read_signals(f, data, "", base_signals)
    reactions = _read_reactions(f, data, "", base_reactions)
    for kind in REACTION_KINDS:
        if not reactions.get(kind):
            raise f.fail(f"reactions.{kind}", "缺少客户的反应台词（signals.yaml 里也没有默认值）", data, "reactions")
    rubric = _parse_rubric(f, data, criteria, sources, beats)
    end_raw = f.section(data, "end", "")
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


def _parse_persona(f: Fields, data: dict) -> Persona:
    p = f.section(data, "persona", "")
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
            raise f.fail(f"{where}.id", f"{beat_id!r} 重复了", raw, "id")
        seen.add(beat_id)
        guarded = None
        if raw.get("guarded") is not None:
            g = f.section(raw, "guarded", where)
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
            negatives=f.texts(raw, "not", where, min_items=0),
            label=f.text(raw, "label", where, required=False),
            refusal=f.flag(raw, "refusal", where),
        )
        if beat.bad and not beat.cues:
            raise f.fail(f"{where}.cues", "会让客户反感的动作（resistance 为正或 improper）必须写线索词，否则无法可靠识别", raw)
        if beat.goal and beat.bad:
            raise f.fail(f"{where}.goal", "会让客户反感的动作不能算作达成目标", raw, "goal")
        beats.append(beat)
    if not any(b.goal for b in beats):
        raise f.fail("beats", "至少要有一个 goal: true 的动作，客户才会“被说服”", data, "beats")
    return tuple(beats)


def _parse_rubric(
    f: Fields, data: dict, criteria: Mapping[str, CriterionInfo], sources: dict[str, SourceText], beats: tuple[Beat, ...] = ()
) -> tuple[Criterion, ...]:
    raw_items = f.items(data, "rubric", "")
    if not RUBRIC_MIN <= len(raw_items) <= RUBRIC_MAX:
        raise f.fail("rubric", f"需要 {RUBRIC_MIN}–{RUBRIC_MAX} 条评分标准，现在是 {len(raw_items)} 条", data, "rubric")
    rubric: list[Criterion] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_items):
        where = f"rubric[{i}]"
        cid = f.text(raw, "id", where)
        if cid not in criteria:
            raise f.fail(f"{where}.id", f"{cid!r} 不在 criteria.yaml 里（可用：{', '.join(sorted(criteria))}）", raw, "id")
        if cid in seen:
            raise f.fail(f"{where}.id", f"{cid!r} 在本场景里重复了", raw, "id")
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
        moves = f.texts(raw, "moves", where, min_items=0)
        known = {b.id for b in beats}
        for j, move in enumerate(moves):
            if known and move not in known:
                raise f.fail(f"{where}.moves[{j}]", f"{move!r} 不是本场景 beats 里的动作（可用：{', '.join(sorted(known))}）", raw.get("moves"), j)
        refs = []
        for j, s in enumerate(f.items(raw, "sources", where, min_items=1)):
            refs.append(_parse_source(f, s, f"{where}.sources[{j}]", sources))
        rubric.append(
            Criterion(
                id=cid,
                name=criteria[cid].zh,
                weight=weight,
                good=f.text(raw, "good", where),
                checks=tuple(checks),
                avoid=tuple(avoid),
                example=f.text(raw, "example", where),
                sources=tuple(refs),
                info=criteria[cid],
                moves=moves,
            )
        )
    total = sum(c.weight for c in rubric)
    if total != 100:
        raise f.fail(f"rubric[{len(rubric) - 1}].weight", f"所有 weight 加起来应该是 100，现在是 {total}", raw_items[-1], "weight")
    return tuple(rubric)


def _parse_source(f: Fields, raw: dict, where: str, sources: dict[str, SourceText]) -> SourceRef:
    doc = f.text(raw, "doc", where)
    quote = f.text(raw, "quote", where, verbatim=True)
    if doc not in sources:
        known = ", ".join(sorted(sources)) or "（资料清单为空）"
        raise f.fail(f"{where}.doc", f"{doc!r} 不在 knowledge/sources/manifest.yaml 里（可用：{known}）", raw, "doc")
    if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
        raise f.fail(f"{where}.quote", f"引文应为 {QUOTE_MIN}–{QUOTE_MAX} 个字，现在是 {len(quote)} 个", raw, "quote")
    text = sources[doc].text
    if text and quote not in text:
        raise f.fail(f"{where}.quote", f"在《{sources[doc].title}》原文里找不到这段话（必须逐字摘抄）：{quote!r}", raw, "quote")
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
    except DataFileError as exc:
        catalog.errors.append(exc)
        return catalog
    sources = load_source_texts(sources_dir)
    catalog.sources = sources
    try:
        catalog.acts = load_act_rules(scenarios_dir)
    except DataFileError as exc:
        catalog.errors.append(exc)
    try:
        catalog.red_lines = cite_red_lines(load_red_lines(scenarios_dir, sources), sources, resolver)
        catalog.red_line_examples = load_red_line_examples(scenarios_dir, catalog.red_lines)
    except DataFileError as exc:
        catalog.errors.append(exc)
    try:
        catalog.polarity_examples = load_polarity_examples(scenarios_dir)
    except DataFileError as exc:
        catalog.errors.append(exc)
    for path in scenario_files(scenarios_dir):
        try:
            doc = read_yaml(path)
            scenario = parse_scenario(doc, path.name, catalog.criteria, sources, signals, reactions)
        except DataFileError as exc:
            catalog.errors.append(exc)
            continue
        if scenario.id in catalog.scenarios:
            other = catalog.scenarios[scenario.id].file
            catalog.errors.append(doc.fields().fail("id", f"{scenario.id!r} 已被 {other} 使用", doc.data, "id"))
            continue
        catalog.scenarios[scenario.id] = resolve_citations(scenario, sources, resolver) if resolver else scenario
    return catalog


def cite_red_lines(
    red_lines: tuple[RedLine, ...] | list[RedLine], sources: dict[str, SourceText], resolver: CitationResolver | None
) -> tuple[RedLine, ...]:
    """Each red line's rule with its citation: the chunk's location when a resolver finds it, else the title."""
    return tuple(replace(r, rule=_cite(r.rule, sources, resolver)) for r in red_lines)


def _cite(ref: SourceRef, sources: dict[str, SourceText], resolver: CitationResolver | None) -> SourceRef:
    found = resolver(ref.doc, ref.quote) if resolver else None
    title = sources[ref.doc].title if ref.doc in sources else ref.doc
    return replace(ref, citation=Citation(n=1, doc=ref.doc, title=found.title if found else title,
                                          location=found.location if found else "", text=ref.quote))


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
    "DIFFICULTIES", "ActRules", "RedLine", "LabelledSentences", "cite_red_lines", "load_act_rules", "load_red_lines", "load_red_line_examples", "load_polarity_examples", "Avoid", "Beat", "Brief", "Check", "CitationResolver", "Criteria", "Criterion", "CriterionInfo",
    "EndConditions", "Guarded", "Persona", "Scenario", "ScenarioCatalog", "ScenarioError", "Signals",
    "SourceRef", "SourceText", "knowledge_resolver", "load_catalog", "load_criteria", "load_signals",
    "load_source_texts", "parse_scenario", "resolve_citations", "scenario_files",
]
