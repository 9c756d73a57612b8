// chainrule's step-by-step explorer (autograd/explore.py): the page side.
//
// Python lays the graph out, draws it as SVG and computes every number; this script
// only shows them step by step.  Each arrow's value text appears at its forward step
// and its gradient at its backward step (until then a grey "?"); the detail text of
// the step (the chain rule with the numbers) comes from Python too.
//
// Used twice: inline in the HTML file written by to_html (which calls mount), and as
// the anywidget module of the Jupyter widget (which calls render).  No network, no
// libraries.  Stepping touches only the arrows that change, so a graph of thousands
// of nodes steps as fast as a small one.

function mount(el, data, opts = {}) {
  el.innerHTML = "";
  el.classList.add("cr-explorer");
  const make = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const button = (label, title, action) => {
    const b = make("button", "cr-button", label);
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", action);
    return b;
  };

  const head = make("div", "cr-head");
  head.appendChild(make("span", "cr-title", data.title));
  let picker = null;
  if (data.views.length > 1) {
    picker = make("select", "cr-view");
    data.views.forEach((v, i) => picker.appendChild(new Option(v.name, String(i))));
    picker.addEventListener("change", () => show(Number(picker.value)));
    head.appendChild(picker);
  }
  const controls = make("div", "cr-controls");
  const first = button("|◀", "first step (Home)", () => go(0));
  const prev = button("◀ prev", "previous step (←)", () => go(cur - 1));
  const play = button("play", "play / pause (space)", () => toggle());
  const next = button("next ▶", "next step (→)", () => go(cur + 1));
  const last = button("▶|", "last step (End)", () => go(steps.length - 1));
  const slider = make("input", "cr-slider");
  slider.type = "range";
  slider.min = "0";
  slider.setAttribute("aria-label", "step");
  slider.addEventListener("input", () => go(Number(slider.value)));
  const status = make("span", "cr-status");
  const zoomOut = button("−", "zoom out", () => zoom(scale / 1.25));
  const zoomFit = button("fit", "fit the graph in view", () => zoom(fitScale()));
  const zoomIn = button("+", "zoom in", () => zoom(scale * 1.25));
  for (const c of [first, prev, play, next, last, slider, status, zoomOut, zoomFit, zoomIn]) {
    controls.appendChild(c);
  }
  const canvas = make("div", "cr-canvas");
  const detail = make("pre", "cr-detail");
  el.append(head, controls, canvas, detail);

  let steps = [], edges = [], vals = [], grads = [], groups = [], nodes = [];
  let fwAt = [], bwAt = [], cur = -1, timer = null, svg = null, width = 0, height = 0;
  let scale = 1, fresh = [], current = null;

  function show(index) {
    stop();
    const view = data.views[index];
    canvas.innerHTML = view.svg;
    svg = canvas.querySelector("svg");
    width = Number(svg.getAttribute("width"));
    height = Number(svg.getAttribute("height"));
    steps = view.steps;
    edges = view.edges;
    groups = Array.from(svg.querySelectorAll("g.cr-edge"));
    vals = groups.map((g) => g.querySelector(".cr-val"));
    grads = groups.map((g) => g.querySelector(".cr-grad"));
    nodes = Array.from(svg.querySelectorAll("g.cr-node"));
    fwAt = steps.map(() => []);
    bwAt = steps.map(() => []);
    edges.forEach(([, , fw, bw], k) => {
      fwAt[fw].push(k);
      if (bw !== null) bwAt[bw].push(k);
      vals[k].textContent = "";
      grads[k].textContent = bw === null ? "" : "?";  // null: an arrow standing for several
      grads[k].classList.add("cr-unknown");
    });
    slider.max = String(steps.length - 1);
    cur = -1;
    fresh = [];
    current = null;
    zoom(1);
    go(0);
  }

  // Show (forward = true) or hide the numbers that appear at step s.
  function apply(s, forward) {
    for (const k of fwAt[s]) vals[k].textContent = forward ? edges[k][0] : "";
    for (const k of bwAt[s]) {
      grads[k].textContent = forward ? edges[k][1] : "?";
      grads[k].classList.toggle("cr-unknown", !forward);
    }
  }

  function go(t) {
    t = Math.max(0, Math.min(steps.length - 1, t));
    if (t === cur) return;
    if (t > cur) for (let s = cur + 1; s <= t; s++) apply(s, true);
    else for (let s = cur; s > t; s--) apply(s, false);
    cur = t;
    for (const k of fresh) groups[k].classList.remove("cr-fresh");
    // What this step just computed; at step 1 that would be every input: nothing stands out.
    fresh = t === 0 ? [] : steps[t].phase === "backward" ? bwAt[t] : fwAt[t];
    for (const k of fresh) groups[k].classList.add("cr-fresh");
    if (current) current.classList.remove("cr-current");
    const n = steps[t].node;
    current = n === null ? null : nodes[n];
    if (current) {
      current.classList.add("cr-current");
      reveal(current);
    }
    detail.textContent = steps[t].text;
    slider.value = String(t);
    status.textContent = `step ${t + 1} of ${steps.length} · ${steps[t].phase}`;
    prev.disabled = first.disabled = t === 0;
    next.disabled = last.disabled = t === steps.length - 1;
  }

  // Scroll the canvas so the highlighted node is in view (big graphs).
  function reveal(node) {
    const box = node.getBBox();
    const x = (box.x + box.width / 2) * scale, y = (box.y + box.height / 2) * scale;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (x < canvas.scrollLeft || x > canvas.scrollLeft + w) canvas.scrollLeft = x - w / 2;
    if (y < canvas.scrollTop || y > canvas.scrollTop + h) canvas.scrollTop = y - h / 2;
  }

  function fitScale() {
    const w = canvas.clientWidth || width;
    return Math.min(1, w / width);
  }

  function zoom(z) {
    scale = Math.max(0.02, Math.min(4, z));
    svg.setAttribute("width", String(width * scale));
    svg.setAttribute("height", String(height * scale));
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "play";
  }

  function toggle() {
    if (timer !== null) return stop();
    if (cur >= steps.length - 1) go(0);
    const delay = steps.length > 200 ? 40 : 800;  // a big graph would take hours at 0.8 s
    timer = setInterval(() => (cur >= steps.length - 1 ? stop() : go(cur + 1)), delay);
    play.textContent = "pause";
  }

  function key(e) {
    const tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (tag === "BUTTON" && e.key === " ") return;  // the focused button's own click
    const moves = {ArrowRight: () => go(cur + 1), ArrowLeft: () => go(cur - 1),
                   Home: () => go(0), End: () => go(steps.length - 1), " ": toggle};
    if (moves[e.key]) {
      e.preventDefault();
      moves[e.key]();
    }
  }
  if (opts.globalKeys) document.addEventListener("keydown", key);
  else {
    el.tabIndex = 0;  // in a notebook the keys act when the explorer has the focus
    el.dataset.lmSuppressShortcuts = "true";  // and JupyterLab leaves them to it
    el.addEventListener("keydown", key);
  }

  show(0);
  return () => {
    stop();
    if (opts.globalKeys) document.removeEventListener("keydown", key);
  };
}

// anywidget's entry point: the data is the widget's "data" trait.
function render({ model, el }) {
  let unmount = mount(el, model.get("data"));
  const update = () => {
    unmount();
    unmount = mount(el, model.get("data"));
  };
  model.on("change:data", update);
  return () => {
    model.off("change:data", update);
    unmount();
  };
}
