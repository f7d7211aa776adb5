// paramlab views: helpers shared by every view module.
// The kernel inlines this file into each view module (see paramlab/widgets/PROTOCOL.md, section 0):
// named exports only, no imports, no default export. Everything that touches the page is removed by
// the Disposer each view's render() returns.

export const PL_SVG_NS = "http://www.w3.org/2000/svg";

// ------------------------------------------------------------------------------------- DOM
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "for") {
      node.setAttribute(k, v === true ? "" : String(v));
    } else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) {
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  return node;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ------------------------------------------------------------------------------- lifecycle
// Collects everything a view attaches (model handlers, DOM listeners, observers, timers, frames)
// so that the cleanup returned by render() removes all of it.
export class Disposer {
  constructor() {
    this.fns = [];
    this.done = false;
  }
  add(fn) {
    this.fns.push(fn);
    return fn;
  }
  on(model, name, cb) {
    model.on(name, cb);
    this.add(() => model.off(name, cb));
  }
  listen(target, type, cb, opts) {
    target.addEventListener(type, cb, opts);
    this.add(() => target.removeEventListener(type, cb, opts));
  }
  observe(observer) {
    this.add(() => observer.disconnect());
    return observer;
  }
  dispose() {
    this.done = true;
    while (this.fns.length) {
      try {
        this.fns.pop()();
      } catch (err) {
        console.warn("paramlab: cleanup failed", err);
      }
    }
  }
}

// Draws at most `rate()` times per second, on an animation frame, latest data wins. While paused()
// nothing is drawn (requests are remembered and drawn on resume).
export class Redraw {
  constructor(d, draw, rate, paused) {
    this.d = d;
    this.draw = draw;
    this.rate = rate;
    this.paused = paused;
    this.dirty = false;
    this.timer = 0;
    this.frame = 0;
    this.last = 0;
    this.held = 0;
    d.add(() => {
      clearTimeout(this.timer);
      cancelAnimationFrame(this.frame);
    });
  }
  request(fromData) {
    this.dirty = true;
    if (this.paused()) {
      if (fromData) this.held += 1;
      return;
    }
    this.arm();
  }
  arm() {
    if (this.timer || this.frame || this.d.done) return;
    const hz = Math.max(0.1, Number(this.rate()) || 10);
    const wait = Math.max(0, this.last + 1000 / hz - performance.now());
    this.timer = setTimeout(() => {
      // on the next frame, or after 250 ms where frames are not delivered (a hidden tab)
      this.frame = requestAnimationFrame(() => this.run());
      this.timer = setTimeout(() => this.run(), 250);
    }, wait);
  }
  run() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
    if (this.d.done || !this.dirty || this.paused()) return;
    this.dirty = false;
    this.held = 0;
    this.last = performance.now();
    try {
      this.draw();
    } catch (err) {
      console.error("paramlab: drawing failed", err);
    }
  }
  resume() {
    if (this.dirty) this.arm();
  }
}

// Per-model state that outlives one rendering: JupyterLab renders a view again when its output is
// updated (the kernel refreshes the static face at the end of a cell), and the new rendering takes
// over the draw count and the view's local UI state (filter, sort, scroll) from the previous one.
// Each rendering gets its own model proxy, so the key is a token kept in the model's attributes
// (never declared by the kernel, which ignores it if a later save_changes carries it along).
const PER_MODEL = new Map();
export function modelState(model) {
  let key = model.get("_paramlab_view_key");
  if (!key) {
    key = `pl${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    model.set("_paramlab_view_key", key);
  }
  let s = PER_MODEL.get(key);
  if (!s) {
    s = { draws: 0, renders: 0, ui: {} };
    PER_MODEL.set(key, s);
  }
  return s;
}

// Counts draws for people and tests: data-paramlab-draws (all renderings of this model),
// data-paramlab-seq (the update drawn last), data-paramlab-draw-ms, data-paramlab-renders.
export function countDraw(el, model, t0) {
  const s = modelState(model);
  s.draws += 1;
  el.dataset.paramlabDraws = String(s.draws);
  el.dataset.paramlabRenders = String(s.renders);
  const seq = model.get("seq");
  if (seq !== undefined && seq !== null) el.dataset.paramlabSeq = String(seq);
  if (t0 !== undefined) el.dataset.paramlabDrawMs = (performance.now() - t0).toFixed(2);
  return s.draws;
}

// ----------------------------------------------------------------------------------- arrays
const TYPED = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

// {buffer: DataView|ArrayBuffer|TypedArray, dtype, shape} -> typed array (copied when unaligned).
export function arr(a) {
  if (a === null || a === undefined) return null;
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) return a;
  if (Array.isArray(a)) return Float64Array.from(a, (v) => (v === null ? NaN : v));
  const T = TYPED[a.dtype];
  if (!T) throw new Error(`paramlab: unsupported dtype ${a.dtype}`);
  let b = a.buffer;
  if (Array.isArray(b)) return T.from(b);
  if (b instanceof ArrayBuffer) return new T(b);
  if (ArrayBuffer.isView(b)) {
    if (b.byteOffset % T.BYTES_PER_ELEMENT !== 0) {
      b = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      return new T(b);
    }
    return new T(b.buffer, b.byteOffset, b.byteLength / T.BYTES_PER_ELEMENT);
  }
  throw new Error("paramlab: array without a buffer");
}

export function shapeOf(a) {
  return a && a.shape ? a.shape : null;
}

// Row i of a 2-D typed array stored in C order with `cols` columns.
export function row(a, i, cols) {
  return a.subarray(i * cols, (i + 1) * cols);
}

// ---------------------------------------------------------------------------------- numbers
export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "-";
  if (typeof x !== "number") x = Number(x);
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-Inf";
  if (x === 0) return "0";
  const ax = Math.abs(x);
  if (ax >= 1e5 || ax < 1e-3) {
    const [m, e] = x.toExponential(digits - 1).split("e");
    return `${m.replace(/\.?0+$/, "")}e${e.replace("+", "")}`;
  }
  return String(Number(x.toPrecision(digits)));
}

export function fmtInt(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "-";
  return Math.round(n).toLocaleString("en-US");
}

export function fmtShape(shape) {
  if (!shape) return "?";
  return shape.length ? shape.join("\u00d7") : "scalar";
}

// ----------------------------------------------------------------------------------- theme
let probe = null;
function probeCtx() {
  if (!probe) probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  return probe;
}

// Any CSS colour -> [r, g, b, a] (0-255).
export function rgba(color) {
  const c = probeCtx();
  c.clearRect(0, 0, 1, 1);
  c.fillStyle = "#000";
  c.fillStyle = color;
  c.fillRect(0, 0, 1, 1);
  return Array.from(c.getImageData(0, 0, 1, 1).data);
}

function cssVar(style, name, fallback) {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

// The colours canvases use, read from JupyterLab's theme variables on `node` (fallbacks elsewhere).
export function theme(node) {
  const s = getComputedStyle(node);
  const bg = cssVar(s, "--jp-layout-color1", "#ffffff");
  const [r, g, b] = rgba(bg);
  const dark = 0.299 * r + 0.587 * g + 0.114 * b < 128;
  return {
    dark,
    bg,
    fg: cssVar(s, "--jp-ui-font-color1", dark ? "#e0e0e0" : "#212121"),
    fg2: cssVar(s, "--jp-ui-font-color2", dark ? "#a0a0a0" : "#616161"),
    grid: cssVar(s, "--jp-border-color2", dark ? "#444" : "#e0e0e0"),
    value: cssVar(s, "--jp-brand-color1", dark ? "#42a5f5" : "#1976d2"),
    grad: cssVar(s, "--jp-warn-color1", dark ? "#ffa726" : "#f57c00"),
    theory: cssVar(s, "--jp-error-color1", dark ? "#ef5350" : "#d32f2f"),
    ok: cssVar(s, "--jp-success-color1", "#388e3c"),
    font: cssVar(s, "--jp-ui-font-family", "system-ui, sans-serif"),
    neg: dark ? [92, 160, 230] : [33, 102, 172],
    pos: dark ? [235, 110, 90] : [178, 24, 43],
    mid: dark ? [r, g, b].map((v) => Math.min(255, v + 18)) : [247, 247, 247],
    nan: [255, 0, 255],
  };
}

// Calls cb() when JupyterLab's theme (or the OS scheme outside JupyterLab) changes.
export function watchTheme(d, cb) {
  const mo = d.observe(new MutationObserver(cb));
  mo.observe(document.body, {
    attributes: true,
    attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class"],
  });
  if (window.matchMedia) {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    d.listen(mq, "change", cb);
  }
}

// The redraw wiring every view shares. A Redraw at the model's redraw_rate; a change of a trait in
// `data` redraws as new data (held while paused), one in `display` as a display change; un-pausing
// draws what was held; a theme change calls onTheme() (re-read the colours), then redraws. Returns
// the Redraw.
export function wireRedraw(d, model, draw, { data = [], display = [], onTheme }) {
  const redraw = new Redraw(d, draw, () => model.get("redraw_rate"), () => !!model.get("paused"));
  for (const k of data) d.on(model, `change:${k}`, () => redraw.request(true));
  for (const k of display) d.on(model, `change:${k}`, () => redraw.request(false));
  d.on(model, "change:paused", () => !model.get("paused") && redraw.resume());
  watchTheme(d, () => {
    onTheme();
    redraw.request(false);
  });
  return redraw;
}

// Redraws when the width of `root` changes (canvases are sized to it).
export function redrawOnResize(d, root, redraw) {
  if (!window.ResizeObserver) return;
  let width = 0;
  const ro = new ResizeObserver((entries) => {
    const w = Math.round(entries[0].contentRect.width);
    if (w !== width) {
      width = w;
      redraw.request(false);
    }
  });
  d.observe(ro).observe(root);
}

// What render() returns: dispose of every listener and observer, then empty the element.
export function teardown(d, el) {
  return () => {
    d.dispose();
    el.replaceChildren();
  };
}

// --------------------------------------------------------------------------------- canvases
// Sizes the canvas backing store to its CSS box times devicePixelRatio; returns a 2-D context in CSS px.
export function fit(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, canvas.clientWidth || Number(canvas.getAttribute("width")) || 200);
  const hgt = Math.max(1, canvas.clientHeight || Number(canvas.getAttribute("height")) || 60);
  const W = Math.round(w * dpr);
  const H = Math.round(hgt * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return { ctx, w, h: hgt };
}

export function note(ctx, w, hgt, text, th) {
  ctx.fillStyle = th.fg2;
  ctx.font = `11px ${th.font}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(text, w / 2, hgt / 2);
  ctx.strokeStyle = th.grid;
  ctx.setLineDash([3, 3]);
  ctx.strokeRect(0.5, 0.5, w - 1, hgt - 1);
  ctx.setLineDash([]);
}

// Histogram of `counts` on `edges` (n + 1 values). Options: log (counts on a log scale), color,
// overlay (expected counts per bin, drawn as a line over the bars), curve ({x, y} in count units),
// below/above (finite values outside the edges, drawn as stubs at the ends), mark (x of a vertical line).
export function drawHist(canvas, th, o) {
  const { ctx, w, h: hgt } = fit(canvas);
  const counts = o.counts;
  const edges = o.edges;
  if (!counts || !edges || counts.length === 0 || edges.length !== counts.length + 1) {
    note(ctx, w, hgt, o.empty || "no histogram", th);
    return;
  }
  const n = counts.length;
  const stub = o.below || o.above ? 7 : 0;
  const L = 2 + stub;
  const R = w - 2 - stub;
  const axes = o.axes !== false;
  const T = axes ? 4 : 1;
  const B = axes ? hgt - 14 : hgt - 1;
  const lo = edges[0];
  const hi = edges[n];
  const span = hi > lo ? hi - lo : 1;
  const X = (v) => L + ((v - lo) / span) * (R - L);
  const tf = o.log ? (v) => Math.log10(1 + Math.max(0, v)) : (v) => Math.max(0, v);
  let top = 0;
  for (let i = 0; i < n; i++) top = Math.max(top, counts[i]);
  if (o.overlay) for (let i = 0; i < o.overlay.length; i++) if (o.overlay[i] > top) top = o.overlay[i];
  if (o.curve) for (let i = 0; i < o.curve.y.length; i++) if (o.curve.y[i] > top) top = o.curve.y[i];
  top = Math.max(top, o.below || 0, o.above || 0);
  const ty = tf(top) || 1;
  const Y = (v) => B - (tf(v) / ty) * (B - T);
  // baseline and zero line
  ctx.strokeStyle = th.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, B + 0.5);
  ctx.lineTo(w, B + 0.5);
  if (lo < 0 && hi > 0) {
    const z = Math.round(X(0)) + 0.5;
    ctx.moveTo(z, T);
    ctx.lineTo(z, B);
  }
  ctx.stroke();
  ctx.fillStyle = o.color || th.value;
  for (let i = 0; i < n; i++) {
    if (!(counts[i] > 0)) continue;
    const x0 = X(edges[i]);
    const x1 = X(edges[i + 1]);
    const y = Y(counts[i]);
    ctx.fillRect(x0, y, Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0)), B - y);
  }
  ctx.fillStyle = th.theory;
  if (o.below > 0) ctx.fillRect(1, Y(o.below), stub - 2, B - Y(o.below));
  if (o.above > 0) ctx.fillRect(w - stub + 1, Y(o.above), stub - 2, B - Y(o.above));
  ctx.lineWidth = 1.75;
  ctx.strokeStyle = th.theory;
  if (o.overlay) {
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < n; i++) {
      const v = o.overlay[i];
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const x = X((edges[i] + edges[i + 1]) / 2);
      if (pen) ctx.lineTo(x, Y(v));
      else ctx.moveTo(x, Y(v));
      pen = true;
    }
    ctx.stroke();
  }
  if (o.curve) {
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < o.curve.x.length; i++) {
      const v = o.curve.y[i];
      const x = o.curve.x[i];
      if (!Number.isFinite(v) || x < lo || x > hi) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(X(x), Y(v));
      else ctx.moveTo(X(x), Y(v));
      pen = true;
    }
    ctx.stroke();
  }
  if (o.mark !== undefined && o.mark !== null && Number.isFinite(o.mark)) {
    const x = Math.round(X(o.mark)) + 0.5;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, T);
    ctx.lineTo(x, B);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (!axes) return;
  // axis labels: range ends (and 0)
  ctx.fillStyle = th.fg2;
  ctx.font = `10px ${th.font}`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmt(lo, 3), L, B + 2);
  ctx.textAlign = "right";
  ctx.fillText(fmt(hi, 3), R, B + 2);
  if (lo < 0 && hi > 0 && X(0) - L > 30 && R - X(0) > 30) {
    ctx.textAlign = "center";
    ctx.fillText("0", X(0), B + 2);
  }
  if (o.log) {
    ctx.textAlign = "right";
    ctx.fillText("log", R, T);
  }
}

// Sparkline of one or more series (arrays with NaN gaps), scaled together; last point dotted.
export function drawSpark(canvas, th, series, opts = {}) {
  const { ctx, w, h: hgt } = fit(canvas);
  let lo = Infinity;
  let hi = -Infinity;
  let any = false;
  const tf = opts.log ? (v) => (v > 0 ? Math.log10(v) : NaN) : (v) => v;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = tf(s.values[i]);
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        any = true;
      }
    }
  }
  ctx.strokeStyle = th.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, hgt - 0.5);
  ctx.lineTo(w, hgt - 0.5);
  ctx.stroke();
  if (!any) {
    ctx.fillStyle = th.fg2;
    ctx.font = `10px ${th.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(opts.empty || "no history", w / 2, hgt / 2);
    return;
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    lo -= 0.5;
    hi += 0.5;
  }
  // the x axis spans the points that exist (histories are NaN-padded at the start)
  let first = Infinity;
  let end = 0;
  for (const s of series) {
    end = Math.max(end, s.values.length);
    for (let i = 0; i < s.values.length; i++) {
      if (Number.isFinite(tf(s.values[i]))) {
        first = Math.min(first, i);
        break;
      }
    }
  }
  const span = Math.max(1, end - 1 - first);
  for (const s of series) {
    if (opts.separate) {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < s.values.length; i++) {
        const v = tf(s.values[i]);
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      if (!(hi - lo >= 1e-12 * Math.max(1, Math.abs(hi)))) {
        lo -= 0.5;
        hi += 0.5;
      }
    }
    // changes below 0.1% of the level are drawn flat, not blown up to the full height
    const floor = 1e-3 * Math.max(Math.abs(lo), Math.abs(hi));
    if (hi - lo < floor) {
      const mid = (hi + lo) / 2;
      lo = mid - floor / 2;
      hi = mid + floor / 2;
    }
    const n = s.values.length;
    const X = (i) => 3 + (end - 1 > first ? ((i - first) / span) * (w - 6) : (w - 6) / 2);
    const Y = (v) => hgt - 3 - ((v - lo) / (hi - lo)) * (hgt - 6);
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 1.5;
    ctx.beginPath();
    let pen = false;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const v = tf(s.values[i]);
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(X(i), Y(v));
      else ctx.moveTo(X(i), Y(v));
      pen = true;
      last = i;
    }
    ctx.stroke();
    if (last >= 0) {
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(X(last), Y(tf(s.values[last])), 2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

// Diverging colour for a thumbnail code: 128 is zero (theme's neutral), 1 the most negative,
// 255 the most positive, 0 a cell holding NaN/Inf.
export function divergingRGB(code, th) {
  if (code === 0) return th.nan;
  const t = (code - 128) / 127;
  const end = t < 0 ? th.neg : th.pos;
  const a = Math.min(1, Math.abs(t));
  return [0, 1, 2].map((k) => Math.round(th.mid[k] + (end[k] - th.mid[k]) * a));
}

// Thumbnail (uint8 [rows, cols]) into a canvas whose CSS box keeps the tensor's aspect ratio.
export function drawThumb(canvas, th, thumb, box = 112) {
  const data = thumb ? arr(thumb.data) : null;
  const shape = thumb ? shapeOf(thumb.data) : null;
  if (!data || !shape || shape.length !== 2 || !shape[0] || !shape[1]) {
    canvas.style.width = `${box}px`;
    canvas.style.height = "24px";
    const { ctx, w, h: hgt } = fit(canvas);
    note(ctx, w, hgt, "no thumbnail", th);
    return;
  }
  const [rows, cols] = shape;
  const s2 = thumb.shape_2d || shape;
  const aspect = s2[0] / Math.max(1, s2[1]);
  let cw = box;
  let ch = Math.round(box * aspect);
  if (ch > box) {
    ch = box;
    cw = Math.max(8, Math.round(box / aspect));
  }
  ch = Math.max(ch, Math.min(box, rows * 4, 12));
  canvas.style.width = `${cw}px`;
  canvas.style.height = `${ch}px`;
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  const lut = new Array(256);
  for (let c = 0; c < 256; c++) lut[c] = divergingRGB(c, th);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = lut[data[i]];
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// A small legend bar for the diverging map: -scale .. 0 .. +scale.
export function drawColorbar(canvas, th, scale) {
  const { ctx, w, h: hgt } = fit(canvas);
  const barH = Math.max(4, hgt - 12);
  for (let x = 0; x < w; x++) {
    const code = Math.round(1 + (x / Math.max(1, w - 1)) * 254);
    const [r, g, b] = divergingRGB(code, th);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, barH);
  }
  ctx.fillStyle = th.fg2;
  ctx.font = `9px ${th.font}`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmt(-scale, 2), 0, barH + 1);
  ctx.textAlign = "right";
  ctx.fillText(fmt(scale, 2), w, barH + 1);
  ctx.textAlign = "center";
  ctx.fillText("0", w / 2, barH + 1);
}

// --------------------------------------------------------------------------------- controls
// The toolbar every view shares: pause, log scale, redraw rate (and whatever `extra` nodes a view adds).
// Controls act in the browser at once (they work while a cell runs); the traits are saved for the kernel.
export function toolbar(model, d, extra = []) {
  const save = (name, v) => {
    model.set(name, v);
    model.save_changes();
  };
  const pause = h("button", { class: "paramlab-btn paramlab-pause", type: "button", title: "Freeze the display" });
  const log = h("input", { type: "checkbox", class: "paramlab-log" });
  const rate = h("select", { class: "paramlab-rate", title: "Most redraws per second" });
  for (const hz of [1, 2, 5, 10, 20, 30, 60]) rate.append(h("option", { value: String(hz), text: `${hz}/s` }));
  const live = h("span", { class: "paramlab-live" });
  const status = h("span", { class: "paramlab-status" });
  const sync = () => {
    const p = !!model.get("paused");
    pause.textContent = p ? "\u25b6 resume" : "\u275a\u275a pause";
    pause.setAttribute("aria-pressed", String(p));
    log.checked = !!model.get("log_scale");
    const r = String(model.get("redraw_rate") ?? 10);
    if (![...rate.options].some((o) => o.value === r)) rate.append(h("option", { value: r, text: `${r}/s` }));
    rate.value = r;
    const isLive = !!model.get("live");
    live.classList.toggle("paramlab-on", isLive);
    live.textContent = isLive ? "\u25cf live" : "\u25cb idle";
  };
  d.listen(pause, "click", () => save("paused", !model.get("paused")));
  d.listen(log, "change", () => save("log_scale", log.checked));
  d.listen(rate, "change", () => save("redraw_rate", Number(rate.value)));
  for (const name of ["paused", "log_scale", "redraw_rate", "live"]) d.on(model, `change:${name}`, sync);
  sync();
  const node = h(
    "div",
    { class: "paramlab-toolbar" },
    pause,
    h("label", { class: "paramlab-ctl" }, log, " log scale"),
    h("label", { class: "paramlab-ctl" }, "redraw ", rate),
    ...extra,
    h("span", { class: "paramlab-spacer" }),
    live,
    status,
  );
  return { node, status, sync };
}

export function errorLine(model, d) {
  const node = h("div", { class: "paramlab-error", role: "alert" });
  const sync = () => {
    const e = model.get("error") || "";
    setText(node, e);
    node.hidden = !e;
  };
  d.on(model, "change:error", sync);
  sync();
  return node;
}

// ------------------------------------------------------------------------------------ cards
function statsText(s) {
  if (!s) return "no statistics";
  if (s.partial) return `\u2016\u00b7\u2016 ${fmt(s.l2)} (from the table)`;
  if (s.mean === null || s.mean === undefined) return `n ${fmtInt(s.count)} \u00b7 no finite value`;
  return (
    `\u03bc ${fmt(s.mean)}  \u03c3 ${fmt(s.std)}  min ${fmt(s.min)}  max ${fmt(s.max)}  ` +
    `\u2016\u00b7\u2016 ${fmt(s.l2)}  zeros ${fmtInt(s.zeros)}  n ${fmtInt(s.count)}`
  );
}

function badge(cls, text, title) {
  return h("span", { class: `paramlab-badge ${cls}`, title }, text);
}

function nonfiniteBadges(s, prefix) {
  const out = [];
  if (!s) return out;
  const p = prefix ? `${prefix} ` : "";
  const k = prefix ? "paramlab-badge-grad-" : "paramlab-badge-";
  if (s.nan > 0) out.push(badge(`${k}nan paramlab-bad`, `${p}NaN ${fmtInt(s.nan)}`, "NaN elements"));
  if (s.posinf > 0) out.push(badge(`${k}posinf paramlab-bad`, `${p}+Inf ${fmtInt(s.posinf)}`, "+Inf elements"));
  if (s.neginf > 0) out.push(badge(`${k}neginf paramlab-bad`, `${p}-Inf ${fmtInt(s.neginf)}`, "-Inf elements"));
  return out;
}

// One card per replica: stats, value histogram (+ theory while at init), thumbnail, gradient
// histogram, badges and norm sparklines. Updated in place.
class ReplicaCard {
  constructor() {
    this.ctxLabel = h("span", { class: "paramlab-ctx" });
    this.badges = h("span", { class: "paramlab-badges" });
    this.stats = h("div", { class: "paramlab-statline" });
    this.hist = h("canvas", { class: "paramlab-hist" });
    this.histCap = h("div", { class: "paramlab-cap" });
    this.thumb = h("canvas", { class: "paramlab-thumb" });
    this.cbar = h("canvas", { class: "paramlab-cbar" });
    this.thumbCap = h("div", { class: "paramlab-cap" });
    this.gstats = h("div", { class: "paramlab-statline paramlab-gradline" });
    this.ghist = h("canvas", { class: "paramlab-hist paramlab-ghist" });
    this.vspark = h("canvas", { class: "paramlab-spark" });
    this.gspark = h("canvas", { class: "paramlab-spark" });
    this.vnorm = h("span", { class: "paramlab-num" });
    this.gnorm = h("span", { class: "paramlab-num" });
    this.gradBox = h("div", { class: "paramlab-gradbox" }, this.gstats, this.ghist);
    this.node = h(
      "div",
      { class: "paramlab-card" },
      h("div", { class: "paramlab-card-head" }, this.ctxLabel, this.badges),
      this.stats,
      h(
        "div",
        { class: "paramlab-plots" },
        h("figure", { class: "paramlab-fig paramlab-fig-hist" }, this.hist, this.histCap),
        (this.thumbFig = h("figure", { class: "paramlab-fig paramlab-fig-thumb" }, this.thumb, this.cbar, this.thumbCap)),
      ),
      this.gradBox,
      h(
        "div",
        { class: "paramlab-sparks" },
        h("span", { class: "paramlab-cap" }, "\u2016value\u2016"),
        this.vspark,
        this.vnorm,
        h("span", { class: "paramlab-cap" }, "\u2016grad\u2016"),
        this.gspark,
        this.gnorm,
      ),
    );
  }

  update(card, r, th, opts) {
    const rep = card.replicas[r];
    const s = rep.stats;
    this.node.dataset.ctx = rep.ctx;
    this.node.dataset.replica = String(r);
    this.node.dataset.version = String(rep.version ?? "");
    this.node.dataset.paramlabStats = JSON.stringify(s || null);
    setText(this.ctxLabel, rep.ctx + (r === 0 && card.replicas.length > 1 ? " (reference)" : ""));
    const b = [...nonfiniteBadges(s, "")];
    if (rep.grad) b.push(...nonfiniteBadges(rep.grad.stats, "grad"));
    const dv = rep.divergence;
    if (dv) {
      if (dv.bitwise_equal) {
        b.push(badge("paramlab-badge-equal", `= ${card.replicas[0].ctx}`, "bitwise equal to the reference replica"));
      } else {
        b.push(
          badge(
            "paramlab-badge-diverged paramlab-bad",
            `\u2260 ${card.replicas[0].ctx}: max|\u0394| ${fmt(dv.max_abs_diff ?? Infinity, 3)} \u00b7 rel ${fmt(dv.rel_l2 ?? Infinity, 3)} \u00b7 ${fmtInt(dv.differing)} differ`,
            "this replica differs from the reference replica",
          ),
        );
      }
    }
    if (rep.at_init) b.push(badge("paramlab-badge-init", "at init", "unchanged since initialization"));
    this.badges.replaceChildren(...b);
    this.node.classList.toggle("paramlab-card-bad", b.some((x) => x.classList.contains("paramlab-bad")));
    setText(this.stats, statsText(s));

    // the thumbnail first: its size decides the width left to the histogram
    this.thumbFig.hidden = !rep.thumb;
    if (rep.thumb) drawThumb(this.thumb, th, rep.thumb, opts.thumbBox || 112);
    if (rep.thumb) {
      this.cbar.hidden = false;
      this.cbar.style.width = `${Math.max(96, parseFloat(this.thumb.style.width) || 0)}px`;
      drawColorbar(this.cbar, th, rep.thumb.scale);
      const bl = rep.thumb.block || [1, 1];
      setText(
        this.thumbCap,
        `${fmtShape(shapeOf(rep.thumb.data))} cells of ${bl[0]}\u00d7${bl[1]}${rep.thumb.sampled ? " (sampled)" : ""}`,
      );
    } else {
      this.cbar.hidden = true;
      setText(this.thumbCap, "");
    }

    const edges = arr(card.edges);
    const counts = rep.hist ? arr(rep.hist.counts) : null;
    const theory = card.theory;
    const atInit = !!rep.at_init; // this replica still holds the initializer's draw
    const overlay = atInit && theory ? arr(theory.expected) : null;
    let cap = rep.hist && rep.hist.sampled ? "values (sampled)" : "values";
    if (rep.hist && (rep.hist.below || rep.hist.above)) {
      cap += ` \u00b7 outside: ${fmtInt(rep.hist.below)} below, ${fmtInt(rep.hist.above)} above`;
    }
    if (overlay) cap += ` \u00b7 \u2014 ${theory.family} law of ${card.init || "the initializer"}`;
    setText(this.histCap, cap);
    drawHist(this.hist, th, {
      counts,
      edges,
      log: opts.log,
      color: th.value,
      overlay,
      below: rep.hist ? rep.hist.below : 0,
      above: rep.hist ? rep.hist.above : 0,
      empty: card.status === "ready" ? "no histogram" : card.status,
    });
    this.node.dataset.theory = overlay ? "shown" : "hidden";

    const g = rep.grad;
    if (g) {
      setText(this.gstats, `grad: ${statsText(g.stats)}`);
      this.ghist.hidden = false;
      drawHist(this.ghist, th, {
        counts: g.hist ? arr(g.hist.counts) : null,
        edges: arr(card.grad_edges),
        log: opts.log,
        color: th.grad,
        below: g.hist ? g.hist.below : 0,
        above: g.hist ? g.hist.above : 0,
        empty: "no gradient histogram",
      });
    } else {
      setText(this.gstats, card.grad_note || "no gradient");
      this.ghist.hidden = true;
    }

    const hist = card.history || {};
    const nrep = card.replicas.length;
    const pick = (a) => {
      const t = arr(a);
      if (!t) return new Float32Array(0);
      const n = t.length / Math.max(1, a.shape && a.shape.length === 2 ? a.shape[0] : nrep);
      return t.subarray(r * n, (r + 1) * n);
    };
    const vh = pick(hist.value_l2);
    const gh = pick(hist.grad_l2);
    drawSpark(this.vspark, th, [{ values: vh, color: th.value }], { empty: "no history" });
    drawSpark(this.gspark, th, [{ values: gh, color: th.grad }], { empty: "no gradient" });
    setText(this.vnorm, fmt(s ? s.l2 : null));
    setText(this.gnorm, g && g.stats ? fmt(g.stats.l2) : "-");
  }
}

// All replica cards of one Card, keyed by context, with an optional enlarged replica.
export class CardSet {
  constructor() {
    this.head = h("div", { class: "paramlab-cardhead" });
    this.grid = h("div", { class: "paramlab-cards" });
    this.node = h("div", { class: "paramlab-cardset" }, this.head, this.grid);
    this.cards = new Map();
  }

  update(card, th, opts = {}) {
    if (!card) {
      setText(this.head, "nothing to show yet");
      this.grid.replaceChildren();
      this.cards.clear();
      return;
    }
    const parts = [
      h("b", { class: "paramlab-name" }, card.structural_name || card.name),
      ` ${fmtShape(card.shape)} ${card.dtype || ""}`,
    ];
    if (card.stype && card.stype !== "default") parts.push(` ${card.stype}`);
    parts.push(` \u00b7 ${card.constant ? "Constant" : `grad_req=${card.grad_req}`}`);
    if (card.init) parts.push(` \u00b7 init ${card.init}`);
    if (card.status !== "ready") parts.push(h("span", { class: "paramlab-badge paramlab-badge-status" }, card.status));
    if (opts.note) parts.push(h("span", { class: "paramlab-note" }, ` ${opts.note}`));
    this.head.replaceChildren(...parts);
    const reps = card.replicas || [];
    const keep = new Set();
    const sel = opts.selected ?? -1;
    reps.forEach((rep, r) => {
      let c = this.cards.get(rep.ctx);
      if (!c) {
        c = new ReplicaCard();
        this.cards.set(rep.ctx, c);
      }
      keep.add(rep.ctx);
      const big = sel === r;
      const mini = sel >= 0 && sel < reps.length && !big;
      c.node.classList.toggle("paramlab-card-big", big);
      c.node.classList.toggle("paramlab-card-mini", mini);
      // in the document before drawing: canvases take their size from the layout
      if (this.grid.children[r] !== c.node) this.grid.insertBefore(c.node, this.grid.children[r] || null);
      c.update(card, r, th, { ...opts, thumbBox: big ? 192 : 112 });
    });
    for (const [k, c] of this.cards) {
      if (!keep.has(k)) {
        c.node.remove();
        this.cards.delete(k);
      }
    }
    if (!reps.length) {
      this.grid.replaceChildren(h("div", { class: "paramlab-note" }, card.status === "ready" ? "no replica" : `parameter is ${card.status}`));
    }
  }
}

