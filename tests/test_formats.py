"""Word, PDF and PowerPoint material: sensible locations, and bad files rejected with the index unchanged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.corpus.documents import IngestFileError, ReadLimits
from bot.corpus.reading import read_source
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import Settings
from tests.fakes.office_files import encrypt_pdf, make_docx, make_pdf, make_pptx

WEIGHBRIDGE = "过磅时要和客户当面核对磅单，磅差超过千分之三就要查原因，不能一味让步。"
INVOICE = "开票前核对对方的税号和开票内容，警惕对方要求虚开或者改品名的发票陷阱。"
PRIVATE_STATION = "民营加油站老板自己拍板，决策链短，拜访时直接找老板谈价格和账期。"


def docx_bytes() -> bytes:
    return make_docx(
        "油品销售手册",
        [("磅差的处理", [WEIGHBRIDGE, "每次卸油都要留存磅单照片。"]), ("发票陷阱", [INVOICE])],
        intro="本手册给新入职的业务员使用。",
        table=[["风险", "对策"], ["水分超标", "现场取样封存"]],
    )


def pdf_bytes() -> bytes:
    return make_pdf(["客户开发与维护\n第一章 寻找客户", PRIVATE_STATION, "第三页\n" + INVOICE], title="客户开发讲义")


def pptx_bytes() -> bytes:
    return make_pptx([("客情维护", ["客情是长期投入"]), ("如何找到决策人", ["先问清楚谁签字", "再约见采购经理"]), ("磅差", [WEIGHBRIDGE])])


@pytest.fixture
def office_kb(tmp_path: Path, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    knowledge_dir = tmp_path / "knowledge"
    sources = knowledge_dir / "sources"
    sources.mkdir(parents=True)
    (sources / "手册.docx").write_bytes(docx_bytes())
    (sources / "讲义.pdf").write_bytes(pdf_bytes())
    (sources / "培训.pptx").write_bytes(pptx_bytes())
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)
    kb = KnowledgeBase(settings, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)  # reuse the loaded model
    report = kb.ingest()
    assert report.ok and len(report.added) == 3, report.errors
    return kb


def _locations(kb: KnowledgeBase, file: str) -> dict[str, str]:
    """chunk text -> location for one file's chunks."""
    kb._refresh_cache()
    return {c.text: str(c.metadata["location"]) for c in kb._chunks.values() if c.metadata.get("file") == file}


def test_docx_headings_become_locations(tmp_path: Path) -> None:
    path = tmp_path / "手册.docx"
    path.write_bytes(docx_bytes())
    doc = read_source(path, None, ReadLimits(max_bytes=10_000_000))
    assert doc.title == "油品销售手册"
    by_text = {b.text: b for b in doc.blocks}
    assert by_text[WEIGHBRIDGE].location == "「磅差的处理」" and by_text[WEIGHBRIDGE].section == "磅差的处理"
    assert by_text[INVOICE].location == "「发票陷阱」"
    assert by_text["本手册给新入职的业务员使用。"].location == ""  # before any heading: numbered as 第 N 段 when chunked
    assert "水分超标；现场取样封存" in by_text  # table rows are kept, cells joined


def test_pdf_pages_and_pptx_slides_are_located(tmp_path: Path) -> None:
    pdf = tmp_path / "讲义.pdf"
    pdf.write_bytes(pdf_bytes())
    doc = read_source(pdf, None, ReadLimits(max_bytes=10_000_000))
    assert doc.title == "客户开发讲义"
    assert [b.location for b in doc.blocks] == ["第 1 页", "第 2 页", "第 3 页"]
    assert PRIVATE_STATION in doc.blocks[1].text
    deck = tmp_path / "培训.pptx"
    deck.write_bytes(pptx_bytes())
    doc = read_source(deck, None, ReadLimits(max_bytes=10_000_000))
    assert [(b.location, b.section) for b in doc.blocks] == [
        ("第 1 张幻灯片", "客情维护"),
        ("第 2 张幻灯片", "如何找到决策人"),
        ("第 3 张幻灯片", "磅差"),
    ]
    assert doc.blocks[1].text == "先问清楚谁签字\n再约见采购经理"


def test_office_files_are_searchable_with_their_locations(office_kb: KnowledgeBase) -> None:
    hit = office_kb.search("民营加油站谁拍板", 3).hits[0]
    assert hit.title == "客户开发讲义" and hit.location == "第 2 页"
    hits = office_kb.search("磅差超过多少要查原因", 5).hits
    locations = {(h.title, h.location) for h in hits if WEIGHBRIDGE in h.text}
    assert ("油品销售手册", "「磅差的处理」") in locations and ("客情维护", "第 3 张幻灯片") in locations
    docx_locations = set(_locations(office_kb, "手册.docx").values())
    assert "第 1 段" in docx_locations  # the intro paragraph, before any heading
    assert {s.kind for s in office_kb.sources()} == {"article"}


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("加密.pdf", lambda: encrypt_pdf(pdf_bytes()), "加密"),
        ("扫描件.pdf", lambda: make_pdf(["", ""]), "扫描件"),
        ("坏的.pdf", lambda: b"%PDF-1.4\n garbage without objects", "PDF"),
        ("坏的.docx", lambda: b"PK\x03\x04 this is not really a zip" * 20, "损坏"),
        ("改名的.pptx", lambda: docx_bytes(), "PowerPoint"),
        ("表格.xlsx", lambda: b"PK\x03\x04" * 100, "不支持的文件类型"),
    ],
)
def test_bad_files_are_rejected_with_a_clear_message(tmp_path: Path, name: str, content, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(IngestFileError) as caught:
        read_source(path, None, ReadLimits(max_bytes=10_000_000))
    message = str(caught.value)
    assert message.startswith(name) and needle in message


def test_oversized_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "大文件.pdf"
    path.write_bytes(pdf_bytes() + b"%" + b"x" * 2_000_000)
    with pytest.raises(IngestFileError, match="大文件.pdf：文件太大"):
        read_source(path, None, ReadLimits(max_bytes=1_048_576))


def test_bad_files_change_nothing_in_the_index(office_kb: KnowledgeBase) -> None:
    before = sorted((c.chunk_id, c.text) for c in office_kb.store.all_chunks())
    sources = office_kb.settings.sources_dir
    (sources / "手册.docx").write_bytes(b"PK\x03\x04 broken" * 30)  # an indexed document turned corrupt
    (sources / "加密.pdf").write_bytes(encrypt_pdf(pdf_bytes()))
    (sources / "扫描件.pdf").write_bytes(make_pdf([""]))
    report = office_kb.ingest()
    assert len(report.errors) == 3 and report.added == report.updated == report.removed == []
    assert sorted((c.chunk_id, c.text) for c in office_kb.store.all_chunks()) == before
    assert any(WEIGHBRIDGE in h.text and h.title == "油品销售手册" for h in office_kb.search("磅差", 5).hits)


# ---- bounded work: what an untrusted upload may cost (issue: hardening) ----------------------
def _with_extra_entry(office: bytes, name: str, payload: bytes) -> bytes:
    """The office file with one more archive member (what a zip bomb adds)."""
    import io
    import zipfile

    buffer = io.BytesIO(office)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


def test_zip_bomb_docx_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = _with_extra_entry(docx_bytes(), "word/media/padding.bin", b"\0" * (64 * 1_048_576))
    assert len(bomb) < 1_048_576  # 64 MB of zeros deflate to well under 1 MB
    path = tmp_path / "炸弹.docx"
    path.write_bytes(bomb)
    with pytest.raises(IngestFileError) as caught:
        read_source(path, None, ReadLimits(max_unzipped_bytes=32 * 1_048_576))
    assert "解压后" in str(caught.value) and "炸弹.docx" in str(caught.value)


def test_suspicious_compression_ratio_is_refused_even_under_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "deck.pptx"
    path.write_bytes(_with_extra_entry(pptx_bytes(), "ppt/media/x.bin", b"\0" * (8 * 1_048_576)))
    with pytest.raises(IngestFileError, match="压缩比"):
        read_source(path, None, ReadLimits())


def test_a_normal_office_file_passes_the_archive_checks(tmp_path: Path) -> None:
    path = tmp_path / "ok.docx"
    path.write_bytes(docx_bytes())
    assert read_source(path, None, ReadLimits()).blocks


def test_pdf_over_the_page_limit_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    path = tmp_path / "厚.pdf"
    path.write_bytes(make_pdf([f"第{n}页的内容" for n in range(1, 6)]))
    with pytest.raises(IngestFileError) as caught:
        read_source(path, None, ReadLimits(max_pdf_pages=3))
    assert "5 页" in str(caught.value) and "MAX_PDF_PAGES" in str(caught.value)
    assert read_source(path, None, ReadLimits(max_pdf_pages=5)).blocks


def test_a_long_pdf_reports_its_pages_and_can_be_cancelled_between_them(tmp_path: Path) -> None:
    from bot.corpus.documents import IngestCancelled

    path = tmp_path / "厚.pdf"
    path.write_bytes(make_pdf([f"第{n}页的内容" for n in range(1, 61)]))
    seen: list[tuple[int, int]] = []
    read_source(path, None, ReadLimits(), lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 60) and seen[-1] == (59, 60) and len(seen) >= 3

    def cancel(done: int, total: int) -> None:
        if done >= 20:
            raise IngestCancelled(path.name)

    with pytest.raises(IngestCancelled):
        read_source(path, None, ReadLimits(), cancel)


# ---- titles a person would give (issue 10, part 4) --------------------------------------------
POLICY_PAGE = "内部资料 请勿外传\n华筑建材贸易有限公司\n客户信用管理与回款政策（2024版）\n第一条 大客户账期最长不超过60天。"


@pytest.mark.parametrize("placeholder", ["untitled", "Microsoft Word - 回款政策.docx", "", "无标题"])
def test_a_pdf_with_a_placeholder_title_is_named_by_its_title_line(tmp_path: Path, placeholder: str) -> None:
    path = tmp_path / "信用与回款政策.pdf"
    path.write_bytes(make_pdf([POLICY_PAGE, PRIVATE_STATION], title=placeholder))
    doc = read_source(path, None, ReadLimits(max_bytes=10_000_000))
    assert doc.title == "客户信用管理与回款政策（2024版）"  # not the stamp, not the company, never 《untitled》


def test_a_pdf_whose_name_says_nothing_takes_its_first_title_line(tmp_path: Path) -> None:
    path = tmp_path / "scan0001.pdf"
    path.write_bytes(make_pdf([POLICY_PAGE], title="untitled"))
    assert read_source(path, None, ReadLimits(max_bytes=10_000_000)).title == "客户信用管理与回款政策（2024版）"
    bare = tmp_path / "回款须知.pdf"
    bare.write_bytes(make_pdf(["大客户账期最长不超过60天，逾期要停止发货，并且要书面通知客户。"], title="PowerPoint Presentation"))
    assert read_source(bare, None, ReadLimits(max_bytes=10_000_000)).title == "回款须知"  # a sentence is not a title


def test_office_files_with_placeholder_metadata_use_their_heading(tmp_path: Path) -> None:
    word = tmp_path / "手册.docx"
    word.write_bytes(make_docx("油品销售手册", [("磅差的处理", [WEIGHBRIDGE])], core_title="Microsoft Word - 手册.docx"))
    assert read_source(word, None, ReadLimits(max_bytes=10_000_000)).title == "油品销售手册"
    headless = tmp_path / "发票须知.docx"
    headless.write_bytes(make_docx("", [("开票前的核对", [INVOICE])], core_title="untitled"))
    assert read_source(headless, None, ReadLimits(max_bytes=10_000_000)).title == "开票前的核对"
    deck = tmp_path / "培训.pptx"
    deck.write_bytes(make_pptx([("幻灯片 1", ["欢迎"]), ("客情维护", ["客情是长期投入"])], core_title="PowerPoint Presentation"))
    assert read_source(deck, None, ReadLimits(max_bytes=10_000_000)).title == "客情维护"
    named = tmp_path / "话术.pptx"
    named.write_bytes(make_pptx([("客情维护", ["客情是长期投入"])], core_title="异议处理话术"))
    assert read_source(named, None, ReadLimits(max_bytes=10_000_000)).title == "异议处理话术"  # a real metadata title wins


def test_a_transcript_with_a_long_first_line_is_named_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "老销售经验分享.txt"
    path.write_text(
        "（2024年一季度销售部大会录音整理，发言人：工程渠道销售主管 周建国，整理：行政部小刘，未校对）\n\n"
        "嗯，好，那个，主持人让我讲两句啊，我就随便讲讲，讲得不对的大家别往心里去。\n",
        encoding="utf-8",
    )
    assert read_source(path, None, ReadLimits(max_bytes=10_000_000)).title == "老销售经验分享"
    spoken = tmp_path / "meeting.txt"
    spoken.write_text("嗯，那个，今天主要讲三个事情，一个是收款，一个是投诉，还有一个是怎么跟工地上的人打交道啊\n", encoding="utf-8")
    assert read_source(spoken, None, ReadLimits(max_bytes=10_000_000)).title == "meeting"
    titled = tmp_path / "x.txt"
    titled.write_text("# 我给客户送了礼品，为什么感觉关系没有提升呢#销售技巧 #销售话术\n\n好，大家好啊。\n", encoding="utf-8")
    assert read_source(titled, None, ReadLimits(max_bytes=10_000_000)).title == "我给客户送了礼品，为什么感觉关系没有提升呢"


def test_a_pdf_line_cut_by_the_page_width_joins_the_next_one(tmp_path: Path) -> None:
    """Written for this test: a wrapped rule reads as one sentence; headings, list items, a running header,
    "label：" fields and page footers stay lines of their own."""
    page = "\n".join([
        "康联医药 内部文件 注意保密",
        "三、租期与计费",
        "6. 租转购：租满3个月后可申请转为购买，已付租金的50%可抵扣购车款，但抵扣金额",
        "最高不超过新车价格的30%，超出部分不再抵扣。",
        "7. 客户停工需报停的，车辆须退回我司仓库",
        "生效日期：2024年4月1日",
        "第一条 返利只能给到客户企业，依据《反",
        "不正当竞争法》，不能给到任何个人",
        "第 2 页 共 4 页",
    ])
    pdf = tmp_path / "政策.pdf"
    pdf.write_bytes(make_pdf([page]))
    lines = read_source(pdf, None, ReadLimits(max_bytes=10_000_000)).blocks[0].text.split("\n")
    assert lines == [
        "康联医药 内部文件 注意保密",
        "三、租期与计费",
        "6. 租转购：租满3个月后可申请转为购买，已付租金的50%可抵扣购车款，但抵扣金额最高不超过新车价格的30%，超出部分不再抵扣。",
        "7. 客户停工需报停的，车辆须退回我司仓库",
        "生效日期：2024年4月1日",
        "第一条 返利只能给到客户企业，依据《反不正当竞争法》，不能给到任何个人",
        "第 2 页 共 4 页",
    ]
