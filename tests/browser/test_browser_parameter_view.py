"""ParameterView in a real JupyterLab: live drawing during a training loop, badges, frame sizes."""

from __future__ import annotations

import json
import time

import pytest
from browserkit import DARK, LIGHT, canvas_colours, js_fmt

pytestmark = pytest.mark.browser

VIEW = "paramlab-parameter-view"
CARD = f".{VIEW} .paramlab-card"
TENSOR_BYTES = 512 * 512 * 4  # the 512x512 float32 parameter: 1 MiB
FRAME_LIMIT = TENSOR_BYTES // 10  # any frame, the module source and static PNG included
UPDATE_LIMIT = 32 * 1024  # a live update (comm_msg) of both replicas' cards

SETUP = """\
import json, time
import paramlab as mx
from paramlab import summary
from paramlab.widgets.parameter_view import ParameterView

ctxs = [mx.cpu(0), mx.cpu(1)]
w = mx.gluon.Parameter("weight", shape=(512, 512), init=mx.init.Uniform(0.1))
w.initialize(ctx=ctxs)
trainer = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.2})
view = ParameterView(w, max_duty=0.5)  # let the kernel send ~10 updates/s here
view"""

LOOP = """\
t0 = time.time()
for step in range(120):
    for ctx in ctxs:
        x = mx.nd.random.normal(shape=(16, 512), ctx=ctx)
        with mx.autograd.record():
            loss = (mx.nd.dot(x, w.data(ctx)) ** 2).mean()
        loss.backward()
    trainer.step(16)
    time.sleep(0.04)
print("loop seconds", round(time.time() - t0, 2))"""

FINAL = """print(json.dumps({str(c): summary.stats(w.data(c)).as_dict() for c in ctxs}))"""


def draws(nb):
    return int(nb.dataset(VIEW)["paramlabDraws"])


def check_controls_while_busy(nb):
    """Pause, replica, log scale and redraw rate act at once while the training cell runs."""
    view = nb.page.locator(f".{VIEW}")
    view.locator(".paramlab-pause").click()
    held = draws(nb)
    nb.page.wait_for_timeout(600)
    assert draws(nb) == held, "drawing went on while paused"
    view.locator(".paramlab-pause").click()
    view.locator(".paramlab-replica").select_option("1")
    view.locator('.paramlab-card-big[data-ctx="cpu(1)"]').wait_for(timeout=3_000)
    view.locator(".paramlab-replica").select_option("-1")
    view.locator(".paramlab-log").check()
    view.locator(".paramlab-hist").first.wait_for(timeout=1_000)
    view.locator(".paramlab-rate").select_option("2")
    before = draws(nb)
    nb.page.wait_for_timeout(1_500)
    assert draws(nb) - before <= 4, "the redraw rate was not applied"
    view.locator(".paramlab-rate").select_option("10")
    view.locator(".paramlab-log").uncheck()
    assert nb.cell_busy(1), "the training cell finished before the controls were tried"


def drawn_stats(nb, ctx):
    raw = nb.page.locator(f'{CARD}[data-ctx="{ctx}"]').get_attribute("data-paramlab-stats")
    return json.loads(raw) if raw else None


def test_live_training_loop_is_drawn_and_ends_on_the_final_statistics(notebook):
    nb = notebook("parameter_live.ipynb", [SETUP, LOOP, FINAL])
    nb.run_cell(0)
    nb.page.wait_for_selector(f'{CARD}[data-ctx="cpu(1)"]', timeout=60_000)
    text = nb.host(VIEW).inner_text()
    assert "512\u00d7512 float32" in text and "cpu(0)" in text and "cpu(1)" in text
    assert "n 262,144" in text
    # at initial state the theory is drawn over the value histogram
    assert nb.page.locator(f'{CARD}[data-theory="shown"]').count() == 2
    start = int(nb.dataset(VIEW).get("paramlabDraws", 0))

    # while the loop runs, the page keeps drawing new updates
    nb.run_cell(1, wait=False)
    seen, draws, deadline = set(), 0, time.time() + 120
    controls_checked = False
    while time.time() < deadline:
        data = nb.dataset(VIEW)
        if not nb.cell_busy(1):
            if seen:
                break
        else:  # counted only while the cell is still running
            seen.add(data.get("paramlabSeq"))
            draws = max(draws, int(data.get("paramlabDraws", 0)) - start)
            if draws >= 20 and not controls_checked:
                check_controls_while_busy(nb)
                controls_checked = True
        nb.page.wait_for_timeout(100)
    nb.wait_cell(1)
    nb.check_no_errors()
    assert draws >= 20, f"only {draws} draws during the loop ({nb.stdout(1).strip()})"
    assert len(seen) >= 10, f"only {len(seen)} distinct updates seen while the cell ran: {seen}"
    assert controls_checked, "the loop ended before the controls could be tried"

    # the last drawn statistics are the parameter's final ones, exactly
    nb.run_cell(2)
    final = json.loads(nb.stdout(2).strip().splitlines()[-1])
    nb.page.wait_for_function(
        """(final) => Object.entries(final).every(([ctx, s]) => {
            const el = document.querySelector(
                `.paramlab-parameter-view .paramlab-card[data-ctx="${ctx}"]`);
            if (!el || !el.dataset.paramlabStats) return false;
            const got = JSON.parse(el.dataset.paramlabStats);
            return ["count", "mean", "std", "min", "max", "l2", "nan"].every(k => got[k] === s[k]);
        })""",
        arg=final, timeout=30_000)
    for ctx, stats in final.items():
        got = drawn_stats(nb, ctx)
        for key in ("count", "mean", "std", "min", "max", "l2", "zeros", "nan", "posinf", "neginf"):
            assert got[key] == stats[key], (ctx, key, got[key], stats[key])
        card = nb.page.locator(f'{CARD}[data-ctx="{ctx}"]')
        assert f"\u03c3 {js_fmt(stats['std'])}" in card.inner_text()
    assert nb.page.locator(f'{CARD}[data-theory="shown"]').count() == 0  # trained: no theory
    assert nb.page.locator(f"{CARD} .paramlab-badge-equal").count() == 1  # cpu(1) == cpu(0)

    colours = canvas_colours(nb.page, f"{CARD} canvas")
    assert colours and min(c for c in colours if c != -1) > 1, colours

    # no WebSocket frame carries the tensor (1 MiB): live updates stay under 32 KB, and nothing
    # (not the module source, not the static PNG face) comes near the tensor's size
    sizes = nb.frames.kernel()
    updates = nb.frames.comm_updates()
    assert len(updates) >= 20 and max(updates) < UPDATE_LIMIT, max(updates)
    assert max(sizes) < FRAME_LIMIT, nb.frames.big
    print(f"\nParameterView 512x512 on 2 contexts: {len(sizes)} kernel frames, max {max(sizes)} B; "
          f"{len(updates)} updates, max {max(updates)} B; {draws} draws during the loop; "
          f"frames over 16 KB: {sorted(set(nb.frames.big))[-4:]}")

    for theme in (LIGHT, DARK):
        if theme == DARK:
            nb.set_theme(DARK)
            bg = nb.host(VIEW).evaluate(
                "(el) => getComputedStyle(el.firstElementChild).backgroundColor")
            assert bg != "rgb(255, 255, 255)"
        nb.screenshot("parameter_view", theme, f".{VIEW}")
    nb.set_theme(LIGHT)


BADGES = """\
import paramlab as mx
from paramlab.widgets.parameter_view import ParameterView
ctxs = [mx.cpu(0), mx.cpu(1), mx.cpu(2)]
a = mx.gluon.Parameter("a", shape=(64, 32), init=mx.init.Normal(0.02))
a.initialize(ctx=ctxs)
b = mx.gluon.Parameter("b", shape=(64, 32), init=mx.init.Normal(0.02))
b.initialize(ctx=ctxs)
va, vb = ParameterView(a), ParameterView(b)
display(va, vb)"""

BREAK = """\
a.data(mx.cpu(1))[3, 4] = float("nan")
b.data(mx.cpu(2))[:] += 1e-3"""


def test_nan_badge_and_divergence_mark_only_their_replica(notebook):
    nb = notebook("parameter_badges.ipynb", [BADGES, BREAK])
    nb.run_cell(0)
    views = nb.page.locator(f".{VIEW}")
    views.nth(1).locator('.paramlab-card[data-ctx="cpu(2)"]').wait_for(timeout=60_000)
    assert nb.page.locator(".paramlab-badge-nan").count() == 0
    nb.run_cell(1)
    va, vb = views.nth(0), views.nth(1)
    va.locator('.paramlab-card[data-ctx="cpu(1)"] .paramlab-badge-nan').wait_for(timeout=30_000)
    for ctx, n in (("cpu(0)", 0), ("cpu(1)", 1), ("cpu(2)", 0)):
        assert va.locator(f'.paramlab-card[data-ctx="{ctx}"] .paramlab-badge-nan').count() == n
    assert "NaN 1" in va.locator('.paramlab-card[data-ctx="cpu(1)"]').inner_text()
    # a NaN on one side is a divergence too; the untouched replica stays bitwise equal
    assert va.locator('.paramlab-card[data-ctx="cpu(2)"] .paramlab-badge-equal').count() == 1

    diverged = vb.locator('.paramlab-card[data-ctx="cpu(2)"] .paramlab-badge-diverged')
    diverged.wait_for(timeout=30_000)
    assert vb.locator('.paramlab-card[data-ctx="cpu(1)"] .paramlab-badge-equal').count() == 1
    assert vb.locator('.paramlab-card[data-ctx="cpu(1)"] .paramlab-badge-diverged').count() == 0
    assert vb.locator(".paramlab-badge-nan").count() == 0
    text = diverged.inner_text()
    assert "max|\u0394| 0.001" in text and "2,048 differ" in text

    # the replica selector enlarges one card (display only, works without the kernel)
    va.locator(".paramlab-replica").select_option("1")
    va.locator('.paramlab-card-big[data-ctx="cpu(1)"]').wait_for(timeout=10_000)
    assert va.locator(".paramlab-card-mini").count() == 2
    for theme in (LIGHT, DARK):
        if theme == DARK:
            nb.set_theme(DARK)
        nb.screenshot("parameter_view_nan", theme, f".{VIEW} >> nth=0")
        nb.screenshot("parameter_view_divergence", theme, f".{VIEW} >> nth=1")
    nb.set_theme(LIGHT)
