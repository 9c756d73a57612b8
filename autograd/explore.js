// chainrule's step-by-step explorer (autograd/explore.py): the page side.
//
// Python lays the graph out, draws it as SVG and computes every number; this script
// only shows them step by step.  Each arrow's value text appears at its forward step
// and its gradient at its backward step (until then a grey "?"); the detail text of
// the step (the chain rule with the numbers) comes from Python too.  The page only
// rounds the arrows' numbers to the digits chosen in its menu.
//
// Used twice: inline in the HTML file written by to_html (which calls mount), and as
// the anywidget module of the Jupyter widget (which calls render).  No network, no
// libraries.  Stepping touches only the arrows that change, so a graph of thousands
// of nodes steps as fast as a small one.

const SVG_NS = "http://www.w3.org/2000/svg";
const SMALL = 0.6;  // below this zoom the arrows' numbers would be unreadable: hidden
const FOLLOW = 0.1;  // following the current node zooms out no further than this: inputs
                     // farther away are left out of sight

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
    picker.setAttribute("aria-label", "view");
    data.views.forEach((v, i) => picker.appendChild(new Option(v.name, String(i))));
    picker.addEventListener("change", () => show(Number(picker.value), cur));  // same step
    head.appendChild(picker);
  }
  const digitsMenu = make("select", "cr-digits");
  digitsMenu.title = "significant digits of the numbers on the arrows";
  digitsMenu.setAttribute("aria-label", digitsMenu.title);
  digitsMenu.addEventListener("change", () => setDigits(Number(digitsMenu.value)));
  head.appendChild(digitsMenu);
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
  const save = button("save SVG", "save this step's picture as an SVG file", () => download());
  for (const c of [first, prev, play, next, last, slider, status, zoomOut, zoomFit, zoomIn, save]) {
    controls.appendChild(c);
  }
  const pane = make("div", "cr-pane");
  const canvas = make("div", "cr-canvas");
  const mini = make("canvas", "cr-minimap");
  mini.title = "the whole graph; click to go there";
  pane.append(canvas, mini);
  const detail = make("pre", "cr-detail");
  el.append(head, controls, pane, detail);
  if (opts.before) el.insertBefore(opts.before, pane);
  else if (opts.globalKeys) {  // the offline page
    el.insertBefore(make("div", "cr-note", "The numbers this page was written with; to try " +
      "other inputs, open the graph's explore() in Jupyter."), pane);
  }

  let view = null, steps = [], edges = [], vals = [], grads = [], tips = [], arrows = [], nodes = [];
  let fwAt = [], bwAt = [], inputsOf = [], cur = -1, timer = null, svg = null;
  let width = 0, height = 0, scale = 1, fresh = [], current = null, digits = 6;

  const fmt = (x) => {
    if (typeof x !== "number") return x;
    const s = String(Number(x.toPrecision(digits)));
    return s === "-0" ? "0" : s;
  };
  const valueText = (k) => (edges[k][2] ? `${edges[k][2]} = ` : "") + fmt(edges[k][3]);

  function show(index, step = 0) {
    stop();
    view = data.views[index];
    if (picker) picker.value = String(index);
    canvas.innerHTML = view.svg;
    svg = canvas.querySelector("svg");
    width = Number(svg.getAttribute("width"));
    height = Number(svg.getAttribute("height"));
    steps = data.steps[view.steps];
    edges = view.edges;
    arrows = Array.from(svg.querySelectorAll("g.cr-edge"));
    vals = arrows.map((g) => g.querySelector(".cr-val"));
    grads = arrows.map((g) => g.querySelector(".cr-grad"));
    tips = arrows.map((g) => g.querySelector("title"));
    nodes = Array.from(svg.querySelectorAll("g.cr-node"));
    fwAt = steps.map(() => []);
    bwAt = steps.map(() => []);
    inputsOf = nodes.map(() => []);
    edges.forEach(([src, dst, , , , fw, bw], k) => {
      fwAt[fw].push(k);
      if (bw !== null) bwAt[bw].push(k);
      inputsOf[dst].push(src);
      if (vals[k]) vals[k].textContent = "";
      if (grads[k]) {
        grads[k].textContent = bw === null ? "" : "?";  // null: an arrow standing for several
        grads[k].classList.add("cr-unknown");
      }
    });
    for (const [i, target] of Object.entries(view.groups || {})) {
      const box = nodes[Number(i)];
      box.classList.add("cr-expandable");
      box.appendChild(document.createElementNS(SVG_NS, "title")).textContent = "click to expand";
      box.addEventListener("click", () => show(target, cur));
    }
    digitsMenu.innerHTML = "";
    for (let d = 2; d <= view.digits; d++) digitsMenu.appendChild(new Option(`${d} digits`, String(d)));
    digits = view.digits;
    digitsMenu.value = String(digits);
    slider.max = String(steps.length - 1);
    cur = -1;
    fresh = [];
    current = null;
    canvas.style.height = `${Math.min(height + 20, Math.max(240, 0.7 * window.innerHeight))}px`;
    zoom(fitScale() >= SMALL ? fitScale() : 1);  // the whole graph when it stays readable
    drawMinimap();
    go(step);
  }

  // Show (forward = true) or hide the numbers that appear at step s.
  function apply(s, forward) {
    for (const k of fwAt[s]) {
      if (vals[k]) vals[k].textContent = forward ? valueText(k) : "";
      if (tips[k]) tips[k].textContent = forward ? valueText(k) : "";
    }
    for (const k of bwAt[s]) {
      if (grads[k]) {
        grads[k].textContent = forward ? fmt(edges[k][4]) : "?";
        grads[k].classList.toggle("cr-unknown", !forward);
      }
      if (tips[k]) tips[k].textContent = valueText(k) + (forward ? ` / gradient ${fmt(edges[k][4])}` : "");
    }
  }

  function setDigits(d) {
    digits = d;
    const t = cur;
    cur = -1;
    for (let k = 0; k < edges.length; k++) {
      if (vals[k]) vals[k].textContent = "";
      if (grads[k] && edges[k][6] !== null) grads[k].textContent = "?";
    }
    go(t);
  }

  function go(t) {
    t = Math.max(0, Math.min(steps.length - 1, t));
    if (t === cur) return;
    if (t > cur) for (let s = cur + 1; s <= t; s++) apply(s, true);
    else for (let s = cur; s > t; s--) apply(s, false);
    cur = t;
    if (opts.onStep) opts.onStep(t);
    for (const k of fresh) arrows[k].classList.remove("cr-fresh");
    // What this step just computed; at step 1 that would be every input: nothing stands out.
    fresh = t === 0 ? [] : steps[t].phase === "backward" ? bwAt[t] : fwAt[t];
    for (const k of fresh) arrows[k].classList.add("cr-fresh");
    if (current) current.classList.remove("cr-current");
    const n = view.at[t];
    current = n === null ? null : nodes[n];
    if (current) current.classList.add("cr-current");
    if (n !== null) follow([n, ...inputsOf[n]]);
    else if (fwAt[t].length) follow([edges[fwAt[t][0]][0]]);  // the first inputs
    detail.textContent = steps[t].text;
    slider.value = String(t);
    status.textContent = `step ${t + 1} of ${steps.length} · ${steps[t].phase}`;
    prev.disabled = first.disabled = t === 0;
    next.disabled = last.disabled = t === steps.length - 1;
  }

  // Keep the nodes ``ids`` (the current one and its inputs) in the pane: zoom out only as
  // far as they need, then pan to them unless they are all in view already.
  function follow(ids) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const i of ids) {
      const [x, y, w, h] = view.boxes[i];
      x0 = Math.min(x0, x - w / 2 - 30); x1 = Math.max(x1, x + w / 2 + 30);
      y0 = Math.min(y0, y - h / 2 - 20); y1 = Math.max(y1, y + h / 2 + 20);
    }
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) return;
    const need = Math.min(w / (x1 - x0), h / (y1 - y0));
    if (need < scale && need >= FOLLOW) zoom(need);
    const inside = x0 * scale >= canvas.scrollLeft && x1 * scale <= canvas.scrollLeft + w &&
                   y0 * scale >= canvas.scrollTop && y1 * scale <= canvas.scrollTop + h;
    if (inside) return;
    // Centred on them all when they fit, else on the current node (an input used far
    // away, such as the x of every step of a long chain, is left out).
    const [cx, cy] = need >= FOLLOW ? [(x0 + x1) / 2, (y0 + y1) / 2] : view.boxes[ids[0]];
    canvas.scrollLeft = cx * scale - w / 2;
    canvas.scrollTop = cy * scale - h / 2;
  }

  function fitScale() {
    const w = canvas.clientWidth || width, h = canvas.clientHeight || height;
    return Math.min(1, (w - 2) / width, (h - 2) / height);
  }

  function zoom(z) {
    scale = Math.max(0.01, Math.min(4, z));
    svg.setAttribute("width", String(width * scale));
    svg.setAttribute("height", String(height * scale));
    el.classList.toggle("cr-small", scale < SMALL);
    drawViewport();
  }

  // The minimap: every node as a dot, the pane's part of the drawing as a rectangle.
  let miniScale = 1, miniImage = null;
  function drawMinimap() {
    miniScale = Math.min(180 / width, 120 / height);
    mini.width = Math.max(20, Math.ceil(width * miniScale));
    mini.height = Math.max(20, Math.ceil(height * miniScale));
    const ctx = mini.getContext("2d", {willReadFrequently: true});
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, mini.width, mini.height);
    ctx.fillStyle = "#666";
    for (const [x, y, w, h] of view.boxes) {
      ctx.fillRect((x - w / 2) * miniScale, (y - h / 2) * miniScale,
                   Math.max(1, w * miniScale), Math.max(1, h * miniScale));
    }
    miniImage = ctx.getImageData(0, 0, mini.width, mini.height);
    drawViewport();
  }
  function drawViewport() {
    // Shown while part of the drawing is out of the pane.
    const big = width * scale > canvas.clientWidth + 2 || height * scale > canvas.clientHeight + 2;
    mini.style.display = big ? "block" : "none";
    if (!miniImage || !big) return;
    const ctx = mini.getContext("2d", {willReadFrequently: true});
    ctx.putImageData(miniImage, 0, 0);
    if (current) {
      const [x, y] = view.boxes[Number(current.dataset.n)];
      ctx.fillStyle = "#e07000";
      ctx.fillRect(x * miniScale - 3, y * miniScale - 3, 6, 6);
    }
    const k = miniScale / scale;
    ctx.strokeStyle = "#e07000";
    ctx.lineWidth = 1.5;
    ctx.strokeRect(canvas.scrollLeft * k, canvas.scrollTop * k,
                   canvas.clientWidth * k, canvas.clientHeight * k);
  }
  canvas.addEventListener("scroll", drawViewport);
  mini.addEventListener("click", (e) => {
    const r = mini.getBoundingClientRect();
    canvas.scrollLeft = (e.clientX - r.left) / miniScale * scale - canvas.clientWidth / 2;
    canvas.scrollTop = (e.clientY - r.top) / miniScale * scale - canvas.clientHeight / 2;
  });

  // This step's picture as a file of its own: the drawing at full size, with the styles
  // that mark the current node and the fresh arrows written into it.
  function svgText() {
    const copy = svg.cloneNode(true);
    copy.setAttribute("width", String(width));
    copy.setAttribute("height", String(height));
    const style = document.createElementNS(SVG_NS, "style");
    style.textContent = ".cr-unknown{fill:#999}.cr-current ellipse,.cr-current rect{stroke:#e07000;" +
      "stroke-width:3;fill:#fff1df}.cr-current text{font-weight:bold;fill:#b35900}" +
      ".cr-fresh path{stroke:#e07000;stroke-width:2.2}.cr-fresh text{font-weight:bold}";
    copy.insertBefore(style, copy.firstChild);
    return new XMLSerializer().serializeToString(copy);
  }
  function download() {
    const a = make("a");
    a.href = URL.createObjectURL(new Blob([svgText()], {type: "image/svg+xml"}));
    a.download = `step-${cur + 1}.svg`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
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

  show(0, opts.step || 0);
  return () => {
    stop();
    if (opts.globalKeys) document.removeEventListener("keydown", key);
  };
}

// "What if": the widget's inputs, one number box per leaf.  A change goes to Python
// (the "edit" trait), which recomputes every value and gradient through the op table
// and sends new data; the page stays at its step.
function leafEditor(model) {
  const box = document.createElement("div");
  box.className = "cr-whatif";
  const leaves = model.get("leaves") || [];
  if (!leaves.length) return null;
  box.appendChild(document.createTextNode("what if: "));
  leaves.forEach(([name, value], i) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.step = "any";
    input.value = String(value);
    input.addEventListener("change", () => {
      model.set("edit", [i, Number(input.value), Date.now()]);
      model.save_changes();
    });
    label.append(`${name} `, input);
    box.appendChild(label);
  });
  const note = document.createElement("span");
  note.className = "cr-whatif-error";
  note.textContent = model.get("error") || "";
  box.appendChild(note);
  return box;
}

// anywidget's entry point: the data is the widget's "data" trait.
function render({ model, el }) {
  let step = 0;
  const start = () => mount(el, model.get("data"), {
    step, onStep: (t) => { step = t; }, before: leafEditor(model)});
  let unmount = start();
  const update = () => {
    unmount();
    unmount = start();
  };
  model.on("change:data", update);
  model.on("change:error", update);
  return () => {
    model.off("change:data", update);
    model.off("change:error", update);
    unmount();
  };
}
