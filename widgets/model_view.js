// ModelView: every parameter of a model as a table row (stats, gradient norm, replica divergence,
// value histogram, norm sparkline), live while training; only the rows in view are in the DOM.
// Selecting a row shows its cards at once from the table's data; the full cards follow from `detail`.
// Traits: paramlab/widgets/PROTOCOL.md, sections 2 and 5.
import {
  h,
  arr,
  row,
  fmt,
  fmtInt,
  fmtShape,
  setText,
  Disposer,
  CardSet,
  countDraw,
  modelState,
  theme,
  toolbar,
  errorLine,
  drawHist,
  drawSpark,
  wireRedraw,
  teardown,
} from "./common.js";

const ROW_H = 26;
const OVERSCAN = 4;
// [key, header, title]; keys with a number sort
const COLS = [
  ["name", "parameter", "structural name"],
  ["shape", "shape", "shape and dtype"],
  ["init", "init", "initializer"],
  ["mean", "mean", "mean of replica 0"],
  ["std", "std", "standard deviation of replica 0"],
  ["l2", "\u2016w\u2016", "L2 norm of replica 0"],
  ["grad", "\u2016g\u2016", "L2 norm of replica 0's gradient"],
  ["div", "replicas", "largest difference of any replica from replica 0"],
  ["bad", "NaN/Inf", "non-finite values over all replicas"],
  ["hist", "values", "value histogram of replica 0"],
  ["spark", "\u2016w\u2016 \u2016g\u2016", "history of the norms (value, gradient)"],
];

function linspace(lo, hi, n) {
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = lo + ((hi - lo) * i) / (n - 1);
  return e;
}

// The norm history of every row, kept per model across renderings (PROTOCOL.md section 5): each row
// holds its newest `len` points (value, gradient), oldest first, NaN-padded at the start. A Columns
// brings the whole history ("history_full") or only the points new since the Columns it names
// ("history_base").
function historyRing(model) {
  const s = modelState(model);
  if (!s.history) s.history = { seq: null, rows: 0, len: 0, ring: null, asked: false, gaps: 0 };
  return s.history;
}

// Takes the history of one Columns into the ring, once (whichever rendering sees it first). After a
// gap (a missed update, or a page that never had the history) the points received are kept alone,
// never joined to older ones, and the kernel is asked for the whole history again.
function takeHistory(model, columns) {
  const hr = historyRing(model);
  const points = columns ? arr(columns.history) : null;
  if (!points) return;
  const seq = columns.history_seq;
  if (seq !== undefined && seq === hr.seq) return;
  const [rows, k] = columns.history.shape;
  if (columns.history_full !== false) {
    Object.assign(hr, { seq, rows, len: k, ring: new Float32Array(points), asked: false });
    return;
  }
  const fresh = arr(columns.history_new);
  const joins = hr.ring !== null && hr.rows === rows && columns.history_base === hr.seq;
  if (!joins) {
    const len = Math.max(k, Number(model.get("history_len")) || 0);
    Object.assign(hr, { rows, len, ring: new Float32Array(rows * len * 2).fill(NaN) });
    hr.gaps += 1;
    if (!hr.asked) model.send({ type: "refresh" });
    hr.asked = true;
  }
  for (let i = 0; i < rows; i++) appendPoints(hr, i, points, k, joins ? fresh[i] : k);
  hr.seq = seq;
}

// Appends the newest `n` of row i's `k` received points to its ring row (the oldest fall out).
function appendPoints(hr, i, points, k, n) {
  const m = Math.min(n, k, hr.len);
  if (!m) return;
  const start = i * hr.len * 2;
  hr.ring.copyWithin(start, start + 2 * m, start + 2 * hr.len);
  hr.ring.set(points.subarray(2 * (i * k + k - m), 2 * (i + 1) * k), start + 2 * (hr.len - m));
}

// Unpacks `columns` once per update into per-row accessors (the history from the ring `hr`).
function table(columns, nrows, hr) {
  if (!columns || !columns.value) return null;
  const fields = columns.fields || ["mean", "std", "min", "max", "l2", "zeros", "nan", "posinf", "neginf", "count"];
  const nf = fields.length;
  const value = arr(columns.value);
  const hist = arr(columns.hist);
  const bins = hist ? hist.length / Math.max(1, nrows) : 0;
  const t = {
    fields,
    value,
    nonfinite: arr(columns.nonfinite),
    grad_l2: arr(columns.grad_l2),
    divergence: arr(columns.divergence),
    hist,
    bins,
    hist_range: arr(columns.hist_range),
    grad_hist: arr(columns.grad_hist),
    grad_hist_range: arr(columns.grad_hist_range),
    at_init: arr(columns.at_init),
    version: arr(columns.version),
  };
  t.field = (i, name) => {
    const k = fields.indexOf(name);
    return k < 0 || !value ? NaN : value[i * nf + k];
  };
  t.stats = (i) => {
    const s = {};
    for (const f of fields) {
      const v = t.field(i, f);
      s[f] = Number.isNaN(v) && ["mean", "std", "min", "max"].includes(f) ? null : v;
    }
    return s;
  };
  t.series = (i, k) => {
    const { ring, len } = hr;
    const out = new Float32Array(len).fill(NaN);
    if (ring && i < hr.rows) for (let j = 0; j < len; j++) out[j] = ring[(i * len + j) * 2 + k];
    return out;
  };
  t.edges = (i, grad) => {
    const r = grad ? t.grad_hist_range : t.hist_range;
    if (!r || !Number.isFinite(r[2 * i]) || !Number.isFinite(r[2 * i + 1])) return null;
    return linspace(r[2 * i], r[2 * i + 1], bins + 1);
  };
  return t;
}

// A one-replica Card made from the table's row, shown until the kernel's `detail` arrives.
function cardFromRow(r, i, t) {
  const s = t.stats(i);
  s.shape = r.shape;
  s.dtype = r.dtype;
  const gl2 = t.grad_l2 ? t.grad_l2[i] : NaN;
  const grad = Number.isFinite(gl2)
    ? {
        stats: { partial: true, l2: gl2 },
        hist: { counts: row(t.grad_hist, i, t.bins), below: 0, above: 0, binned: 0 },
        version: 0,
      }
    : null;
  const atInit = !!(t.at_init && t.at_init[i]);
  return {
    name: r.param,
    structural_name: r.name,
    shape: r.shape,
    dtype: r.dtype,
    stype: "default",
    grad_req: r.grad_req,
    constant: r.constant,
    status: r.status,
    init: r.init,
    contexts: r.contexts,
    edges: t.edges(i, false),
    grad_edges: t.edges(i, true),
    grad_note: grad ? "" : r.grad_req === "null" ? "no gradient (grad_req='null')" : "no gradient yet",
    theory: null,
    at_init: atInit,
    replicas: [
      {
        ctx: (r.contexts && r.contexts[0]) || "replica 0",
        version: t.version ? t.version[i] : 0,
        changed: true,
        at_init: atInit,
        stats: s,
        hist: { counts: row(t.hist, i, t.bins), below: 0, above: 0, binned: 0 },
        thumb: null,
        grad,
        divergence: null,
      },
    ],
    history: { value_l2: t.series(i, 0), grad_l2: t.series(i, 1) },
  };
}

function sameParam(card, r) {
  return !!card && !!r && (card.structural_name === r.name || (!card.structural_name && card.name === r.param));
}

class RowView {
  constructor() {
    this.cells = {};
    const kids = COLS.map(([k]) => {
      const c = k === "hist" || k === "spark" ? h("canvas", { class: "paramlab-mv-mini" }) : h("span", { class: `paramlab-mv-${k}` });
      this.cells[k] = c;
      return k === "hist" || k === "spark" ? h("span", {}, c) : c;
    });
    this.node = h("div", { class: "paramlab-mv-row", role: "row" }, ...kids);
  }

  fill(r, i, t, th, opts) {
    const n = this.node;
    n.style.top = `${opts.pos * ROW_H}px`;
    n.dataset.name = r.name;
    n.dataset.index = String(i);
    n.setAttribute("aria-selected", String(opts.selected));
    const c = this.cells;
    setText(c.name, r.name);
    c.name.title = `${r.name} (${r.param})`;
    setText(c.shape, fmtShape(r.shape));
    c.shape.title = `${fmtShape(r.shape)} ${r.dtype}`;
    setText(c.init, r.status === "ready" ? r.init || "-" : r.status);
    c.init.title = r.init || "";
    if (!t || r.status !== "ready") {
      for (const k of ["mean", "std", "l2", "grad", "div", "bad"]) setText(c[k], "-");
      drawHist(c.hist, th, { counts: null, edges: null, empty: r.status, axes: false });
      drawSpark(c.spark, th, [], { empty: "" });
      return;
    }
    setText(c.mean, fmt(t.field(i, "mean"), 3));
    setText(c.std, fmt(t.field(i, "std"), 3));
    setText(c.l2, fmt(t.field(i, "l2"), 3));
    const g = t.grad_l2 ? t.grad_l2[i] : NaN;
    setText(c.grad, Number.isNaN(g) ? "-" : fmt(g, 3));
    const dv = t.divergence;
    c.div.className = "paramlab-mv-div";
    if (!dv || Number.isNaN(dv[3 * i + 2])) setText(c.div, "1 replica");
    else if (dv[3 * i + 2] === 1) {
      setText(c.div, `= ${(r.contexts || []).length} equal`);
      c.div.classList.add("paramlab-okc");
    } else {
      setText(c.div, `\u2260 max|\u0394| ${fmt(dv[3 * i], 2)}`);
      c.div.title = `replicas differ: max |diff| ${fmt(dv[3 * i])}, relative L2 ${fmt(dv[3 * i + 1])}`;
      c.div.classList.add("paramlab-bad");
    }
    const nf = t.nonfinite;
    const parts = [];
    if (nf) {
      if (nf[3 * i] > 0) parts.push(`NaN ${fmtInt(nf[3 * i])}`);
      if (nf[3 * i + 1] > 0) parts.push(`+Inf ${fmtInt(nf[3 * i + 1])}`);
      if (nf[3 * i + 2] > 0) parts.push(`-Inf ${fmtInt(nf[3 * i + 2])}`);
    }
    setText(c.bad, parts.length ? parts.join(" ") : "0");
    c.bad.className = parts.length ? "paramlab-mv-bad paramlab-bad" : "paramlab-mv-bad";
    drawHist(c.hist, th, { counts: row(t.hist, i, t.bins), edges: t.edges(i, false), log: opts.log, color: th.value, axes: false });
    const values = t.series(i, 0);
    n.dataset.historyPoints = String(values.filter(Number.isFinite).length);
    drawSpark(c.spark, th, [
      { values, color: th.value },
      { values: t.series(i, 1), color: th.grad, width: 1 },
    ], { empty: "", separate: true });
  }
}

function render({ model, el }) {
  const d = new Disposer();
  modelState(model).renders += 1;
  const filter = h("input", {
    type: "text",
    class: "paramlab-mv-filter",
    placeholder: "filter by name",
    "data-lm-suppress-shortcuts": "true",
  });
  const count = h("span", { class: "paramlab-mv-count" });
  const bar = toolbar(model, d, [filter, count]);
  const header = h("div", { class: "paramlab-mv-row paramlab-mv-head", role: "row" });
  const body = h("div", { class: "paramlab-mv-body", style: "position:relative" });
  const scroller = h("div", { class: "paramlab-mv-scroll", role: "grid" }, body);
  const detailHead = h("div", { class: "paramlab-note" });
  const cards = new CardSet();
  const detail = h("div", { class: "paramlab-detail" }, detailHead, cards.node);
  const root = h(
    "div",
    { class: "paramlab paramlab-model-view" },
    bar.node,
    errorLine(model, d),
    h("div", { class: "paramlab-table-wrap", style: "overflow-x:auto" }, h("div", { class: "paramlab-mv-inner" }, header, scroller)),
    detail,
  );
  el.replaceChildren(root);
  el.classList.add("paramlab-host");

  const ui = modelState(model).ui; // filter, sort and scroll survive a re-rendering
  let sortKey = ui.sortKey || "";
  let sortDir = ui.sortDir || 0;
  filter.value = ui.filter || "";
  for (const [k, label, title] of COLS) {
    const cell = h("span", { title, text: label });
    if (["mean", "std", "l2", "grad", "div", "bad", "name"].includes(k)) cell.dataset.key = k;
    header.append(cell);
  }
  d.listen(header, "click", (ev) => {
    const k = ev.target.dataset && ev.target.dataset.key;
    if (!k) return;
    if (sortKey !== k) {
      sortKey = k;
      sortDir = k === "name" ? 1 : -1;
    } else if (sortDir === -1) sortDir = 1;
    else {
      sortKey = "";
      sortDir = 0;
    }
    ui.sortKey = sortKey;
    ui.sortDir = sortDir;
    markSort();
    dirtyOrder = true;
    redraw.request(false);
  });
  function markSort() {
    for (const c of header.children) {
      if (c.dataset.key === sortKey) c.dataset.sort = sortDir > 0 ? "asc" : "desc";
      else delete c.dataset.sort;
    }
  }
  markSort();

  let th = theme(el);
  const hr = historyRing(model);
  takeHistory(model, model.get("columns"));
  let t = null;
  let tKey = null;
  let order = [];
  let dirtyOrder = true;
  const pool = [];
  const lastDetail = new Map(); // name -> last full card received (shown at once on re-selection)

  const sortValue = (i, rows) => {
    if (sortKey === "name") return rows[i].name;
    if (!t) return NaN;
    if (sortKey === "grad") return t.grad_l2 ? t.grad_l2[i] : NaN;
    if (sortKey === "div") return t.divergence ? t.divergence[3 * i] : NaN;
    if (sortKey === "bad") return t.nonfinite ? t.nonfinite[3 * i] + t.nonfinite[3 * i + 1] + t.nonfinite[3 * i + 2] : 0;
    return t.field(i, sortKey);
  };
  const computeOrder = (rows) => {
    const q = filter.value.trim().toLowerCase();
    order = [];
    for (let i = 0; i < rows.length; i++) if (!q || rows[i].name.toLowerCase().includes(q)) order.push(i);
    if (sortKey) {
      const key = new Map(order.map((i) => [i, sortValue(i, rows)]));
      order.sort((a, b) => {
        const x = key.get(a);
        const y = key.get(b);
        if (typeof x === "string") return sortDir * x.localeCompare(y, undefined, { numeric: true });
        const nx = Number.isNaN(x);
        const ny = Number.isNaN(y);
        if (nx || ny) return nx - ny;
        return sortDir * (x - y);
      });
    }
    dirtyOrder = false;
  };

  const drawRows = () => {
    const rows = model.get("rows") || [];
    const cols = model.get("columns");
    if (cols !== tKey) {
      t = table(cols, rows.length, hr);
      tKey = cols;
      if (sortKey) dirtyOrder = true;
    }
    if (dirtyOrder) computeOrder(rows);
    body.style.height = `${order.length * ROW_H}px`;
    const viewH = scroller.clientHeight || 340;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(order.length, Math.ceil((scroller.scrollTop + viewH) / ROW_H) + OVERSCAN);
    const need = Math.max(0, last - first);
    while (pool.length < need) {
      const rv = new RowView();
      pool.push(rv);
      body.append(rv.node);
    }
    const sel = model.get("selected") || "";
    const log = !!model.get("log_scale");
    for (let k = 0; k < pool.length; k++) {
      const rv = pool[k];
      if (k >= need) {
        rv.node.hidden = true;
        continue;
      }
      rv.node.hidden = false;
      const i = order[first + k];
      rv.fill(rows[i], i, t, th, { pos: first + k, selected: rows[i].name === sel, log });
    }
    root.dataset.paramlabRows = String(rows.length);
    root.dataset.paramlabRenderedRows = String(need);
    root.dataset.paramlabHistorySeq = String(hr.seq ?? "");
    root.dataset.paramlabHistoryGaps = String(hr.gaps);
    setText(count, `${order.length === rows.length ? "" : `${order.length} of `}${rows.length} parameters \u00b7 step ${model.get("step") ?? -1}`);
  };

  const drawDetail = () => {
    const sel = model.get("selected") || "";
    const rows = model.get("rows") || [];
    const i = rows.findIndex((r) => r.name === sel);
    detail.hidden = i < 0;
    if (i < 0) return;
    const full = model.get("detail");
    if (sameParam(full, rows[i])) lastDetail.set(sel, full);
    const card = lastDetail.get(sel);
    const live = sameParam(full, rows[i]);
    const opts = { log: !!model.get("log_scale"), selected: -1 };
    if (live) {
      setText(detailHead, "");
      cards.update(full, th, opts);
      detail.dataset.source = "detail";
    } else if (card) {
      setText(detailHead, "last cards received for this parameter; live cards follow when the kernel is free");
      cards.update(card, th, opts);
      detail.dataset.source = "cache";
    } else if (t) {
      setText(detailHead, "replica 0 from the table; every replica's card follows when the kernel is free");
      cards.update(cardFromRow(rows[i], i, t), th, opts);
      detail.dataset.source = "table";
    }
    detail.dataset.name = sel;
  };

  const draw = () => {
    const t0 = performance.now();
    drawRows();
    drawDetail();
    countDraw(el, model, t0);
    bar.status.textContent = `update ${model.get("seq") ?? 0}`;
  };
  const redraw = wireRedraw(d, model, draw, {
    data: ["columns", "detail", "seq", "step"],
    display: ["selected", "log_scale"],
    onTheme: () => (th = theme(el)),
  });
  d.on(model, "change:rows", () => {
    dirtyOrder = true;
    redraw.request(true);
  });
  d.on(model, "change:columns", () => takeHistory(model, model.get("columns")));
  d.listen(filter, "input", () => {
    ui.filter = filter.value;
    dirtyOrder = true;
    redraw.request(false);
  });
  // scrolling draws the rows that come into view at once, even while paused
  let frame = 0;
  d.listen(scroller, "scroll", () => {
    ui.scrollTop = scroller.scrollTop;
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawRows();
    });
  }, { passive: true });
  d.add(() => cancelAnimationFrame(frame));
  d.listen(body, "click", (ev) => {
    const r = ev.target.closest(".paramlab-mv-row");
    if (!r || !r.dataset.name) return;
    model.set("selected", r.dataset.name === model.get("selected") ? "" : r.dataset.name);
    model.save_changes();
    drawRows();
    drawDetail();
  });
  draw();
  if (ui.scrollTop) {
    // restored once the element is in the document (render may run before it is attached)
    const restore = requestAnimationFrame(() => {
      scroller.scrollTop = ui.scrollTop;
      drawRows();
    });
    d.add(() => cancelAnimationFrame(restore));
  }
  return teardown(d, el);
}

export default { render };
