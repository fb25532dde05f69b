"""Small office files built in tests: .docx (python-docx), .pptx (python-pptx), .pdf (by hand or pypdf).

Why a hand-written PDF: pypdf cannot lay out text. A PDF with a Type0 font in
Adobe's UniGB-UCS2-H encoding (STSong-Light, not embedded) carries Chinese as
UTF-16 strings, which pypdf extracts exactly like text from a real export.
"""

from __future__ import annotations

import io


def make_pdf(pages: list[str], title: str = "") -> bytes:
    """A PDF whose page N shows the lines of `pages[N-1]` (an empty string = a page with only a drawing)."""
    objects: list[str] = []

    def add(body: str) -> int:
        objects.append(body)
        return len(objects)

    font = add(
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts "
        "[<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> >>] >>"
    )
    pages_id = add("")
    kids: list[int] = []
    for text in pages:
        ops: list[str] = ["0.2 0.4 0.8 rg 50 500 300 200 re f"]  # a filled rectangle, like a scanned image area
        y = 780
        for line in filter(None, text.split("\n")):
            ops.append(f"BT /F1 12 Tf 50 {y} Td <{line.encode('utf-16-be').hex()}> Tj ET")
            y -= 20
        stream = "\n".join(ops)
        content = add(f"<< /Length {len(stream.encode())} >>\nstream\n{stream}\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    catalog = add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>")
    info = add(f"<< /Title <feff{title.encode('utf-16-be').hex()}> >>") if title else 0
    out = bytearray(b"%PDF-1.4\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    info_ref = f" /Info {info} 0 R" if info else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypt_pdf(data: bytes, password: str = "secret") -> bytes:
    """The same PDF, encrypted with a user password (pypdf's writer)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx(
    title: str,
    sections: list[tuple[str, list[str]]],
    intro: str = "",
    table: list[list[str]] | None = None,
    core_title: str = "",
) -> bytes:
    """A Word file: a Title (none when `title` is empty), an optional intro paragraph, then Heading 1 sections.

    `core_title` is the metadata title (File → Properties), which tools often fill with "Microsoft Word - x.docx".
    """
    from docx import Document

    document = Document()
    document.core_properties.title = core_title
    if title:
        document.add_heading(title, level=0)
    if intro:
        document.add_paragraph(intro)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx(slides: list[tuple[str, list[str]]], core_title: str = "") -> bytes:
    """A deck: slide N has title `slides[N-1][0]` and the bullet lines below it; `core_title` is the metadata title."""
    from pptx import Presentation

    deck = Presentation()
    deck.core_properties.title = core_title
    layout = deck.slide_layouts[1]  # "Title and Content"
    for title, bullets in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for line in bullets[1:]:
            body.add_paragraph().text = line
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
