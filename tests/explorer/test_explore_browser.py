"""The explorer's HTML file in a real browser: headless Chromium driven by selenium.

Opens the exported page from disk (no server, no network), clicks through every step
with the page's own controls, reads the numbers it shows and checks the browser
console stayed clean.  Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run``
installs them); without them the tests fail, naming the packages.
"""
import random
import re
import time

import pytest

from autograd import Value
import chromium
from book_graphs import apple_orange_graph
from chromium import HANG

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture
def browser(tmp_path):
    driver = chromium.start(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def mlp_loss(sizes=(2, 16, 16, 1), points=2, seed=0):
    """The MLP demo's loss built with Values: sum of squared errors over a few points."""
    rnd = random.Random(seed)
    layers = [[([Value(rnd.uniform(-1, 1), label=f"L{k}.n{j}.w{i}") for i in range(a)],
                Value(0.0, label=f"L{k}.n{j}.b")) for j in range(b)]
              for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    loss = Value(0.0, label="loss0")
    for p in range(points):
        x = [Value(rnd.uniform(-1, 1), label=f"x{p}.{i}") for i in range(sizes[0])]
        for k, layer in enumerate(layers):
            outs = []
            for w, b in layer:
                s = b
                for wi, xi in zip(w, x):
                    s = s + wi * xi
                outs.append(s.relu() if k < len(layers) - 1 else s)
            x = outs
        loss = loss + (x[0] - 1.0) ** 2
    loss.label = "loss"
    return loss


def _open(driver, path):
    driver.get(path.as_uri())
    WebDriverWait(driver, HANG).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".cr-status"))


def _status(driver):
    return driver.find_element(By.CSS_SELECTOR, ".cr-status").text


def _detail(driver):
    return driver.find_element(By.CSS_SELECTOR, ".cr-detail").text


def _texts(driver, css):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent)", css)


def _button(driver, title_start):
    return driver.find_element(By.CSS_SELECTOR, f'button[title^="{title_start}"]')


def _console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_apple_and_orange_step_by_step(browser, tmp_path):
    price = apple_orange_graph()[0]  # backward() not called: the page must compute and say so
    page = tmp_path / "apple_orange.html"
    price.to_html(page)
    assert price.grad == 0.0  # exporting changed nothing
    _open(browser, page)

    assert _status(browser) == "step 1 of 11 · forward"
    assert sorted(_texts(browser, "text.cr-grad")) == ["?"] * 9  # not yet computed, not 0
    assert "backward() has not run yet" in _detail(browser)

    nxt = _button(browser, "next step")
    details = [_detail(browser)]
    for k in range(2, 12):
        nxt.click()
        assert _status(browser).startswith(f"step {k} of 11")
        details.append(_detail(browser))
    assert not nxt.is_enabled()

    forward, backward = details[:5], details[5:]
    assert "= 715.0000000000001" in forward[4] and "price = v6 × tax" in forward[4]
    assert "dL/dprice = 1.0" in backward[0]
    assert "to tax: 1.0 × 650.0 (local dprice/dtax) = 650.0" in backward[1]
    assert "to apple × apple_num: 1.1 × 1.0 (local dv6/d(apple × apple_num)) = 1.1" in backward[2]
    assert ("to orange: 1.1 × 3.0 (local d(orange × orange_num)/dorange) = 3.3000000000000003"
            in backward[3])
    assert ("to orange_num: 1.1 × 150.0 (local d(orange × orange_num)/dorange_num) = 165.0"
            in backward[3])
    assert "to apple: 1.1 × 2.0 (local d(apple × apple_num)/dapple) = 2.2" in backward[4]
    assert ("to apple_num: 1.1 × 100.0 (local d(apple × apple_num)/dapple_num) = 110.00000000000001"
            in backward[4])
    for name, grad in [("apple", "2.2"), ("apple_num", "110.00000000000001"),
                       ("orange", "3.3000000000000003"), ("orange_num", "165.0"), ("tax", "650.0")]:
        assert f"dL/d{name} = {grad}\n" in backward[-1] + "\n"
    assert "price = 715.0000000000001" in backward[-1]
    # The picture: every arrow's gradient in red below its value, rounded to 6 digits.
    assert sorted(_texts(browser, "text.cr-grad")) == sorted(
        ["2.2", "110", "3.3", "165", "1.1", "1.1", "1.1", "650", "1"])
    assert "715" in _texts(browser, "text.cr-val")
    browser.save_screenshot(str(tmp_path / "apple_orange_end.png"))

    prev = _button(browser, "previous step")
    for k in range(10, 0, -1):
        prev.click()
        assert _status(browser).startswith(f"step {k} of 11")
    assert sorted(_texts(browser, "text.cr-grad")) == ["?"] * 9
    assert "" in _texts(browser, "text.cr-val")  # 715 not computed yet at step 1

    # Keyboard arrows, End, the slider and play.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert _status(browser).startswith("step 2 of 11")
    body.send_keys(Keys.END)
    assert _status(browser).startswith("step 11 of 11")
    body.send_keys(Keys.ARROW_LEFT)
    assert _status(browser).startswith("step 10 of 11")
    browser.execute_script("const s = document.querySelector('.cr-slider');"
                           "s.value = '5'; s.dispatchEvent(new Event('input'));")
    assert _status(browser) == "step 6 of 11 · backward"
    _button(browser, "first step").click()
    _button(browser, "play").click()
    WebDriverWait(browser, HANG).until(lambda d: _status(d).startswith("step 3 "))
    _button(browser, "play").click()  # pause
    paused = _status(browser)
    time.sleep(1.0)
    assert _status(browser) == paused

    browser.save_screenshot(str(tmp_path / "apple_orange.png"))
    assert (tmp_path / "apple_orange.png").stat().st_size > 1000
    assert _console_errors(browser) == []


def test_a_thousand_node_graph_opens_collapsed_and_steps(browser, tmp_path):
    loss = mlp_loss()
    n = len(loss.topological_order())
    assert n >= 1000
    page = tmp_path / "mlp.html"
    loss.to_html(page)
    start = time.perf_counter()
    _open(browser, page)
    steps = int(_status(browser).split(" of ")[1].split()[0])
    assert steps > 2 * len(loss.topological_order(leaves=False))
    # It opens collapsed into its layers (found from the labels L0., L1., L2.).
    boxes = _texts(browser, "g.cr-group text")
    assert {b.split(" (")[0] for b in boxes} >= {"L0", "L1", "L2"}
    nxt = _button(browser, "next step")
    for k in range(2, 22):
        nxt.click()
        assert _status(browser).startswith(f"step {k} of")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    assert _status(browser).startswith(f"step {steps} of")
    assert "dL/dL0.n0.w0 = " in _detail(browser)
    # A box expands on click, at the same step.
    browser.execute_script("Array.from(document.querySelectorAll('g.cr-group'))"
                           ".find(g => g.textContent.startsWith('L1 ')).dispatchEvent(new Event('click'))")
    assert _texts(browser, "select.cr-view option:checked") == ["L1 expanded"]
    assert _status(browser).startswith(f"step {steps} of")
    assert "L1 (" not in " ".join(_texts(browser, "g.cr-group text"))
    body.send_keys(Keys.HOME)
    assert _status(browser).startswith("step 1 of")
    # The view of the ops nearest the output shows as many ops as its name says.
    menu = Select(browser.find_element(By.CSS_SELECTOR, "select.cr-view"))
    menu.select_by_index(len(menu.options) - 1)
    said = int(re.search(r"the (\d+) ops", menu.first_selected_option.text).group(1))
    assert len(browser.find_elements(By.CSS_SELECTOR, "g.cr-op")) == said
    assert len(_texts(browser, "g.cr-group text")) == 1
    body.send_keys(Keys.END)
    assert "dL/dL0.n0.w0 = " in _detail(browser)
    elapsed = time.perf_counter() - start
    print(f"{n} nodes, {steps} steps: opened and stepped in {elapsed:.2f} s")
    browser.save_screenshot(str(tmp_path / "mlp.png"))
    assert _console_errors(browser) == []


def _in_pane(driver, ids):
    """Whether the nodes ``ids`` lie inside the visible part of the drawing's pane."""
    return driver.execute_script("""
        const pane = document.querySelector('.cr-canvas').getBoundingClientRect();
        const inner = {left: pane.left, top: pane.top,
                       right: pane.left + document.querySelector('.cr-canvas').clientWidth,
                       bottom: pane.top + document.querySelector('.cr-canvas').clientHeight};
        return arguments[0].map(i => {
          const r = document.querySelector(`g.cr-node[data-n="${i}"]`).getBoundingClientRect();
          return r.left >= inner.left - 1 && r.right <= inner.right + 1 &&
                 r.top >= inner.top - 1 && r.bottom <= inner.bottom + 1;
        });""", ids)


def test_the_view_follows_the_current_node_and_fit_fits(browser, tmp_path):
    loss = mlp_loss()
    page = tmp_path / "mlp.html"
    loss.to_html(page)
    _open(browser, page)
    menu = Select(browser.find_element(By.CSS_SELECTOR, "select.cr-view"))
    whole = next(i for i, o in enumerate(menu.options) if o.text.startswith("whole graph"))
    menu.select_by_index(whole)
    data = browser.execute_script("return JSON.parse(document.getElementById('chainrule-data')"
                                  ".textContent)")
    view = data["views"][whole]
    inputs = {}
    for src, dst, *_ in view["edges"]:
        inputs.setdefault(dst, []).append(src)
    slider_go = ("const s = document.querySelector('.cr-slider');"
                 "s.value = String(arguments[0]); s.dispatchEvent(new Event('input'));")
    checked = 0
    for t in range(0, len(view["at"]), 50):
        browser.execute_script(slider_go, t)
        node = view["at"][t]
        if node is None:
            continue
        assert all(_in_pane(browser, [node] + inputs.get(node, []))), f"step {t + 1}"
        checked += 1
    assert checked > 40
    _button(browser, "fit the graph").click()
    inside = browser.execute_script("""
        const c = document.querySelector('.cr-canvas'), pane = c.getBoundingClientRect();
        const r = c.querySelector('svg').getBoundingClientRect();
        return [r.left >= pane.left, r.top >= pane.top, r.right <= pane.left + c.clientWidth,
                r.bottom <= pane.top + c.clientHeight];""")
    assert inside == [True] * 4
    assert browser.find_element(By.CSS_SELECTOR, ".cr-minimap").is_displayed() is False
    browser.save_screenshot(str(tmp_path / "fit.png"))
    assert _console_errors(browser) == []


def test_a_collapsed_big_graph_shows_boxes(browser, tmp_path):
    loss = mlp_loss()
    page = tmp_path / "mlp_collapsed.html"
    loss.to_html(page, collapse=["L0.", "L1.", "L2."])
    _open(browser, page)
    boxes = _texts(browser, "g.cr-group text")
    assert len(boxes) == 3 and all(" nodes)" in b for b in boxes)
    assert _texts(browser, "select.cr-view option")[1].startswith("whole graph (")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    assert "dL/dL0.n0.w0 = " in _detail(browser)
    # A box of a chosen collapse expands on click too, at the same step.
    status = _status(browser)
    browser.execute_script("Array.from(document.querySelectorAll('g.cr-group'))"
                           ".find(g => g.textContent.startsWith('L1. ')).dispatchEvent(new Event('click'))")
    assert _texts(browser, "select.cr-view option:checked") == ["L1. expanded"]
    assert _status(browser) == status
    assert sorted(b.split(" (")[0] for b in _texts(browser, "g.cr-group text")) == ["L0.", "L2."]
    browser.save_screenshot(str(tmp_path / "mlp_collapsed.png"))
    assert _console_errors(browser) == []


def test_the_jupyter_widget_module_renders(browser, tmp_path):
    """The widget's module, run as anywidget runs it: render({model, el}) with the data trait."""
    import json

    w = apple_orange_graph()[0].explore()
    page = tmp_path / "widget.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<style>{w._css}</style></head><body><div id='app'></div><script type='module'>\n"
        f"{w._esm}\nconst traits = {json.dumps({'data': w.data, 'leaves': w.leaves})};\n"
        "window.sent = [];\n"
        "const model = {get: (k) => traits[k], set: (k, v) => window.sent.push([k, v]),\n"
        "               save_changes() {}, on() {}, off() {}};\n"
        "render({model, el: document.getElementById('app')});\n</script></body></html>",
        encoding="utf-8")
    _open(browser, page)
    app = browser.find_element(By.ID, "app")
    app.click()  # in a notebook the arrows act when the explorer has the focus
    app.send_keys(Keys.END)
    assert _status(browser) == "step 11 of 11 · backward"
    assert "dL/dorange = 3.3000000000000003" in _detail(browser)
    # "What if": one box per input; a new number goes to Python through the "edit" trait.
    boxes = browser.find_elements(By.CSS_SELECTOR, ".cr-whatif input")
    assert [b.get_attribute("value") for b in boxes] == ["100", "2", "150", "3", "1.1"]
    boxes[0].clear()
    boxes[0].send_keys("120", Keys.ENTER)
    sent = browser.execute_script("return window.sent")
    assert sent[-1][0] == "edit" and sent[-1][1][:2] == [0, 120]
    browser.save_screenshot(str(tmp_path / "widget.png"))
    assert _console_errors(browser) == []


def test_two_layer_net_layer_diagram_steps_and_expands(browser, tmp_path):
    import numpy as np

    from nn import TwoLayerNet
    from nn import explore as net_explore

    net = TwoLayerNet(2, 3, 2, weight_init_std=1.0, rng=3)
    x, t = np.array([[0.5, -1.0], [1.5, 0.3]]), np.array([0, 1])
    page = tmp_path / "net.html"
    net_explore.to_html(net, x, t, page)
    _open(browser, page)
    assert _status(browser) == "step 1 of 11 · forward"
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(7):
        body.send_keys(Keys.ARROW_RIGHT)
    assert _status(browser) == "step 8 of 11 · backward"
    assert _detail(browser).startswith("Affine2.backward (dout (2, 2)):")
    grads = _texts(browser, "text.cr-grad")
    assert "dW2 (3, 2)" in grads and "dout (2, 3)" in grads and "dW1 (2, 3)" not in grads
    # Affine1 expanded into Values: its scalar nodes, the other layers as three boxes.
    Select(browser.find_element(By.CSS_SELECTOR, "select.cr-view")).select_by_index(1)
    assert len(_texts(browser, "g.cr-group text")) == 3
    body.send_keys(Keys.END)
    shown = float(re.search(r"dL/dW1\[0,0\] = (\S+)", _detail(browser)).group(1))
    assert shown == pytest.approx(net.gradient(x, t)["W1"][0, 0], rel=1e-12)
    browser.save_screenshot(str(tmp_path / "net.png"))
    assert _console_errors(browser) == []


# -- issue 21's measures: names, labels that never overlap, 10,000 nodes, saving a step --------

def unlabelled_graphs():
    """Five graphs a user builds without naming anything."""
    a, an, o, on, t = (Value(v) for v in (100.0, 2.0, 150.0, 3.0, 1.1))
    chapter = (a * an + o * on) * t
    x = Value(0.5)
    sigmoid = 1 / (1 + (x * -1).exp())
    u = Value(3.0)
    fan_out = u * u + u * 2 + (u + 1).log()
    rnd = random.Random(1)
    xs = [Value(rnd.uniform(-1, 1)) for _ in range(2)]
    hidden = [sum((Value(rnd.uniform(-1, 1)) * xi for xi in xs), Value(0.0)).relu() for _ in range(3)]
    mlp = (sum((Value(rnd.uniform(-1, 1)) * h for h in hidden), Value(0.0)) - 1.0) ** 2
    v = Value(0.3)
    chain = v
    for _ in range(6):
        chain = (chain * 1.5 + v).tanh()
    return [chapter, sigmoid, fan_out, mlp, chain]


MENTIONS = [r"  to (.+?): ", r"dL/d\((.+?)\) = ", r"dL/d([^(\s]\S*) = ", r"^forward \d+ of \d+: (.+?) = ",
            r"^  (?!dL/d)(\S+) = ", r"that made (.+)$"]


def _drawn(driver):
    """Every name the drawing shows: node texts, and the result names on the arrows."""
    texts = _texts(driver, "g.cr-node text") + [t.split(" = ")[0] for t in _texts(driver, "text.cr-val")]
    return set(texts)


def test_every_name_in_the_steps_is_drawn(browser, tmp_path):
    for k, y in enumerate(unlabelled_graphs()):
        page = tmp_path / f"g{k}.html"
        y.to_html(page)
        _open(browser, page)
        title = browser.find_element(By.CSS_SELECTOR, ".cr-title").text
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.END)  # every arrow's numbers shown
        drawn = _drawn(browser)
        steps = browser.execute_script(
            "return JSON.parse(document.getElementById('chainrule-data').textContent).steps[0]")
        mentioned = set()
        for step in steps:
            for line in step["text"].splitlines():
                for pattern in MENTIONS:
                    mentioned.update(m for m in re.findall(pattern, line) if not m[0].isdigit())
        # A weight used once is drawn in its op's circle, as the book draws "×2".
        circles = " ".join(_texts(browser, "g.cr-op text"))
        missing = {m for m in mentioned - drawn if not (m[-1].isdigit() and m in circles)}
        assert mentioned and not missing, (k, missing)
        output = browser.find_elements(By.CSS_SELECTOR, "g.cr-output text")[0].text
        assert title == f"computational graph of {output}" and output in mentioned
        assert _console_errors(browser) == []


def _label_overlaps(driver):
    return driver.execute_script("""
        const boxes = [];
        document.querySelectorAll('g.cr-edge').forEach((g, k) => {
          for (const t of g.querySelectorAll('text')) {
            if (!t.textContent) continue;
            const r = t.getBoundingClientRect();
            boxes.push([k, r.left, r.top, r.right, r.bottom, t.textContent]);
          }
        });
        const bad = [];
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          if (a[0] !== b[0] && a[1] < b[3] && b[1] < a[3] && a[2] < b[4] && b[2] < a[4])
            bad.push([a[5], b[5]]);
        }
        return [boxes.length, bad];""")


def test_arrow_numbers_never_overlap(browser, tmp_path):
    graphs = unlabelled_graphs() + [apple_orange_graph()[0], mlp_loss(sizes=(2, 4, 1), points=2)]
    for k, y in enumerate(graphs):
        assert len(y.topological_order()) <= 200
        page = tmp_path / f"g{k}.html"
        y.to_html(page)
        _open(browser, page)
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
        _button(browser, "zoom in").click()  # at full size: the labels are shown
        while browser.execute_script("return document.querySelector('.cr-explorer')"
                                     ".classList.contains('cr-small')"):
            _button(browser, "zoom in").click()
        shown, bad = _label_overlaps(browser)
        assert shown > 0 and bad == [], (k, bad)
    browser.save_screenshot(str(tmp_path / "labels.png"))


def deep_graph(n):
    """A chain that uses its input x again at every other step: x's arrows reach every depth."""
    x = Value(0.5, label="x")
    y = x
    for i in range(n):
        y = (y * 0.9).tanh() if i % 2 else (y + x).tanh()
    return y


def wide_graph(n):
    """A sum of n products of two inputs, squared."""
    terms = [Value(0.01 * (i % 7), label=f"a{i}") * Value(1 - 0.0001 * i, label=f"b{i}")
             for i in range(n)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total * total


@pytest.mark.parametrize("kind", ["deep", "wide"])
def test_ten_thousand_nodes_open_and_step(browser, tmp_path, kind):
    y = deep_graph(4000) if kind == "deep" else wide_graph(2500)
    n = len(y.topological_order())
    assert n >= 10_000
    page = tmp_path / "big.html"
    start = time.perf_counter()
    y.to_html(page)
    written = time.perf_counter() - start
    size = page.stat().st_size
    assert size <= 4096 * n  # a few KB per node: linear, not one placeholder per column crossed
    start = time.perf_counter()
    _open(browser, page)
    opened = time.perf_counter() - start
    steps = int(_status(browser).split(" of ")[1].split()[0])
    body = browser.find_element(By.TAG_NAME, "body")
    start = time.perf_counter()
    for k in range(2, 12):
        body.send_keys(Keys.ARROW_RIGHT)
        assert _status(browser).startswith(f"step {k} of")
    body.send_keys(Keys.END)
    assert _status(browser).startswith(f"step {steps} of")
    body.send_keys(Keys.ARROW_LEFT)
    assert _status(browser).startswith(f"step {steps - 1} of")
    body.send_keys(Keys.HOME)
    assert _status(browser).startswith("step 1 of")
    stepped = time.perf_counter() - start
    print(f"{kind}: {n} nodes, {steps} steps, {size / n:.0f} bytes per node; written in "
          f"{written:.2f} s, opened in {opened:.2f} s, stepped in {stepped:.2f} s")
    assert _console_errors(browser) == []


def test_save_svg_button_saves_the_step_shown(browser, tmp_path):
    price = apple_orange_graph()[0]
    page = tmp_path / "g.html"
    price.to_html(page)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
    _open(browser, page)
    for _ in range(6):
        _button(browser, "next step").click()
    _button(browser, "save this step").click()
    saved = downloads / "step-7.svg"

    def downloaded(_):  # the browser may make the file before it writes it, or via .crdownload
        return (saved.exists() and not list(downloads.glob("*.crdownload"))
                and saved.read_text(encoding="utf-8").rstrip().endswith("</svg>"))
    WebDriverWait(browser, HANG).until(downloaded)
    svg = saved.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and 'class="cr-node cr-op cr-current"' in svg
    assert ">650<" in svg and ">?<" in svg and ".cr-current" in svg  # tax's gradient so far
    assert _console_errors(browser) == []
