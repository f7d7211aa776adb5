// InitDiagnosticsView: per-layer activation and gradient statistics after one forward/backward,
// against what the initializers' theory predicts. Traits: paramlab/widgets/PROTOCOL.md, sections 2 and 7.
import {
  h,
  arr,
  row,
  fmt,
  fmtShape,
  setText,
  Disposer,
  countDraw,
  modelState,
  theme,
  toolbar,
  errorLine,
  drawHist,
  fit,
  note,
  wireRedraw,
  redrawOnResize,
  teardown,
} from "./common.js";

// Curves over an integer x (1..n): each series {values, color, dash, dots}; log y when opts.log.
// opts.mark: an x to highlight; opts.title: a caption drawn in the corner.
function drawCurves(canvas, th, series, opts = {}) {
  const { ctx, w, h: hgt } = fit(canvas);
  const tf = opts.log ? (v) => (v > 0 ? Math.log10(v) : NaN) : (v) => v;
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    n = Math.max(n, s.values.length);
    for (const v of s.values) {
      const t = tf(v);
      if (Number.isFinite(t)) {
        lo = Math.min(lo, t);
        hi = Math.max(hi, t);
      }
    }
  }
  const L = 46;
  const R = w - 8;
  const T = 16;
  const B = hgt - 16;
  ctx.font = `10px ${th.font}`;
  ctx.fillStyle = th.fg2;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  if (opts.title) ctx.fillText(opts.title, L, 2);
  if (!n || !Number.isFinite(lo)) {
    note(ctx, w, hgt, opts.empty || "nothing measured", th);
    return;
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const X = (i) => L + (n > 1 ? (i / (n - 1)) * (R - L) : (R - L) / 2);
  const Y = (t) => B - ((t - lo) / (hi - lo)) * (B - T);
  ctx.strokeStyle = th.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(L, T);
  ctx.lineTo(L, B);
  ctx.lineTo(R, B);
  ctx.stroke();
  // y ticks: powers of ten on a log scale, else the ends
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const ticks = [];
  if (opts.log) {
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) ticks.push(e);
    if (ticks.length > 6) ticks.splice(0, ticks.length, ...ticks.filter((_, k) => k % Math.ceil(ticks.length / 6) === 0));
    if (ticks.length < 2) {
      // less than a decade: 1-2-5 steps
      ticks.length = 0;
      for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
        for (const m of [1, 2, 5]) {
          const t = e + Math.log10(m);
          if (t >= lo && t <= hi) ticks.push(t);
        }
      }
    }
  }
  if (!ticks.length) ticks.push(lo + pad, hi - pad);
  for (const t of ticks) {
    const y = Math.round(Y(t)) + 0.5;
    ctx.strokeStyle = th.grid;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(L, y);
    ctx.lineTo(R, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillText(opts.log ? fmt(10 ** t, 2) : fmt(t, 3), L - 4, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const step = Math.max(1, Math.ceil(n / 12));
  for (let i = 0; i < n; i += step) ctx.fillText(String(i + 1), X(i), B + 3);
  if (opts.mark !== undefined && opts.mark !== null && opts.mark >= 0 && opts.mark < n) {
    ctx.strokeStyle = th.fg2;
    ctx.beginPath();
    ctx.moveTo(Math.round(X(opts.mark)) + 0.5, T);
    ctx.lineTo(Math.round(X(opts.mark)) + 0.5, B);
    ctx.stroke();
  }
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width || 1.75;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const t = tf(s.values[i]);
      if (!Number.isFinite(t)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(X(i), Y(t));
      else ctx.moveTo(X(i), Y(t));
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.dots) {
      for (let i = 0; i < s.values.length; i++) {
        const t = tf(s.values[i]);
        if (!Number.isFinite(t)) continue;
        ctx.beginPath();
        ctx.arc(X(i), Y(t), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
}

// [header, title, cell(i, c, layer)]
const pct = (v) => (Number.isFinite(v) ? fmt(100 * v, 3) : "-");
const num = (v) => (Number.isFinite(v) ? fmt(v, 3) : "-");
const COLUMNS = [
  ["#", "layer number (forward order)", (i, c, l) => String(l.index)],
  ["layer", "structural name and block class", (i, c, l) => `${l.name} ${l.block}`],
  ["act", "activation", (i, c, l) => l.activation],
  ["init", "initializer", (i, c, l) => l.init],
  ["fan", "fan in \u2192 fan out", (i, c, l) => `${l.fan_in}\u2192${l.fan_out}`],
  ["act rms", "RMS of the layer's output", (i, c) => num(c.act_rms[i])],
  ["ratio", "RMS(out) / RMS(in), measured", (i, c) => num(c.act_ratio[i])],
  ["theory", "RMS(out) / RMS(in), predicted", (i, c) => num(c.act_ratio_theory[i])],
  ["~0 %", "outputs with |v| < 0.01", (i, c) => pct(c.near_zero[i])],
  ["sat %", "outputs at the ends of a bounded activation", (i, c) => pct(c.saturated[i])],
  ["dead %", "ReLU units zero for the whole batch", (i, c) => pct(c.dead[i])],
  ["grad rms", "RMS of dLoss/d(output)", (i, c) => num(c.grad_rms[i])],
  ["ratio", "RMS(dL/din) / RMS(dL/dout), measured", (i, c) => num(c.grad_ratio[i])],
  ["theory", "the same, predicted", (i, c) => num(c.grad_ratio_theory[i])],
];

function curvesOf(model, L) {
  const out = {};
  const raw = model.get("curves") || {};
  for (const k of [
    "act_rms",
    "act_rms_theory",
    "act_ratio",
    "act_ratio_theory",
    "grad_rms",
    "grad_rms_theory",
    "grad_ratio",
    "grad_ratio_theory",
    "near_zero",
    "saturated",
    "dead",
  ]) {
    out[k] = arr(raw[k]) || new Float64Array(L).fill(NaN);
  }
  return out;
}

function hists(payload, L) {
  if (!payload || !payload.counts || !payload.edges) return null;
  const counts = arr(payload.counts);
  const edges = arr(payload.edges);
  const bins = counts.length / Math.max(1, L);
  return {
    counts: (i) => row(counts, i, bins),
    edges: (i) => {
      const e = row(edges, i, bins + 1);
      return Number.isFinite(e[0]) ? e : null;
    },
  };
}

function render({ model, el }) {
  const d = new Disposer();
  modelState(model).renders += 1;
  const recompute = h("button", { class: "paramlab-btn paramlab-primary paramlab-recompute", type: "button", text: "\u21bb recompute" });
  const bar = toolbar(model, d, [recompute]);
  const summary = h("div", { class: "paramlab-init-head paramlab-diag-summary" });
  const findings = h("ul", { class: "paramlab-findings" });
  const actChart = h("canvas", { class: "paramlab-diag-chart" });
  const gradChart = h("canvas", { class: "paramlab-diag-chart" });
  const legend = h("div", { class: "paramlab-legend" });
  const thead = h("tr", {});
  const tbody = h("tbody", {});
  const table = h("table", { class: "paramlab-table paramlab-diag-table" }, h("thead", {}, thead), tbody);
  const detailHead = h("div", { class: "paramlab-cardhead" });
  const actHist = h("canvas", { class: "paramlab-hist paramlab-diag-hist" });
  const gradHist = h("canvas", { class: "paramlab-hist paramlab-diag-hist" });
  const detail = h(
    "div",
    { class: "paramlab-diag-detail" },
    detailHead,
    h(
      "div",
      { class: "paramlab-diag-charts" },
      h("figure", { class: "paramlab-fig" }, actHist, h("div", { class: "paramlab-cap", text: "activations (layer output)" })),
      h("figure", { class: "paramlab-fig" }, gradHist, h("div", { class: "paramlab-cap", text: "gradients dLoss/d(output)" })),
    ),
  );
  const root = h(
    "div",
    { class: "paramlab paramlab-init-diagnostics-view" },
    bar.node,
    summary,
    errorLine(model, d),
    findings,
    h("div", { class: "paramlab-diag-charts" }, h("figure", { class: "paramlab-fig" }, actChart), h("figure", { class: "paramlab-fig" }, gradChart)),
    legend,
    h("div", { class: "paramlab-diag-scroll" }, table),
    detail,
  );
  el.replaceChildren(root);
  el.classList.add("paramlab-host");
  for (const [name, title] of COLUMNS) thead.append(h("th", { title, text: name }));
  thead.append(h("th", { title: "activation histogram", text: "activations" }), h("th", { title: "gradient histogram", text: "gradients" }));

  d.listen(recompute, "click", () => model.send({ type: "recompute" }));
  d.listen(tbody, "click", (ev) => {
    const tr = ev.target.closest("tr");
    if (!tr || tr.dataset.index === undefined) return;
    const i = Number(tr.dataset.index);
    model.set("selected_layer", model.get("selected_layer") === i ? -1 : i);
    model.save_changes();
  });

  let th = theme(el);
  let rowsKey = null;
  let rowCanvases = [];
  const draw = () => {
    const t0 = performance.now();
    const layers = model.get("layers") || [];
    const L = layers.length;
    const rs = model.get("report_summary") || {};
    const c = curvesOf(model, L);
    const sel = Number(model.get("selected_layer") ?? -1);
    const log = !!model.get("log_scale");
    summary.replaceChildren(
      h("b", { class: "paramlab-name" }, rs.net || "network"),
      ` \u00b7 ${L} layers \u00b7 batch ${fmtShape(rs.batch_shape)} on ${rs.context || "?"} \u00b7 ${rs.train_mode ? "training" : "inference"} mode \u00b7 ${rs.head || ""}`,
      h("br", {}),
      `input rms ${fmt(rs.input_rms, 3)} \u00b7 input gradient rms ${fmt(rs.input_grad_rms, 3)} \u00b7 head gradient rms ${fmt(rs.head_grad_rms, 3)}`,
    );

    const fs = model.get("findings") || [];
    findings.replaceChildren(
      ...fs.map((f) =>
        h(
          "li",
          { class: `paramlab-finding paramlab-finding-${f.severity}`, "data-kind": f.kind },
          h("span", { class: `paramlab-badge ${f.severity === "warning" ? "paramlab-bad" : ""}` }, f.severity === "warning" ? "warning" : "info"),
          ` ${f.message}`,
          f.layers && f.layers.length ? h("span", { class: "paramlab-note" }, ` (layers ${f.layers.join(", ")})`) : null,
        ),
      ),
    );
    findings.hidden = !fs.length;

    drawCurves(actChart, th, [
      { values: c.act_rms, color: th.value, dots: true },
      { values: c.act_rms_theory, color: th.theory, dash: [5, 4] },
    ], { log: true, mark: sel, title: "activation RMS by layer" });
    drawCurves(gradChart, th, [
      { values: c.grad_rms, color: th.grad, dots: true },
      { values: c.grad_rms_theory, color: th.theory, dash: [5, 4] },
    ], { log: true, mark: sel, title: "gradient RMS by layer (dLoss/d output)" });
    legend.replaceChildren(
      h("span", {}, h("span", { class: "paramlab-swatch", style: `background:${th.value}` }), "activations, measured"),
      h("span", {}, h("span", { class: "paramlab-swatch", style: `background:${th.grad}` }), "gradients, measured"),
      h("span", {}, h("span", { class: "paramlab-swatch", style: `background:${th.theory}` }), "theory (mean field, chained from the input / the head)"),
    );

    // the table: rebuilt when the layers change, numbers refreshed every draw
    const key = JSON.stringify(layers);
    if (key !== rowsKey) {
      rowsKey = key;
      rowCanvases = [];
      tbody.replaceChildren(
        ...layers.map((l, i) => {
          const a = h("canvas", { class: "paramlab-mv-mini" });
          const g = h("canvas", { class: "paramlab-mv-mini" });
          rowCanvases.push([a, g]);
          return h(
            "tr",
            { "data-index": String(i), "data-name": l.name },
            ...COLUMNS.map(([, title]) => h("td", { title })),
            h("td", {}, a),
            h("td", {}, g),
          );
        }),
      );
    }
    const ah = hists(model.get("act_hist"), L);
    const gh = hists(model.get("grad_hist"), L);
    const warned = new Set();
    for (const f of fs) if (f.severity === "warning") for (const k of f.layers || []) warned.add(k);
    [...tbody.children].forEach((tr, i) => {
      const l = layers[i];
      COLUMNS.forEach(([, , cell], k) => setText(tr.children[k], cell(i, c, l)));
      tr.setAttribute("aria-selected", String(i === sel));
      tr.classList.toggle("paramlab-row-warn", warned.has(l.index));
      const [a, g] = rowCanvases[i];
      drawHist(a, th, { counts: ah && ah.counts(i), edges: ah && ah.edges(i), log, color: th.value, axes: false, empty: "" });
      drawHist(g, th, { counts: gh && gh.counts(i), edges: gh && gh.edges(i), log, color: th.grad, axes: false, empty: "" });
    });

    detail.hidden = !(sel >= 0 && sel < L);
    if (!detail.hidden) {
      const l = layers[sel];
      setText(detailHead, `layer ${l.index} \u00b7 ${l.name} (${l.block}, ${l.activation}, ${l.init}): act rms ${num(c.act_rms[sel])}, grad rms ${num(c.grad_rms[sel])}`);
      drawHist(actHist, th, { counts: ah && ah.counts(sel), edges: ah && ah.edges(sel), log, color: th.value });
      drawHist(gradHist, th, { counts: gh && gh.counts(sel), edges: gh && gh.edges(sel), log, color: th.grad });
    }
    root.dataset.paramlabLayers = String(L);
    countDraw(el, model, t0);
    bar.status.textContent = `update ${model.get("seq") ?? 0}`;
  };

  const redraw = wireRedraw(d, model, draw, {
    data: ["seq", "layers", "curves", "act_hist", "grad_hist", "findings", "report_summary"],
    display: ["log_scale", "selected_layer"],
    onTheme: () => (th = theme(el)),
  });
  redrawOnResize(d, root, redraw);
  draw();
  return teardown(d, el);
}

export default { render };
