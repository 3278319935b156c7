"""Decks and static pages: a widget panel is shown as its still, never as controls that cannot work.

The browser measurement of every slide (overflow at 1280x720) is tests/browser/check_decks.py,
run on demand by ``make browser-check``; these tests need no browser.
"""

import base64
import json
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter, SlidesExporter

from rnnreg.views import panels

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "scripts" / "nbconvert_templates"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHAPTERS = sorted((REPO / "book").glob("[0-9][0-9]_*.ipynb"))


def notebook_with(bundle: dict):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("panel")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells = [cell]
    # the saved widget state of an executed chapter: nbconvert renders a widget view only for a model in it
    model_id = bundle[WIDGET_VIEW]["model_id"]
    state = {
        model_id: {
            "model_name": "VBoxModel",
            "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0",
            "state": {},
        }
    }
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": state, "version_major": 2, "version_minor": 0}
    }
    return nb


def export(exporter_cls, template: str, nb) -> str:
    exporter = exporter_cls(
        template_name=template, extra_template_basedirs=[str(TEMPLATES)], extra_template_paths=[str(TEMPLATES)]
    )
    return exporter.from_notebook_node(nb)[0]


def test_a_panel_carries_a_still_and_a_note_beside_its_live_view():
    panel = panels.SchemeDiagram("everywhere")
    bundle = panel._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert base64.b64decode(bundle["image/png"]) == panel.image.value
    assert "SchemeDiagram" in bundle["text/plain"] and "JupyterLab" in bundle["text/plain"]
    panel.scheme.value = "zaremba"  # a still shows the state at the time it is displayed
    assert base64.b64decode(panel._repr_mimebundle_()["image/png"]) == panel.image.value


@pytest.mark.parametrize("exporter_cls, template", [(SlidesExporter, "book_reveal"), (HTMLExporter, "book_lab")])
def test_decks_and_pages_render_the_still_not_the_widget(exporter_cls, template):
    bundle = panels.SchemeDiagram()._repr_mimebundle_()
    html = export(exporter_cls, template, notebook_with(bundle))
    assert 'class="jp-OutputArea-output rnnreg-still"' in html and bundle["image/png"][:200] in html
    assert f'<script type="{WIDGET_VIEW}">' not in html
    # a widget without a still (someone else's) still renders as a widget view
    plain = {k: v for k, v in bundle.items() if k not in ("image/png",)}
    assert f'<script type="{WIDGET_VIEW}">' in export(exporter_cls, template, notebook_with(plain))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_panel_in_the_executed_chapters_carries_a_still(chapter):
    nb = json.loads(chapter.read_text())
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                assert "image/png" in data or "text/html" in data, f"{chapter.name} cell {i}: a widget without a still"


def test_decks_leave_code_out_and_fit_a_1280x720_slide():
    script = (REPO / "scripts" / "build_slides.sh").read_text()
    assert "--TemplateExporter.exclude_input=True" in script
    assert "--SlidesExporter.reveal_width=1280" in script and "--SlidesExporter.reveal_height=720" in script
