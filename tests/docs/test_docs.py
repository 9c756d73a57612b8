"""The documentation site is tested like the product.

It is built with ``sphinx-build -W`` (a warning, such as a broken link or a missing API
object, fails the build), then every built page is opened in headless Chromium from disk:
no console error, no request leaving the machine, and every embedded explorer steps with
the arrow keys.  Needs the docs packages (the ``docs`` extra, also in ``test``) and
Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).
"""
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import autograd
import chromium
import nn
from chromium import HANG

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LOCAL = ("file://", "data:", "about:", "blob:", "chrome://")  # chrome://: the browser's own


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from docs/ into a temporary folder, warnings as errors."""
    out = tmp_path_factory.mktemp("docs") / "html"
    # Every web proxy points at a closed local port: a build that fetched anything
    # (an intersphinx inventory, a font) would fail or warn, and -W makes that an error.
    nowhere = "http://127.0.0.1:9"
    env = {**os.environ, "http_proxy": nowhere, "https_proxy": nowhere, "HTTP_PROXY": nowhere,
           "HTTPS_PROXY": nowhere, "ALL_PROXY": nowhere, "no_proxy": "", "NO_PROXY": ""}
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", str(REPO / "docs"), str(out)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"sphinx-build -W failed:\n{run.stdout}\n{run.stderr}"
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium.start(tmp_path_factory.mktemp("profile"), logs=("browser", "performance"))
    try:
        yield driver
    finally:
        driver.quit()


def pages(site):
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def open_page(driver, page):
    driver.get(page.as_uri())
    WebDriverWait(driver, HANG).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def requested_urls(driver):
    """The URLs the browser asked for since the last call (Chrome's performance log)."""
    import json
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_the_site_has_every_page(site):
    built = {p.relative_to(site).as_posix() for p in pages(site)}
    expected = {"index.html", "notebooks.html", "api/index.html", "api/autograd.html",
                "api/testing.html", "api/nn.html",
                *(f"notebooks/{nb.stem}.html" for nb in (REPO / "notebooks").glob("*.ipynb")),
                *(f"{md.relative_to(REPO / 'docs').with_suffix('.html').as_posix()}"
                  for md in (REPO / "docs").rglob("*.md") if "_build" not in md.parts)}
    assert expected <= built, sorted(expected - built)


def test_every_page_loads_offline_without_console_errors(site, browser):
    problems = []
    requested_urls(browser)  # start from an empty log
    browser.get_log("browser")
    for page in pages(site):
        open_page(browser, page)
        name = page.relative_to(site).as_posix()
        for iframe in browser.find_elements(By.CSS_SELECTOR, "iframe"):  # the embeds load too
            browser.switch_to.frame(iframe)
            WebDriverWait(browser, HANG).until(
                lambda d: d.execute_script("return document.readyState") == "complete")
            browser.switch_to.default_content()
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        remote = [u for u in requested_urls(browser) if not u.startswith(LOCAL)]
        if errors or remote:
            problems.append((name, errors, remote))
    assert len(pages(site)) > 20
    assert not problems, problems


def step_of(driver):
    status = driver.find_element(By.CSS_SELECTOR, ".cr-status").text
    match = re.match(r"step (\d+) of (\d+)", status)
    assert match, status
    return int(match.group(1))


def test_every_embedded_explorer_steps_with_the_arrow_keys(site, browser):
    seen = 0
    for page in pages(site):
        open_page(browser, page)
        for k in range(len(browser.find_elements(By.CSS_SELECTOR, "iframe.cr-explorer"))):
            frame = browser.find_elements(By.CSS_SELECTOR, "iframe.cr-explorer")[k]
            browser.switch_to.frame(frame)
            WebDriverWait(browser, HANG).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, ".cr-status"))
            assert step_of(browser) == 1
            # A reader clicks inside the explorer (here on its status line), then steps.
            browser.find_element(By.CSS_SELECTOR, ".cr-status").click()
            ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
            assert step_of(browser) == 2, page
            ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
            assert step_of(browser) == 1, page
            browser.switch_to.default_content()
            seen += 1
    assert seen >= 4  # apple/orange, the sigmoid node, a small MLP, TwoLayerNet's layers


def documented_objects(site):
    """The objects the API reference describes, found from its inventory (objects.inv)."""
    raw = (site / "objects.inv").read_bytes()
    body = zlib.decompress(raw.split(b"\n", 4)[4]).decode()
    found = set()
    for line in body.splitlines():
        name, role = line.split(" ", 2)[:2]
        if role not in ("py:class", "py:function", "py:exception", "py:data"):
            continue
        module, _, attr = name.rpartition(".")
        found.add(id(getattr(importlib.import_module(module), attr)))
    return found


def public_objects():
    """Every public function and class of autograd (autograd.testing included) and nn:
    the module-level ones whose name has no leading underscore, where they are defined."""
    for package in (autograd, nn):
        modules = [package.__name__] + [m.name for m in pkgutil.walk_packages(
            package.__path__, package.__name__ + ".")]
        for name in modules:
            module = importlib.import_module(name)
            for attr, obj in vars(module).items():
                if (not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                        and obj.__module__ == name):
                    yield f"{name}.{attr}", obj


def test_the_api_reference_has_every_public_function_and_class(site):
    documented = documented_objects(site)
    missing = [name for name, obj in public_objects() if id(obj) not in documented]
    assert not missing, f"not in the API reference (docs/api/): {missing}"


def test_the_op_table_page_lists_every_row(site):
    text = (site / "api" / "ops.html").read_text(encoding="utf-8")
    table = text[text.index("<table"):text.index("</table>")]
    rows = re.findall(r"<tr[ >]", table)
    assert len(rows) == len(autograd.ops.OPS) + 1  # and the header


README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_short_and_points_to_pages_that_exist():
    assert len(README.splitlines()) <= 150
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert len(links) > 10
    missing = [link for link in links if not (REPO / link).is_file()]
    assert not missing, missing


def test_the_readme_examples_print_what_they_say(tmp_path, monkeypatch, capsys,
                                                op_table_restored):
    """Each ``print(...)  # output`` line of README's Python examples prints that output."""
    monkeypatch.chdir(tmp_path)  # the apple example writes price.html
    blocks = re.findall(r"```python\n(.*?)\n```", README, re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
        printed = capsys.readouterr().out.splitlines()
        said = [line.split("# ", 1)[1] for line in block.splitlines() if line.startswith("print(")]
        assert len(printed) == len(said)
        for out, comment in zip(printed, said):
            assert comment.startswith(out), (out, comment)
    assert (tmp_path / "price.html").stat().st_size > 0


@pytest.fixture
def op_table_restored():
    """The examples declare ops (softplus): the table is given back as it was."""
    before = dict(autograd.ops.OPS)
    yield
    autograd.ops.OPS.clear()
    autograd.ops.OPS.update(before)


@pytest.mark.parametrize("page", sorted(p.name for p in (REPO / "docs").glob("*.md")
                                        if ">>>" in p.read_text(encoding="utf-8")))
def test_the_examples_on_the_pages_give_what_they_show(page, op_table_restored):
    """A page's ``>>>`` examples, run in order as one doctest (the graphs of
    docs/_ext/graphs.py are defined, as the page shows their code)."""
    import doctest
    sys.path.insert(0, str(REPO / "docs" / "_ext"))
    try:
        import graphs
    finally:
        sys.path.remove(str(REPO / "docs" / "_ext"))
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    examples = [b for b in re.findall(r"```python\n(.*?)\n```", text, re.S) if b.startswith(">>>")]
    test = doctest.DocTestParser().get_doctest("\n\n".join(examples),
                                               {"apple_orange": graphs.apple_orange},
                                               page, str(REPO / "docs" / page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
