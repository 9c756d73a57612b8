"""Headless Chromium through selenium, for the tests of what a browser shows (the explorer's
page, the docs site).  Both start it here, with the same flags."""
import os
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# No name resolves: a page that tried to reach the network fails loudly.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1100,800", "--host-resolver-rules=MAP * ~NOTFOUND"]
HANG = 30  # seconds before a wait gives up: a guard against a frozen page, not a speed test


def start(profile, logs=("browser",)):
    """A headless Chromium with its profile in the folder ``profile`` (a temporary one), keeping
    the browser logs named in ``logs`` (``"browser"``: the console, ``"performance"``: requests)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("headless Chromium is needed: apt-get install -y chromium chromium-driver "
                    "(.ci/run does this)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {log: "ALL" for log in logs})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(HANG)
    return driver
