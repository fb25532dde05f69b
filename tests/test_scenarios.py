"""Scenario files: the shipped set is complete and grounded; bad files are reported by file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.coach.practice.scenarios import (
    DIFFICULTIES,
    ScenarioCatalog,
    knowledge_resolver,
    load_catalog,
    load_source_texts,
)
from bot.settings import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "knowledge" / "scenarios"
SOURCES = PROJECT_ROOT / "knowledge" / "sources"

# The topics the issue asks for, each with the scenario that covers it.
REQUIRED = {
    "gift-no-warmth": "礼品 vs 礼物",
    "kickback-purchaser": "要好处的采购商",
    "oil-quality-dispute": "油品质量（水分、颜色）",
    "abnormal-loss": "损益超常、磅差",
    "team-decision": "团队决策找决策人",
    "private-station": "民营加油站（断油、抱团）",
    "price-no-advantage": "价格没优势",
    "first-delivery": "新客户第一车",
    "first-visit-file": "初次拜访建档",
    "small-favour": "先求小事",
    "festival-care": "节日关怀与跟进",
    "invoice-payment": "发票陷阱、不打个人账户",
}


@pytest.fixture(scope="module")
def catalog() -> ScenarioCatalog:
    return load_catalog(SCENARIOS, SOURCES)


def test_shipped_scenarios_load_and_cover_every_topic(catalog: ScenarioCatalog) -> None:
    assert catalog.errors == []
    assert len(catalog.scenarios) >= 12
    assert set(REQUIRED) <= set(catalog.scenarios)
    assert {s.difficulty for s in catalog.scenarios.values()} == set(DIFFICULTIES)
    for scenario in catalog.scenarios.values():
        assert 3 <= len(scenario.rubric) <= 6
        assert sum(c.weight for c in scenario.rubric) == 100
        assert all(c.id in catalog.criteria for c in scenario.rubric)
        assert any(b.goal for b in scenario.beats) and scenario.fallbacks
        assert any(b.bad for b in scenario.beats), f"{scenario.id}: the customer must have something to react badly to"


def test_shared_criterion_ids_aggregate_across_scenarios(catalog: ScenarioCatalog) -> None:
    used: dict[str, int] = {}
    for scenario in catalog.scenarios.values():
        for c in scenario.rubric:
            used[c.id] = used.get(c.id, 0) + 1
    for cid in ("compliance", "follow_up", "next_step", "listen_first"):
        assert used.get(cid, 0) >= 2, cid


def test_every_rubric_quote_is_verbatim_in_its_source_file(catalog: ScenarioCatalog) -> None:
    texts = load_source_texts(SOURCES)
    count = 0
    for scenario in catalog.scenarios.values():
        for criterion in scenario.rubric:
            for ref in criterion.sources:
                assert 10 <= len(ref.quote) <= 60
                assert ref.quote in texts[ref.doc].text, f"{scenario.file}: {criterion.id}: {ref.quote}"
                count += 1
    assert count >= 40


def test_quotes_resolve_to_the_chunk_location_through_the_knowledge_base(knowledge_base) -> None:
    resolved = load_catalog(SCENARIOS, SOURCES, resolver=knowledge_resolver(knowledge_base))
    assert resolved.errors == []
    citations = [c for s in resolved.scenarios.values() for crit in s.rubric for c in crit.citations]
    located = [c for c in citations if c.location]
    assert len(located) / len(citations) >= 0.9, [c.text for c in citations if not c.location]
    loss = resolved.get("abnormal-loss").criterion("acknowledge").citations[0]
    assert loss.title == "客户开发与维护" and loss.doc == "oil-customer-dev"
    # The location is the chunk's own: searching the quote finds a chunk at that location containing it.
    hit = next(h for h in knowledge_base.search(loss.text, k=8).hits if h.location == loss.location)
    assert "不能进行否认" in hit.text


# ---------------------------------------------------------------- validation errors


def _valid() -> dict:
    return yaml.safe_load((SCENARIOS / "abnormal-loss.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("criteria.yaml", "signals.yaml", "abnormal-loss.yaml"):
        shutil.copy(SCENARIOS / name, folder / name)
    return folder


def _write(folder: Path, name: str, data: dict) -> None:
    (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _errors(folder: Path) -> list[str]:
    catalog = load_catalog(folder, SOURCES)
    assert "abnormal-loss" in catalog.scenarios, "a bad file must not stop the good ones from loading"
    return [str(e) for e in catalog.errors]


def test_weights_not_summing_to_100_name_file_and_field(scenario_dir: Path) -> None:
    data = _valid()
    data["id"] = "kickback"
    data["rubric"][2]["weight"] = 35
    _write(scenario_dir, "kickback.yaml", data)
    [error] = _errors(scenario_dir)
    assert error.startswith("kickback.yaml: rubric[3].weight:") and "100" in error and "105" in error


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["rubric"][2].__setitem__("weight", "thirty"), "rubric[2].weight"),
        (lambda d: d["rubric"][1].__setitem__("id", "charm"), "rubric[1].id"),
        (lambda d: d.__setitem__("difficulty", "很难"), "difficulty"),
        (lambda d: d["persona"].pop("walk_away_line"), "persona.walk_away_line"),
        (lambda d: d["rubric"][0]["sources"][0].__setitem__("quote", "客户永远是对的，这句话资料里没有"), "rubric[0].sources[0].quote"),
        (lambda d: d["rubric"][0]["sources"][0].__setitem__("doc", "no-such-doc"), "rubric[0].sources[0].doc"),
        (lambda d: d["rubric"][0]["sources"][0].__setitem__("quote", "正面答复"), "rubric[0].sources[0].quote"),
        (lambda d: d.__setitem__("rubric", d["rubric"][:2]), "rubric"),
        (lambda d: d["beats"][5].pop("cues"), "beats[5].cues"),
        (lambda d: d["end"].__setitem__("max_turns", 0), "end.max_turns"),
        (lambda d: d["rubric"][3]["checks"][0].__setitem__("cues", []), "rubric[3].checks[0].cues"),
    ],
)
def test_each_bad_field_is_reported_with_its_path(scenario_dir: Path, mutate, field: str) -> None:
    data = _valid()
    data["id"] = "broken"
    mutate(data)
    _write(scenario_dir, "broken.yaml", data)
    [error] = _errors(scenario_dir)
    assert error.startswith(f"broken.yaml: {field}:"), error


def test_yaml_syntax_error_and_duplicate_id_are_reported(scenario_dir: Path) -> None:
    (scenario_dir / "typo.yaml").write_text("id: typo\ntitle: [unclosed\n", encoding="utf-8")
    _write(scenario_dir, "copy.yaml", _valid())  # same id as abnormal-loss.yaml
    errors = _errors(scenario_dir)
    assert any(e.startswith("typo.yaml: 第 ") and "YAML" in e for e in errors)
    assert any(e.startswith("copy.yaml: id:") and "abnormal-loss.yaml" in e for e in errors)


def test_missing_criteria_file_is_reported(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path, SOURCES)
    assert catalog.scenarios == {}
    assert str(catalog.errors[0]).startswith("criteria.yaml:")


def test_quotes_are_checked_in_office_and_gbk_sources_too(tmp_path: Path) -> None:
    from tests.fakes.office_files import make_docx

    (tmp_path / "manual.docx").write_bytes(make_docx("油品销售手册", [("磅差的处理", ["磅差超过千分之三就要查原因。"])]))
    (tmp_path / "notes.txt").write_bytes("节日问候：以公司名义给客户发祝福短信。".encode("gb18030"))
    (tmp_path / "manifest.yaml").write_text(
        "sources:\n"
        "  - {file: manual.docx, id: manual, title: 油品销售手册, kind: article}\n"
        "  - {file: notes.txt, id: notes, title: 节日问候, kind: article}\n",
        encoding="utf-8",
    )
    texts = load_source_texts(tmp_path)
    assert "磅差超过千分之三就要查原因" in texts["manual"].text  # read as ingestion reads it, not skipped
    assert "以公司名义给客户发祝福短信" in texts["notes"].text


def test_a_bad_field_names_its_line(scenario_dir: Path) -> None:
    """The one error shape of hand-edited files: file: where: what（第 N 行）."""
    text = (scenario_dir / "abnormal-loss.yaml").read_text(encoding="utf-8").replace("id: abnormal-loss", "id: lined", 1)
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("difficulty:"))
    lines[number] = "difficulty: 超难"
    (scenario_dir / "lined.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    [error] = [e for e in _errors(scenario_dir) if e.startswith("lined.yaml")]
    assert error.startswith("lined.yaml: difficulty:") and error.endswith(f"（第 {number + 1} 行）"), error
