// InitializerView: one draw of an initializer against its stated law, with controls for its arguments.
// Traits: paramlab/widgets/PROTOCOL.md, sections 2 and 4.
import {
  h,
  arr,
  fmt,
  fmtInt,
  fmtShape,
  setText,
  Disposer,
  countDraw,
  modelState,
  theme,
  toolbar,
  errorLine,
  drawHist,
  drawThumb,
  drawColorbar,
  wireRedraw,
  redrawOnResize,
  teardown,
} from "./common.js";

const DTYPES = ["float16", "float32", "float64"];

function argInput(spec, model, d) {
  const name = spec.name;
  let input;
  if (spec.kind === "bool") {
    input = h("input", { type: "checkbox" });
  } else if (spec.kind === "choice" || (spec.choices && spec.choices.length)) {
    input = h("select", {});
    for (const c of spec.choices || []) input.append(h("option", { value: String(c), text: String(c) }));
  } else if (spec.kind === "float" || spec.kind === "int") {
    input = h("input", { type: "number", step: spec.kind === "int" ? "1" : "any" });
    if (spec.min !== null && spec.min !== undefined) input.min = String(spec.min);
    if (spec.max !== null && spec.max !== undefined) input.max = String(spec.max);
  } else {
    input = h("input", { type: "text", size: 10 });
  }
  input.name = name;
  input.dataset.arg = name;
  input.setAttribute("data-lm-suppress-shortcuts", "true"); // typing here is not a notebook shortcut
  const show = () => {
    const v = model.get(name);
    if (document.activeElement === input) return;
    if (spec.kind === "bool") input.checked = !!v;
    else input.value = v === null || v === undefined ? "" : String(v);
  };
  const commit = () => {
    let v;
    if (spec.kind === "bool") v = input.checked;
    else if (spec.kind === "float") v = input.value === "" ? null : Number(input.value);
    else if (spec.kind === "int") v = input.value === "" ? null : Math.round(Number(input.value));
    else v = input.value;
    if (typeof v === "number" && !Number.isFinite(v)) return;
    if (v === model.get(name)) return;
    model.set(name, v);
    model.save_changes();
  };
  d.listen(input, "change", commit);
  onEnter(d, input, commit);
  d.on(model, `change:${name}`, show);
  show();
  return h("label", { class: "paramlab-ctl", title: `${name} (${spec.kind}, default ${spec.default})` }, `${name} `, input);
}

// Enter commits a text or number field at once (a "change" event would wait for the blur).
function onEnter(d, input, commit) {
  d.listen(input, "keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      commit();
    }
  });
}

function parseShape(text) {
  const parts = text.split(/[^0-9]+/).filter(Boolean).map(Number);
  return parts.length ? parts : null;
}

function render({ model, el }) {
  const d = new Disposer();
  modelState(model).renders += 1;
  const redrawBtn = h("button", { class: "paramlab-btn paramlab-primary paramlab-redraw", type: "button", text: "\u21bb re-draw" });
  const bar = toolbar(model, d, [redrawBtn]);
  const head = h("div", { class: "paramlab-init-head" });
  const args = h("div", { class: "paramlab-args" });
  const canvas = h("canvas", { class: "paramlab-init-hist" });
  const legend = h("div", { class: "paramlab-legend" });
  const moments = h("table", { class: "paramlab-table paramlab-moments" });
  const check = h("div", { class: "paramlab-check" });
  const invariant = h("div", { class: "paramlab-invariant" });
  const thumb = h("canvas", { class: "paramlab-thumb" });
  const cbar = h("canvas", { class: "paramlab-cbar" });
  const thumbCap = h("div", { class: "paramlab-cap" });
  const root = h(
    "div",
    { class: "paramlab paramlab-initializer-view" },
    bar.node,
    head,
    args,
    errorLine(model, d),
    h(
      "div",
      { class: "paramlab-init-main" },
      h("figure", { class: "paramlab-init-plot" }, canvas, legend),
      h("div", { class: "paramlab-init-side" }, moments, check, invariant, h("figure", {}, thumb, cbar, thumbCap)),
    ),
  );
  el.replaceChildren(root);
  el.classList.add("paramlab-host");

  // argument controls, rebuilt when the initializer's signature changes
  let argsD = null;
  let argsKey = "";
  const buildArgs = () => {
    const specs = model.get("arg_specs") || [];
    const key = JSON.stringify(specs);
    if (key === argsKey) return;
    argsKey = key;
    if (argsD) argsD.dispose();
    argsD = new Disposer();
    const shape = h("input", { type: "text", size: 10, name: "shape", class: "paramlab-shape", "data-lm-suppress-shortcuts": "true" });
    const dtype = h("select", { name: "dtype", class: "paramlab-dtype" });
    for (const t of DTYPES) dtype.append(h("option", { value: t, text: t }));
    const showShape = () => {
      if (document.activeElement !== shape) shape.value = (model.get("shape") || []).join(", ");
      const dt = model.get("dtype") || "float32";
      if (![...dtype.options].some((o) => o.value === dt)) dtype.append(h("option", { value: dt, text: dt }));
      dtype.value = dt;
    };
    const commitShape = () => {
      const s = parseShape(shape.value);
      if (!s || s.join(",") === (model.get("shape") || []).join(",")) return;
      model.set("shape", s);
      model.save_changes();
    };
    argsD.listen(shape, "change", commitShape);
    onEnter(argsD, shape, commitShape);
    argsD.listen(dtype, "change", () => {
      model.set("dtype", dtype.value);
      model.save_changes();
    });
    argsD.on(model, "change:shape", showShape);
    argsD.on(model, "change:dtype", showShape);
    showShape();
    args.replaceChildren(
      ...specs.map((s) => argInput(s, model, argsD)),
      h("label", { class: "paramlab-ctl" }, "shape ", shape),
      h("label", { class: "paramlab-ctl" }, "dtype ", dtype),
    );
  };
  d.add(() => argsD && argsD.dispose());
  d.on(model, "change:arg_specs", buildArgs);
  buildArgs();
  d.listen(redrawBtn, "click", () => model.send({ type: "redraw" }));

  let th = theme(el);
  const draw = () => {
    const t0 = performance.now();
    const theory = model.get("theory") || null;
    const stats = model.get("stats") || null;
    const hist = model.get("hist") || null;
    const edges = arr(model.get("edges"));
    const counts = hist ? arr(hist.counts) : null;
    const desc = (theory && theory.initializer) || model.get("init_name") || "initializer";
    head.replaceChildren(
      h("b", { class: "paramlab-name" }, desc),
      ` on ${model.get("ctx") || "?"} \u00b7 shape ${fmtShape(model.get("shape"))} ${model.get("dtype") || ""}`,
      ` \u00b7 draw #${fmtInt(model.get("draws") || 0)}`,
    );

    // histogram in counts; the density times (binned x bin width) on the same scale
    let curve = null;
    const pc = model.get("pdf_curve");
    const binned = hist ? hist.binned : 0;
    if (pc && edges && binned) {
      const x = arr(pc.x);
      const y = arr(pc.y);
      const width = (edges[edges.length - 1] - edges[0]) / (edges.length - 1);
      curve = { x, y: Float64Array.from(y, (v) => v * binned * width) };
    }
    const overlay = !curve && theory ? arr(theory.expected) : null;
    const mark = theory && theory.family === "constant" ? theory.mean : null;
    drawThumb(thumb, th, model.get("thumb"), 150);
    drawHist(canvas, th, {
      counts,
      edges,
      log: !!model.get("log_scale"),
      color: th.value,
      curve,
      overlay,
      mark,
      below: hist ? hist.below : 0,
      above: hist ? hist.above : 0,
      empty: "no draw yet",
    });
    const fam = theory ? theory.family : "none";
    const params = Object.entries((theory && theory.params) || {})
      .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`)
      .join(", ");
    const lawText = theory && fam !== "none" ? `${fam}(${params})` : "no density";
    const items = [
      h("span", {}, h("span", { class: "paramlab-swatch", style: `background:${th.value}` }), `drawn (${fmtInt(binned)} values${hist && hist.sampled ? ", sampled" : ""})`),
      h("span", {}, h("span", { class: "paramlab-swatch", style: `background:${th.theory}` }), `theory: ${lawText}`),
    ];
    if (hist && (hist.below || hist.above)) {
      items.push(h("span", {}, `outside the edges (end stubs): ${fmtInt(hist.below)} below, ${fmtInt(hist.above)} above`));
    }
    legend.replaceChildren(...items);

    // moments side by side
    const tr = (label, t, m, diff) => h("tr", {}, h("td", {}, label), h("td", {}, fmt(t)), h("td", {}, fmt(m)), h("td", {}, diff));
    const sup = theory && theory.support ? theory.support : [null, null];
    const rel = (t, m) => (t !== null && t !== undefined && m !== null && m !== undefined ? fmt(m - t, 3) : "-");
    const ratio = (t, m) => (t && m !== null && m !== undefined ? `\u00d7${fmt(m / t, 4)}` : "-");
    moments.replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "theory"), h("th", {}, "measured"), h("th", {}, "diff"))),
      h(
        "tbody",
        {},
        tr("mean", theory ? theory.mean : null, stats ? stats.mean : null, rel(theory && theory.mean, stats && stats.mean)),
        tr("std", theory ? theory.std : null, stats ? stats.std : null, ratio(theory && theory.std, stats && stats.std)),
        tr("min", sup[0], stats ? stats.min : null, ""),
        tr("max", sup[1], stats ? stats.max : null, ""),
      ),
    );
    moments.dataset.mean = String(stats ? stats.mean : "");
    moments.dataset.std = String(stats ? stats.std : "");

    const ks = model.get("ks");
    const kind = model.get("check_kind") || "";
    check.className = "paramlab-check";
    if (ks === null || ks === undefined || !kind) {
      setText(check, "no goodness-of-fit check for this law");
    } else if (kind === "ks") {
      const n = binned || (stats ? stats.count : 0);
      const crit = n ? 1.358 / Math.sqrt(n) : NaN;
      const ok = ks <= crit;
      check.classList.add(ok ? "paramlab-pass" : "paramlab-fail");
      check.replaceChildren(
        "KS distance ",
        h("b", { class: "paramlab-ks" }, fmt(ks, 3)),
        ` (5% critical value 1.358/\u221an = ${fmt(crit, 3)}: ${ok ? "consistent" : "rejects the law"})`,
      );
    } else {
      const what = kind === "orthogonality" ? "orthogonality defect" : "largest deviation from the exact values";
      check.replaceChildren(`${what} `, h("b", { class: "paramlab-ks" }, fmt(ks, 3)));
    }
    check.dataset.ks = String(ks ?? "");
    setText(invariant, (theory && theory.invariant) || "");

    const t = model.get("thumb");
    cbar.hidden = !t;
    if (t) {
      cbar.style.width = `${Math.max(96, parseFloat(thumb.style.width) || 0)}px`;
      drawColorbar(cbar, th, t.scale);
      setText(thumbCap, `thumbnail of the draw (${fmtShape(t.shape_2d)})`);
    }
    countDraw(el, model, t0);
    bar.status.textContent = `update ${model.get("seq") ?? 0}`;
  };

  const redraw = wireRedraw(d, model, draw, {
    data: ["seq", "hist", "stats", "theory", "pdf_curve", "ks", "thumb", "edges", "draws"],
    display: ["log_scale"],
    onTheme: () => (th = theme(el)),
  });
  redrawOnResize(d, root, redraw);
  draw();
  return teardown(d, el);
}

export default { render };
