"""Workbooks as a statistician prints them: LibreOffice (headless) converts them to PDF, and PDF pages
become PNG previews (docs/img/, `make render`) and the facts the rendering tests check (page size
and count, the smallest font, what each page says).

LibreOffice (`soffice`) is an optional tool: `soffice()` is None where it is not installed, and the
tests that need it are skipped then. So are they where no font with Times New Roman's metrics and
Vietnamese letters is installed (`print_font()`: apt-get install fonts-liberation2): LibreOffice
would print the workbooks' Times New Roman in a wider stand-in (DejaVu Serif), scaled below 8 pt,
and take the letters with Vietnamese marks from yet another font. pdfplumber (a development
dependency) reads the PDFs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 300
# Times New Roman (the workbooks' font: styles.py) and the fonts made with its metrics.
TIMES_METRICS = ("Times New Roman", "Liberation Serif", "Tinos")


def soffice() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def print_font() -> str | None:
    """The installed font with Times New Roman's metrics and Vietnamese letters that LibreOffice prints
    the workbooks in (fontconfig's `fc-list FAMILY:lang=vi`), or None. Liberation Serif 1.x has the
    metrics but not the letters; 2.x (Debian's fonts-liberation2) has both."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    for family in TIMES_METRICS:
        found = subprocess.run([fc_list, f"{family}:lang=vi", "family"], capture_output=True, text=True,
                               timeout=60).stdout  # fmt: skip
        if found.strip():
            return family
    return None


def to_pdf(books: Sequence[Path], folder: Path) -> list[Path]:
    """Each workbook as a PDF in folder (same stem), converted by LibreOffice with its own profile (so
    conversions running side by side do not clash)."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edustat-lo-") as profile:
        subprocess.run(
            [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "pdf",
             "--outdir", str(folder), *map(str, books)],
            check=True, capture_output=True, timeout=TIMEOUT_SECONDS,
        )  # fmt: skip
    pdfs = [folder / f"{b.stem}.pdf" for b in books]
    missing = [p for p in pdfs if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice wrote no PDF for {', '.join(p.name for p in missing)}")
    return pdfs


@dataclass(frozen=True)
class Page:
    width_pt: float
    height_pt: float
    smallest_font: float | None  # pt, as printed (after any scaling); None: no text
    text: str

    @property
    def paper(self) -> str:
        """A4 or A3 (either orientation), else the size in mm."""
        short, long = sorted((self.width_pt, self.height_pt))
        for name, (w, h) in {"A4": (595, 842), "A3": (842, 1191)}.items():
            if abs(short - w) < 3 and abs(long - h) < 3:
                return name
        return f"{short / 72 * 25.4:.0f}x{long / 72 * 25.4:.0f}mm"

    @property
    def landscape(self) -> bool:
        return self.width_pt > self.height_pt


def pages(pdf: Path, layout: bool = True) -> list[Page]:
    """Every page of a PDF: size, smallest font and text. layout=False reads them with pdfium
    (pdfplumber's own dependency), about 25 times faster: the same sizes and fonts, the text in
    the order the PDF draws it (each printed line whole, lines not in reading order): for checks
    that look for words anywhere on a page."""
    if not layout:
        return _pages_pdfium(pdf)
    import pdfplumber  # noqa: PLC0415 - a development dependency

    out = []
    with pdfplumber.open(pdf) as doc:
        for p in doc.pages:
            sizes = [c["size"] for c in p.chars if c["text"].strip()]
            out.append(
                Page(float(p.width), float(p.height), min(sizes) if sizes else None, p.extract_text() or "")
            )
    return out


def _pages_pdfium(pdf: Path) -> list[Page]:
    import pypdfium2 as pdfium  # noqa: PLC0415 - a development dependency (pdfplumber's)
    import pypdfium2.raw as pdfium_c  # noqa: PLC0415

    out = []
    doc = pdfium.PdfDocument(str(pdf))
    try:
        for page in doc:
            text_page = page.get_textpage()
            text = text_page.get_text_range()
            # The size each character prints at (the text matrix and any scaling of the page applied).
            sizes = [pdfium_c.FPDFText_GetFontSize(text_page.raw, i) for i in range(text_page.count_chars())
                     if chr(pdfium_c.FPDFText_GetUnicode(text_page.raw, i)).strip()]  # fmt: skip
            width, height = page.get_size()
            out.append(Page(width, height, min(sizes) if sizes else None, text.replace("\r\n", "\n")))
    finally:
        doc.close()
    return out


def to_png(pdf: Path, folder: Path, stem: str, first: int = 0, count: int = 1, dpi: int = 110) -> list[Path]:
    """Pages first … first+count-1 of a PDF as PNG files <stem>-<n>.png (n from 1) in folder."""
    import pypdfium2 as pdfium  # noqa: PLC0415 - a development dependency (pdfplumber's)

    folder.mkdir(parents=True, exist_ok=True)
    doc = pdfium.PdfDocument(str(pdf))
    out = []
    try:
        for i in range(first, min(first + count, len(doc))):
            path = folder / f"{stem}-{i + 1}.png"
            doc[i].render(scale=dpi / 72).to_pil().save(path, optimize=True)
            out.append(path)
    finally:
        doc.close()
    return out
