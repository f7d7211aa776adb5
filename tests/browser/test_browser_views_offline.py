"""The view modules in a plain page with a fake anywidget model: drawing, controls and cleanup.

Fast (no kernel, no JupyterLab): this is where each module's own contract is checked (render
returns a cleanup that removes every handler). The real notebooks are in the other test files.
"""

from __future__ import annotations

import pytest
from browserkit import canvas_colours

pytestmark = pytest.mark.browser

MOUNT = """async ([view, state]) => {
  const fake = await import('/harness/fake.js');
  const mod = (await import(`/widgets/${view}.js`)).default;
  const model = new fake.FakeModel(state);
  window.fake = fake; window.model = model;
  const el = document.getElementById('host');
  window.cleanup = await mod.render({model, el});
  return typeof window.cleanup;
}"""

BASE = {"seq": 1, "rate": 10.0, "redraw_rate": 30.0, "paused": False, "log_scale": False,
        "live": True, "error": ""}
HOST = "document.getElementById('host').dataset"


def push_card(page, **opts):
    js_opts = ", ".join(f"{k}: {str(v).lower()}" for k, v in opts.items())
    page.evaluate(f"() => {{ model.set('card', fake.card({{{js_opts}}}));"
                  " model.set('seq', model.get('seq') + 1); }")


def test_parameter_view_draws_updates_and_cleans_up(harness):
    page = harness
    state = {**BASE, "selected_replica": -1, "history_len": 64, "bins": 64, "card": None}
    assert page.evaluate(MOUNT, ["parameter_view", state]) == "function"
    push_card(page, step=0)
    page.wait_for_function("() => document.querySelectorAll('.paramlab-card').length === 2")
    for step in range(1, 6):
        push_card(page, step=step, nanOn=1, divergeOn=1, atInit=False)
        page.wait_for_timeout(60)
    page.wait_for_function(f"() => Number({HOST}.paramlabSeq) === 7")
    assert page.locator('.paramlab-card[data-ctx="cpu(1)"] .paramlab-badge-nan').count() == 1
    assert page.locator('.paramlab-card[data-ctx="cpu(0)"] .paramlab-badge-nan').count() == 0
    assert page.locator('.paramlab-card[data-ctx="cpu(1)"] .paramlab-badge-diverged').count() == 1
    counts = canvas_colours(page, ".paramlab-card canvas")
    assert counts and all(c > 1 for c in counts if c != -1), counts
    # pause freezes the display; resume draws the update held meanwhile
    page.click(".paramlab-pause")
    before = page.evaluate(f"() => {HOST}.paramlabDraws")
    page.evaluate("() => { model.set('card', fake.card({step: 9})); model.set('seq', 99); }")
    page.wait_for_timeout(300)
    assert page.evaluate(f"() => {HOST}.paramlabDraws") == before
    page.click(".paramlab-pause")
    page.wait_for_function(f"() => {HOST}.paramlabSeq === '99'")
    assert page.evaluate("() => model.handlerCount()") > 0
    page.evaluate("() => window.cleanup()")
    assert page.evaluate("() => model.handlerCount()") == 0
    assert page.errors == []


STATES = {
    "parameter_view": "() => ({card: fake.card({step: 3, divergeOn: 1, atInit: false})})",
    "initializer_view": "() => fake.initState()",
    "model_view": "() => ({...fake.modelState(320, 4), selected: '3.weight'})",
    "init_diagnostics_view": "async () => (await import('/harness/diag_fixture.js')).diag",
}


@pytest.mark.parametrize("view", list(STATES))
def test_every_view_draws_follows_the_theme_and_cleans_up(harness, view):
    page = harness
    assert page.evaluate(MOUNT, [view, BASE]) == "function"
    page.evaluate(f"async () => {{ const s = await ({STATES[view]})();"
                  " for (const [k, v] of Object.entries(s)) model.set(k, v); }")
    page.wait_for_function(f"() => Number({HOST}.paramlabDraws) >= 2")
    page.wait_for_timeout(200)
    colours = [c for c in canvas_colours(page, "#host canvas") if c != -1]
    assert colours and min(colours) > 1, colours
    # a theme change redraws the canvases with the theme's colours
    before = page.evaluate(f"() => Number({HOST}.paramlabDraws)")
    page.evaluate("() => { document.body.dataset.jpThemeLight = 'false';"
                  " document.body.dataset.jpThemeName = 'JupyterLab Dark'; }")
    page.wait_for_function(f"(b) => Number({HOST}.paramlabDraws) > b", arg=before)
    # cleanup removes every model handler, observer and timer, and the DOM
    assert page.evaluate("() => model.handlerCount()") > 0
    page.evaluate("() => window.cleanup()")
    assert page.evaluate("() => model.handlerCount()") == 0
    assert page.evaluate("() => document.getElementById('host').children.length") == 0
    after = page.evaluate(f"() => {HOST}.paramlabDraws")
    page.evaluate("() => { model.set('seq', 1000); document.body.dataset.jpThemeLight = 'true'; }")
    page.wait_for_timeout(400)
    assert page.evaluate(f"() => {HOST}.paramlabDraws") == after
    assert page.errors == []


def test_model_view_draws_only_visible_rows_of_2000(harness):
    page = harness
    page.evaluate(MOUNT, ["model_view", BASE])
    page.evaluate("() => { const s = fake.modelState(2000, 5, {nanRow: 1500});"
                  " for (const [k, v] of Object.entries(s)) model.set(k, v); }")
    page.wait_for_function(f"() => {HOST}.paramlabSeq !== undefined && "
                           "document.querySelectorAll('.paramlab-mv-body .paramlab-mv-row').length")
    page.wait_for_timeout(200)
    rendered = page.evaluate("() => document.querySelectorAll("
                             "'.paramlab-mv-body .paramlab-mv-row:not([hidden])').length")
    assert rendered <= 30
    ms = [float(page.evaluate(f"() => {HOST}.paramlabDrawMs"))]
    for _ in range(5):  # live updates of all 2000 rows redraw only the visible ones
        page.evaluate("() => { const s = fake.modelState(2000, 6, {nanRow: 1500});"
                      " model.set('columns', s.columns); model.set('seq', model.get('seq') + 1); }")
        page.wait_for_timeout(120)
        ms.append(float(page.evaluate(f"() => {HOST}.paramlabDrawMs")))
    assert min(ms) < 40, ms
    # sorting by NaN count brings the broken row to the top
    page.click(".paramlab-mv-head span[data-key='bad']")
    page.wait_for_function("() => document.querySelector('.paramlab-mv-body .paramlab-mv-row')"
                           "?.dataset.name === '750.weight'")
    assert "NaN 2" in page.inner_text(".paramlab-mv-row[data-name='750.weight']")
    # the filter, sort and scroll survive a new rendering of the same model
    page.fill(".paramlab-mv-filter", "75")
    page.evaluate("""async () => { window.cleanup();
        const mod = (await import('/widgets/model_view.js')).default;
        window.cleanup = await mod.render({model, el: document.getElementById('host')}); }""")
    assert page.input_value(".paramlab-mv-filter") == "75"
    assert page.get_attribute(".paramlab-mv-head span[data-key='bad']", "data-sort") == "desc"
    assert page.errors == []
