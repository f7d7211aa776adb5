// A tiny anywidget-like model (get/set/on/off/save_changes/send) and synthetic payloads that follow
// paramlab/widgets/PROTOCOL.md, for exercising the view modules without a kernel.
export class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
    this.sent = [];
    this.saves = 0;
  }
  get(k) {
    return this.state[k];
  }
  set(k, v) {
    this.state[k] = v;
    for (const cb of [...(this.handlers.get(`change:${k}`) || [])]) cb();
  }
  on(evt, cb) {
    if (!this.handlers.has(evt)) this.handlers.set(evt, new Set());
    this.handlers.get(evt).add(cb);
  }
  off(evt, cb) {
    const s = this.handlers.get(evt);
    if (!s) return;
    if (cb) s.delete(cb);
    else s.clear();
  }
  save_changes() {
    this.saves += 1;
  }
  send(msg) {
    this.sent.push(msg);
  }
  handlerCount() {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
}

function A(typed, shape) {
  return { buffer: new DataView(typed.buffer), dtype: typed.constructor.name.replace("Array", "").toLowerCase(), shape };
}

let seed = 12345;
export function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
export function randn() {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export function linspace(lo, hi, n) {
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = lo + ((hi - lo) * i) / (n - 1);
  return e;
}

export function summarize(values, edges, nan = 0) {
  let s = 0, s2 = 0, mn = Infinity, mx = -Infinity, z = 0;
  const counts = new Uint32Array(edges.length - 1);
  let below = 0, above = 0;
  const lo = edges[0], hi = edges[edges.length - 1], n = counts.length;
  for (const v of values) {
    s += v; s2 += v * v; mn = Math.min(mn, v); mx = Math.max(mx, v); if (v === 0) z++;
    if (v < lo) below++;
    else if (v > hi) above++;
    else counts[Math.min(n - 1, Math.floor(((v - lo) / (hi - lo)) * n))]++;
  }
  const m = s / values.length;
  return {
    stats: { count: values.length + nan, mean: m, std: Math.sqrt(Math.max(0, s2 / values.length - m * m)), min: mn, max: mx,
      l2: Math.sqrt(s2), zeros: z, nan, posinf: 0, neginf: 0, shape: [values.length], dtype: "float32" },
    hist: { counts: A(counts, [n]), below, above, nan, posinf: 0, neginf: 0, sampled: false, binned: values.length },
  };
}

export function thumb(rows, cols, f, nanCell = -1) {
  const d = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[i * cols + j] = Math.max(1, Math.min(255, Math.round(128 + 127 * f(i, j))));
  if (nanCell >= 0) d[nanCell] = 0;
  return { data: A(d, [rows, cols]), scale: 0.1, shape_2d: [rows * 4, cols * 4], block: [4, 4], sampled: false };
}

export function card({ step = 0, contexts = ["cpu(0)", "cpu(1)"], nanOn = -1, divergeOn = -1, n = 4000, atInit = true, hist = 20 } = {}) {
  const a = 0.1;
  const edges = linspace(-0.15, 0.15, 65);
  const gedges = linspace(-0.02, 0.02, 65);
  const expected = new Float64Array(64);
  for (let i = 0; i < 64; i++) {
    const c = (edges[i] + edges[i + 1]) / 2;
    expected[i] = Math.abs(c) <= a ? (n * (edges[i + 1] - edges[i])) / (2 * a) : 0;
  }
  const base = Array.from({ length: n }, () => (rand() * 2 - 1) * a * (1 + 0.02 * step));
  const replicas = contexts.map((ctx, r) => {
    const vals = r === divergeOn ? base.map((v, i) => (i % 97 === 0 ? v + 0.01 : v)) : base;
    const sv = summarize(vals, edges, r === nanOn ? 3 : 0);
    const gv = summarize(Array.from({ length: n }, () => randn() * 0.005), gedges);
    return {
      ctx, version: step + 1, changed: true, at_init: atInit, stats: sv.stats, hist: sv.hist,
      thumb: thumb(16, 16, (i, j) => Math.sin(i / 3 + step / 5) * Math.cos(j / 4), r === nanOn ? 5 : -1),
      grad: step > 0 ? { stats: gv.stats, hist: gv.hist, version: step } : null,
      divergence: r === 0 ? null : (r === divergeOn
        ? { max_abs_diff: 0.01, rel_l2: 0.0123, bitwise_equal: false, differing: 42 }
        : { max_abs_diff: 0, rel_l2: 0, bitwise_equal: true, differing: 0 }),
    };
  });
  const k = Math.min(hist, step + 1);
  const R = contexts.length;
  const vl = new Float32Array(R * k), gl = new Float32Array(R * k);
  for (let r = 0; r < R; r++) for (let i = 0; i < k; i++) { vl[r * k + i] = 3.6 + 0.05 * i + 0.01 * r * i; gl[r * k + i] = i === 0 ? NaN : 0.3 / (1 + 0.1 * i); }
  return {
    name: "dense0_weight", structural_name: "0.weight", shape: [64, 64], dtype: "float32", stype: "default",
    grad_req: "write", constant: false, status: "ready", init: "Uniform(scale=0.1)", contexts,
    edges: A(edges, [65]), grad_edges: A(gedges, [65]), grad_note: step > 0 ? "" : "no gradient yet",
    theory: { family: "uniform", params: { low: -a, high: a }, mean: 0, std: a / Math.sqrt(3), support: [-a, a],
      invariant: "", initializer: "Uniform(scale=0.1)", pdf: null, expected: A(expected, [64]) },
    at_init: atInit, replicas,
    history: { seq: A(new Int32Array(k), [k]), step: A(new Int32Array(k), [k]), value_l2: A(vl, [R, k]), grad_l2: A(gl, [R, k]) },
  };
}

export { A };

export function modelState(N = 320, step = 3, { nanRow = -1, divRow = -1 } = {}) {
  const rows = [];
  const B = 32, H = 64;
  const value = new Float64Array(N * 10), nonfinite = new Float64Array(N * 3), grad_l2 = new Float64Array(N);
  const divergence = new Float64Array(N * 3), hist = new Uint32Array(N * B), hist_range = new Float64Array(N * 2);
  const grad_hist = new Uint32Array(N * B), grad_hist_range = new Float64Array(N * 2);
  const history = new Float32Array(N * H * 2).fill(NaN), at_init = new Uint8Array(N), version = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const layer = Math.floor(i / 2), bias = i % 2 === 1;
    rows.push({ name: `${layer}.${bias ? "bias" : "weight"}`, param: `dense${layer}_${bias ? "bias" : "weight"}`,
      shape: bias ? [64] : [64, 64], dtype: "float32", init: bias ? "Zero()" : "Xavier(magnitude=3)", grad_req: "write",
      constant: false, status: "ready", contexts: ["cpu(0)", "cpu(1)"] });
    const s = bias ? 0.01 * step : 0.12;
    value.set([0.001 * (i % 7 - 3), s, -2 * s, 2 * s, s * 64, bias && step === 0 ? 64 : 0, i === nanRow ? 2 : 0, 0, 0, bias ? 64 : 4096], i * 10);
    nonfinite[3 * i] = i === nanRow ? 2 : 0;
    grad_l2[i] = step > 0 ? 0.05 + 0.001 * i : NaN;
    divergence.set(i === divRow ? [0.003, 0.0012, 0] : [0, 0, 1], 3 * i);
    hist_range.set([-0.3, 0.3], 2 * i); grad_hist_range.set([-0.01, 0.01], 2 * i);
    for (let b = 0; b < B; b++) {
      const x = (b - B / 2 + 0.5) / (B / 6);
      hist[i * B + b] = Math.round((bias ? 2 : 200) * Math.exp(-x * x / 2) * (1 + (i % 3) / 3));
      grad_hist[i * B + b] = Math.round(100 * Math.exp(-x * x));
    }
    for (let j = H - Math.min(H, step * 5 + 1); j < H; j++) { history[(i * H + j) * 2] = 7 + 0.02 * j + i * 0.001; history[(i * H + j) * 2 + 1] = 0.5 / (1 + 0.05 * j); }
    at_init[i] = step === 0 ? 1 : 0; version[i] = step;
  }
  return { rows, step, row_bins: B, history_len: H, bins: 64, selected: "", detail: null,
    columns: { fields: ["mean", "std", "min", "max", "l2", "zeros", "nan", "posinf", "neginf", "count"],
      value: A(value, [N, 10]), nonfinite: A(nonfinite, [N, 3]), grad_l2: A(grad_l2, [N]), divergence: A(divergence, [N, 3]),
      hist: A(hist, [N, B]), hist_range: A(hist_range, [N, 2]), grad_hist: A(grad_hist, [N, B]), grad_hist_range: A(grad_hist_range, [N, 2]),
      history: A(history, [N, H, 2]), at_init: A(at_init, [N]), version: A(version, [N]) } };
}

export function initState({ sigma = 0.05, n = 65536, draws = 1 } = {}) {
  const edges = linspace(-5 * sigma, 5 * sigma, 65);
  const vals = Array.from({ length: n }, () => randn() * sigma);
  const sv = summarize(vals, edges);
  const x = linspace(-5 * sigma, 5 * sigma, 256);
  const y = Float64Array.from(x, (v) => Math.exp(-v * v / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI)));
  return { init_name: "normal", arg_specs: [{ name: "sigma", kind: "float", default: 0.01, choices: null, min: 0, max: null }],
    sigma, shape: [256, 256], dtype: "float32", ctx: "cpu(0)", draws, edges: A(edges, [65]), hist: sv.hist,
    stats: { ...sv.stats, shape: [256, 256] },
    theory: { family: "normal", params: { loc: 0, scale: sigma }, mean: 0, std: sigma, support: [null, null],
      invariant: "values are i.i.d. normal", initializer: `Normal(sigma=${sigma})`, pdf: null, expected: null },
    pdf_curve: { x: A(x, [256]), y: A(y, [256]) }, ks: 0.0031, check_kind: "ks",
    thumb: thumb(64, 64, () => randn() / 3), bins: 64 };
}
