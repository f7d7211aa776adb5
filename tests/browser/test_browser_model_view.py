"""ModelView in a real JupyterLab: 320 parameters, only visible rows drawn, selection mid-run."""

from __future__ import annotations

import json
import time

import pytest
from browserkit import DARK, LIGHT, canvas_colours, js_fmt

pytestmark = pytest.mark.browser

VIEW = "paramlab-model-view"
ROWS = f".{VIEW} .paramlab-mv-body .paramlab-mv-row:not([hidden])"

SETUP = """\
import json, time
import paramlab as mx
from paramlab.widgets import watch

ctxs = [mx.cpu(0), mx.cpu(1)]
net = mx.gluon.nn.Sequential()
for i in range(160):
    net.add(mx.gluon.nn.Dense(16, in_units=16, activation="tanh"))
net.initialize(mx.init.Xavier(), ctx=ctxs)
trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05})

def train(steps, pause=0.0):
    for _ in range(steps):
        for ctx in ctxs:
            x = mx.nd.random.normal(shape=(8, 16), ctx=ctx)
            with mx.autograd.record():
                loss = (net(x) ** 2).mean()
            loss.backward()
        trainer.step(8)
        time.sleep(pause)

view = watch(trainer, net, max_duty=0.5)
view"""

TRAIN = "train(3)"
LONG = "train(40, pause=0.1)"
REPORT = """\
from paramlab import summary
params = net.collect_params()
by_name = {r["name"]: params[r["param"]] for r in view.rows}
print(json.dumps({n: summary.stats(by_name[n].data(mx.cpu(0))).as_dict()
                  for n in ("0.weight", view.rows[-1]["name"])} | {"names": list(by_name)}))"""
HISTORY = """\
import numpy as np
from paramlab.widgets._static import decode
full = decode(view.full_columns()["history"])
print(json.dumps({"seq": view.columns["history_seq"],
                  "points": {r["name"]: int(np.isfinite(full[i, :, 0]).sum())
                             for i, r in enumerate(view.rows[:6])}}))"""


def test_model_view_table_is_virtual_and_selection_works_while_a_cell_runs(notebook):
    nb = notebook("model_view.ipynb", [SETUP, TRAIN, LONG, REPORT, HISTORY])
    nb.run_cell(0)
    view = nb.page.locator(f".{VIEW}").first
    view.locator(".paramlab-mv-body .paramlab-mv-row").first.wait_for(timeout=60_000)
    nb.run_cell(1)
    nb.run_cell(3)
    report = json.loads(nb.stdout(3).strip().splitlines()[-1])
    names = report["names"]
    assert len(names) == 320

    # 320 rows, but only the visible ones (plus a few) are in the DOM
    root = nb.page.locator(f".{VIEW}").first
    assert root.get_attribute("data-paramlab-rows") == "320"
    rendered = nb.page.locator(ROWS).count()
    assert 5 <= rendered <= 30, rendered
    assert "320 parameters" in view.locator(".paramlab-mv-count").inner_text()
    first = view.locator('.paramlab-mv-row[data-name="0.weight"]')
    w0 = report["0.weight"]
    nb.page.wait_for_function(
        """([sel, want]) => { const r = document.querySelector(sel);
            return r && r.querySelector('.paramlab-mv-std').textContent === want; }""",
        arg=[f'.{VIEW} .paramlab-mv-row[data-name="0.weight"]', js_fmt(w0["std"], 3)],
        timeout=30_000)
    assert first.locator(".paramlab-mv-l2").inner_text() == js_fmt(w0["l2"], 3)
    assert first.locator(".paramlab-mv-div").inner_text() == "= 2 equal"
    colours = canvas_colours(nb.page, f"{ROWS} canvas")
    assert colours and min(c for c in colours if c != -1) > 2, colours
    draw_ms = float(nb.dataset(VIEW)["paramlabDrawMs"])
    assert draw_ms < 100, f"a table draw took {draw_ms} ms"

    # scrolling to the end draws the last rows with the same small number of row elements
    view.locator(".paramlab-mv-scroll").evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    last_name = names[-1]
    last = view.locator(f'.paramlab-mv-row[data-name="{last_name}"]')
    last.wait_for(timeout=10_000)
    assert nb.page.locator(ROWS).count() <= 30
    assert last.locator(".paramlab-mv-mean").inner_text() == js_fmt(report[last_name]["mean"], 3)
    view.locator(".paramlab-mv-scroll").evaluate("(el) => { el.scrollTop = 0; }")

    # the filter narrows the table in the browser
    view.locator(".paramlab-mv-filter").fill("158.")
    nb.page.wait_for_function(
        f"() => document.querySelectorAll('{ROWS}').length === 2", timeout=10_000)
    view.locator(".paramlab-mv-filter").fill("")

    # while a training cell runs, selecting a row shows its card at once from the table's data;
    # the full cards (every replica) follow when the kernel is free
    nb.run_cell(2, wait=False)
    deadline = time.time() + 30
    while not nb.cell_busy(2) and time.time() < deadline:
        nb.page.wait_for_timeout(50)
    pick = names[2]  # in view without scrolling
    view.locator(f'.paramlab-mv-row[data-name="{pick}"]').click()
    detail = view.locator(".paramlab-detail")
    detail.locator(".paramlab-card").first.wait_for(timeout=5_000)
    assert nb.cell_busy(2), "the training cell finished before the check"
    assert detail.get_attribute("data-source") == "table"
    assert detail.locator(".paramlab-card").count() == 1
    assert view.locator(f'.paramlab-mv-row[data-name="{pick}"]').get_attribute(
        "aria-selected") == "true"
    # pause freezes the table at once, also while the cell runs
    view.locator(".paramlab-pause").click()
    held = nb.dataset(VIEW)["paramlabDraws"]
    nb.page.wait_for_timeout(700)
    assert nb.dataset(VIEW)["paramlabDraws"] == held
    view.locator(".paramlab-pause").click()
    nb.wait_cell(2)
    nb.page.wait_for_function(
        f"""() => {{ const d = document.querySelector('.{VIEW} .paramlab-detail');
            return d && d.dataset.source === 'detail' &&
                   d.querySelectorAll('.paramlab-card').length === 2; }}""", timeout=30_000)
    assert pick in detail.inner_text()
    colours = canvas_colours(nb.page, f".{VIEW} .paramlab-detail canvas")
    assert min(c for c in colours if c != -1) > 1, colours

    # the live updates carried only their new history points; the browser's ring joined them
    # into the same history the kernel holds, with no gap (no refresh asked)
    nb.run_cell(4)
    kernel = json.loads(nb.stdout(4).strip().splitlines()[-1])
    nb.page.wait_for_function(
        f"(seq) => document.querySelector('.{VIEW}').dataset.paramlabHistorySeq === seq",
        arg=str(kernel["seq"]), timeout=10_000)
    assert root.get_attribute("data-paramlab-history-gaps") == "0"
    drawn = {name: view.locator(f'.paramlab-mv-row[data-name="{name}"]').get_attribute(
        "data-history-points") for name in kernel["points"]}
    assert drawn == {name: str(n) for name, n in kernel["points"].items()}, (drawn, kernel)
    assert min(kernel["points"].values()) >= 8, kernel  # several live updates
    sparks = canvas_colours(nb.page, f"{ROWS} > span:last-child > canvas")
    assert sparks and min(c for c in sparks if c != -1) > 2, sparks

    sizes = nb.frames.kernel()
    print(f"\nModelView 320 params x 2 contexts: {len(sizes)} kernel frames, max {max(sizes)} B, "
          f"{len(nb.frames.comm_updates())} updates; table draw {draw_ms} ms; "
          f"largest frames: {sorted(set(nb.frames.big))[-3:]}")

    for theme in (LIGHT, DARK):
        if theme == DARK:
            nb.set_theme(DARK)
        nb.screenshot("model_view", theme, f".{VIEW}")
    nb.set_theme(LIGHT)


RING = """async () => {
  const fake = await import('/harness/fake.js');
  const mod = (await import('/widgets/model_view.js')).default;
  const state = fake.modelState(4, 1);  // 6 history points per row
  const full = { ...state.columns, history_full: true, history_seq: 1, history_base: -1 };
  const model = new fake.FakeModel({ seq: 1, rate: 10, redraw_rate: 100, paused: false,
    log_scale: false, live: true, error: '', ...state, columns: full });
  window.model = model;
  const el = document.getElementById('host');
  window.cleanup = await mod.render({ model, el });
  const points = () => [...el.querySelectorAll('.paramlab-mv-row[data-name]:not([hidden])')]
    .map((r) => Number(r.dataset.historyPoints));
  const drawn = () => new Promise((ok) => setTimeout(() => ok(points()), 150));
  const delta = (seq, base, fresh) => ({ ...state.columns, history_full: false, history_seq: seq,
    history_base: base, history: fake.A(new Float32Array(8).fill(7.5), [4, 1, 2]),
    history_new: fake.A(new Int32Array(4).fill(fresh), [4]) });
  const seen = [await drawn()];
  for (const [seq, base, fresh] of [[2, 1, 1], [3, 2, 0], [4, 3, 1], [9, 7, 1]]) {
    model.set('columns', delta(seq, base, fresh));
    seen.push(await drawn());
  }
  const asked = model.sent.length;
  model.set('columns', delta(10, 9, 1));  // follows on from the gap's points
  seen.push(await drawn());
  return { seen, asked, sent: model.sent, gaps: el.querySelector('.paramlab-model-view')
    .dataset.paramlabHistoryGaps };
}"""


def test_model_view_history_ring_joins_deltas_and_asks_for_a_refresh_after_a_gap(harness):
    result = harness.evaluate(RING)
    # 6 points, +1, +0, +1, then a gap (base 7 is not the ring's 4): only the point received is
    # kept, and the kernel is asked once for the whole history; the next delta joins on
    assert [s[0] for s in result["seen"]] == [6, 7, 7, 8, 1, 2], result
    assert result["asked"] == 1 and result["sent"] == [{"type": "refresh"}], result
    assert result["gaps"] == "1"
    assert harness.errors == []
