"""The weekly SLA summary's HTML as a real browser (headless Chromium) renders it."""
from __future__ import annotations

import pytest
from support.browser import chromium
from support.week import HTML_FIGURES

from mailer.html import html_to_text


@pytest.fixture(scope="module")
def rendered(week_mail, tmp_path_factory):
    """The HTML part rendered once by headless Chromium: a PNG to look at, and the DOM it built."""
    browser = chromium()
    folder = tmp_path_factory.mktemp("weekly")
    page = folder / "weekly-summary.html"
    page.write_text(week_mail[1], encoding="utf-8")
    png = browser.screenshot(page, folder / "weekly-summary.png", width=900, height=2000)
    print(f"\nthe weekly summary as Chromium renders it: {png}")
    return png, browser.dump_dom(page)


def test_chromium_renders_every_figure(rendered):
    png, dom = rendered
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html_to_text(dom)
    for figure in HTML_FIGURES:
        assert figure in text, figure
    assert "<script" not in dom.lower()


# Measures each portfolio row after layout and writes what it found into the page, for --dump-dom to
# carry out: a test-only copy of the mail (the mail itself never holds a script).
MEASURE = """<script>
const rgb = c => c.match(/[0-9.]+/g).slice(0, 3).map(Number).map(v => v / 255)
  .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
const lum = c => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const rows = [...document.querySelectorAll("tr.portfolio-row")].map(tr => {
  const box = tr.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, text: tr.innerText, cells: [...tr.cells].map(td => {
    const style = getComputedStyle(td), b = td.getBoundingClientRect();
    return {width: b.width, font: parseFloat(style.fontSize), clipped: td.scrollWidth > td.clientWidth + 1,
            contrast: (1.05) / (lum(style.color) + 0.05)};
  })};
});
const out = document.createElement("pre"); out.id = "measured"; out.textContent = JSON.stringify(rows);
document.body.appendChild(out);
</script>"""


def test_the_portfolio_section_renders_with_legible_rows_in_order(week_mail, tmp_path):
    import json
    import re

    page = tmp_path / "portfolio.html"
    page.write_text(week_mail[1].replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium().dump_dom(page)
    rows = json.loads(html_to_text(re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)[1]))
    assert [r["text"].split("\t")[0].split("\n")[0] for r in rows] == [
        "Hooli", "Umbrella Corp", "Globex", "Initech", "Soylent"]  # late, at risk (most reasons first), on track
    assert [r["text"].split("\t")[1] for r in rows] == ["late", "at risk", "at risk", "on track", "on track"]
    for before, after in zip(rows, rows[1:]):
        assert after["top"] >= before["bottom"] - 0.5  # one under the other, never over it
    for row in rows:
        for cell in row["cells"]:
            # every cell has room, text of 12 px or more that is not cut off, at WCAG AA contrast on white
            assert cell["width"] > 40 and cell["font"] >= 12 and not cell["clipped"], row
            assert cell["contrast"] >= 4.5, row
