"""The one quote→passage rule (bot.text.quotes), and the three features that cite by quote through it."""

from __future__ import annotations

from bot.coach.tips.bank import TipSource, load_bank_for
from bot.coach.tips.sources import SourceResolver
from bot.corpus.chunking import chunk_document
from bot.corpus.documents import load_manifest
from bot.corpus.hints import Hint, attach_hints, load_hints
from bot.corpus.documents import ReadLimits
from bot.corpus.reading import read_source
from bot.corpus.documents import Chunk
from bot.settings import PROJECT_ROOT
from bot.text.quotes import MIN_SHARED, fold, locate_quote, passages_holding, quote_targets

KNOWLEDGE = PROJECT_ROOT / "knowledge"
PASSAGES = [
    "礼品不要太贵重，最好是公司定制的，针对性、个性化，这样效果好点。",
    "送之后呢，要回访一下客户的收礼感受啊，问收到没有。",
    "客户提出油品质疑时，要积极对待，不怕化验。要自己坚信我们售出的油品是合格的。",
]


def test_both_sides_are_folded_alike() -> None:
    assert fold("送之后呢，要回访 一下客户的收礼感受啊！") == "送之后呢要回访一下客户的收礼感受"
    assert fold("ＣＲＭ系统（２０１７年）") == "crm系统2017年"  # full-width forms fold to ASCII


def test_a_quote_is_found_whatever_its_punctuation_and_filler() -> None:
    assert locate_quote("最好是公司定制的", PASSAGES) == 0
    assert locate_quote("送之后呢要回访一下客户的收礼感受", PASSAGES) == 1  # commas and 啊 differ
    assert locate_quote("要积极对待 不怕化验", PASSAGES) == 2


def test_a_quote_cut_by_a_boundary_belongs_to_the_first_passage() -> None:
    assert locate_quote("这样效果好点。送之后呢", PASSAGES) == 0


def test_a_partly_matching_quote_needs_most_of_it_in_one_run() -> None:
    mostly = "客户提出油品质疑时要积极对待不怕送礼"  # 15 of 18 characters in one run
    assert locate_quote(mostly, PASSAGES) == 2
    barely = "客户提出油品质疑的时候我们应该怎么回应他"  # only 8 of 20 in one run
    assert len("客户提出油品质疑") < MIN_SHARED * len(fold(barely))
    assert locate_quote(barely, PASSAGES) is None
    assert locate_quote("", PASSAGES) is None and locate_quote("！？", PASSAGES) is None
    assert locate_quote("任何话", []) is None


def test_every_passage_holding_a_quote_is_a_target() -> None:
    overlapping = [PASSAGES[0], PASSAGES[0][-10:] + PASSAGES[1], PASSAGES[2]]
    assert passages_holding("这样效果好点", overlapping) == [0, 1]
    assert quote_targets("这样效果好点", overlapping) == [0, 1]
    assert quote_targets("这样效果好点。送之后呢", PASSAGES) == [0]
    assert quote_targets("完全没有出现过的一句话", PASSAGES) == []


def _chunk(n: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"d:{n}", doc_id="d", title="t", location=f"第 {n} 段", text=text, embed_text=text, ordinal=n)


def test_a_hint_found_nowhere_attaches_to_nothing() -> None:
    """Bug fix: the longest shared run used to win however short it was, so any hint landed somewhere."""
    chunks = [_chunk(i, text) for i, text in enumerate(PASSAGES)]
    attached = attach_hints(chunks, [Hint(quote="采购暗示要表示表示怎么办", asks=("采购要好处",))])
    assert attached == {}
    attached = attach_hints(chunks, [Hint(quote="要回访一下客户的收礼感受", asks=("送完礼要做什么",))])
    assert {chunk: [ask for hint in hints for ask in hint.asks] for chunk, hints in attached.items()} == {"d:1": ["送完礼要做什么"]}


def test_without_an_index_a_tip_shows_its_documents_title_only() -> None:
    resolver = SourceResolver(None, KNOWLEDGE / "sources")
    manifest = load_manifest(KNOWLEDGE / "sources")
    entry = next(iter(manifest.values()))
    resolved = resolver.resolve(TipSource(doc=entry.doc_id, quote="任何一句"))
    assert (resolved.title, resolved.location) == (entry.title, "")
    assert resolver.resolve(TipSource(doc="no-such-doc", quote="任何一句")).title == "no-such-doc"


def test_one_quote_cites_the_same_passage_in_scenarios_tips_and_hints(knowledge_base) -> None:
    """Scenario sources (KnowledgeBase.locate), tip sources (SourceResolver) and hints agree."""
    chunks: dict[str, list[Chunk]] = {}
    quotes = [(t.source.doc, t.source.quote) for t in load_bank_for(KNOWLEDGE).tips]
    for entry in load_manifest(KNOWLEDGE / "sources").values():
        doc = read_source(KNOWLEDGE / "sources" / entry.file, entry, ReadLimits(max_bytes=knowledge_base.settings.max_file_bytes))
        chunks[doc.doc_id] = chunk_document(doc, knowledge_base.chunking)
        quotes += [(doc.doc_id, h.quote) for h in load_hints(KNOWLEDGE, doc.doc_id, doc.text)]
    assert len(quotes) > 100
    resolver = SourceResolver(knowledge_base, KNOWLEDGE / "sources")
    for doc_id, quote in quotes:
        hit = knowledge_base.locate(doc_id, quote)
        assert hit is not None, quote
        assert resolver.resolve(TipSource(doc=doc_id, quote=quote)).location == hit.location
        targets = attach_hints(chunks[doc_id], [Hint(quote=quote, asks=("问",))])
        assert hit.chunk_id == next(iter(targets)), quote  # the first chunk holding it, in reading order
