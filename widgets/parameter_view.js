// ParameterView: one card per context (replica) of a Parameter, live while a loop runs.
// Traits and layout: paramlab/widgets/PROTOCOL.md, sections 2 and 3.
import {
  h,
  Disposer,
  Redraw,
  CardSet,
  countDraw,
  modelState,
  theme,
  toolbar,
  errorLine,
  watchTheme,
  redrawOnResize,
  teardown,
} from "./common.js";

function render({ model, el }) {
  const d = new Disposer();
  modelState(model).renders += 1;
  const replica = h("select", { class: "paramlab-replica", title: "Enlarge one replica" });
  const bar = toolbar(model, d, [h("label", { class: "paramlab-ctl" }, "replica ", replica)]);
  const cards = new CardSet();
  const root = h("div", { class: "paramlab paramlab-parameter-view" }, bar.node, errorLine(model, d), cards.node);
  el.replaceChildren(root);
  el.classList.add("paramlab-host");

  const syncReplicas = () => {
    const card = model.get("card");
    const ctxs = (card && card.contexts) || [];
    const want = ["all", ...ctxs].join("|");
    if (replica.dataset.options !== want) {
      replica.replaceChildren(
        h("option", { value: "-1", text: "all" }),
        ...ctxs.map((c, i) => h("option", { value: String(i), text: c })),
      );
      replica.dataset.options = want;
    }
    replica.value = String(model.get("selected_replica") ?? -1);
    if (replica.selectedIndex < 0) replica.value = "-1";
  };
  d.listen(replica, "change", () => {
    model.set("selected_replica", Number(replica.value));
    model.save_changes();
  });

  let th = theme(el);
  const draw = () => {
    const t0 = performance.now();
    const card = model.get("card");
    syncReplicas();
    cards.update(card, th, { log: !!model.get("log_scale"), selected: Number(model.get("selected_replica") ?? -1) });
    const seq = model.get("seq");
    const n = countDraw(el, model, t0);
    bar.status.textContent = `update ${seq ?? 0} \u00b7 ${n} draws`;
  };
  const redraw = new Redraw(d, draw, () => model.get("redraw_rate"), () => !!model.get("paused"));
  const onData = () => {
    redraw.request(true);
    if (model.get("paused")) bar.status.textContent = `paused \u00b7 ${redraw.held} updates held`;
  };
  d.on(model, "change:card", onData);
  d.on(model, "change:seq", onData);
  d.on(model, "change:log_scale", () => redraw.request(false));
  d.on(model, "change:selected_replica", () => redraw.request(false));
  d.on(model, "change:paused", () => {
    if (!model.get("paused")) redraw.resume();
    else bar.status.textContent = "paused";
  });
  watchTheme(d, () => {
    th = theme(el);
    redraw.request(false);
  });
  redrawOnResize(d, root, redraw);
  draw();
  return teardown(d, el);
}

export default { render };
