"""The interactive HTML viewer (`netspec graph SPEC -o net.html`) in a real headless Chromium.

Playwright drives Debian's Chromium (no browser download): the page must render from
disk with every network request refused, fold and unfold a block on click, and show a
clicked layer's row with its YAML line.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

import netspec

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((path for path in ("/usr/bin/chromium", shutil.which("chromium") or "",
                                   shutil.which("chromium-browser") or "") if path and Path(path).exists()), None)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (.ci/run installs Debian's chromium)")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_viewer(browser, tmp_path, spec: str, **options):
    path = netspec.draw_graph(ROOT / spec, tmp_path / "net.html", **options)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []
    page.route(re.compile(r"^(?!file:).*"), lambda route: (requests.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    return page, requests, errors


def test_the_page_is_one_self_contained_file(tmp_path):
    html = netspec.draw_graph(ROOT / "specs/googlenet_mini.yaml", tmp_path / "g.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script src" not in html and "<link" not in html


def test_viewer_renders_folds_and_shows_a_layer(browser, tmp_path):
    from PIL import Image

    page, requests, errors = open_viewer(browser, tmp_path, "specs/googlenet_mini.yaml")
    picture = Image.open(io.BytesIO(page.screenshot())).convert("L")
    drawn = sum(picture.histogram()[:200])  # pixels darker than the white background
    assert drawn > 0.01 * picture.width * picture.height  # boxes, edges and labels, not a blank page
    assert page.locator(".frame").count() == 2 and page.locator(".node.folded").count() == 0
    page.locator(".frame text").first.click()  # fold incep1
    assert page.locator(".frame").count() == 1 and page.locator(".node.folded").count() == 1
    assert "10×12×12 → 88×12×12" in page.locator(".node.folded").text_content()
    page.locator(".node.folded").click()  # and unfold it
    assert page.locator(".frame").count() == 2 and page.locator(".node.folded").count() == 0
    concat = next(node for node in netspec.check(ROOT / "specs/googlenet_mini.yaml").graph.nodes
                  if node.kind == "concat")
    page.locator(f'.node[data-id="n{concat.index}"]').click()
    row = page.locator("#row").inner_text()
    assert "88×12×12" in row and f"googlenet_mini.yaml:{concat.mark.line}:" in row
    assert "kind: concat" in page.locator("#yaml").inner_text()
    assert requests == [] and errors == []


def test_collapsed_left_to_right_view_starts_folded(browser, tmp_path):
    page, _, errors = open_viewer(browser, tmp_path, "specs/resnet_mini.yaml", depth=0, rankdir="LR")
    assert page.locator(".node.folded").count() == 2 and page.locator(".frame").count() == 0
    boxes = [page.locator(".node.folded").nth(i).bounding_box() for i in range(2)]
    assert boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"]  # left to right
    assert errors == []
