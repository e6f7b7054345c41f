"""A headless Chromium (Debian's `chromium` and `chromium-driver`) driven through Selenium: the browser's console log
read step by step, full-page screenshots, a download folder, and viewport sizes and colour schemes to emulate."""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import HarnessError, processes

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class ConsoleProblem(AssertionError):
    """The browser's console reported what it should not have: a script error, a CSP violation or an unexpected
    failed request."""


class Browser:
    """One Chromium session. `console_problems()` returns the console entries since the last call that are not
    allowed; Chromium logs every answer of 4xx as an error, so one is allowed only while `expected_failures` holds
    its path and status (`("/v1/goal", 404)`: no goal set)."""

    def __init__(self, downloads: str, width=1280, height=900):
        for program, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
            if not os.path.exists(program):
                raise HarnessError(f"{program} is missing: apt-get install -y {package}")
        self.downloads = downloads
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", f"--window-size={width},{height}", "--lang=en-US", "--no-first-run",
                         "--disable-dev-shm-usage", "--disable-gpu", "--disable-extensions",
                         "--hide-scrollbars",
                         # Chromium refuses to run as root (CI) with its sandbox; this browser only ever visits the
                         # test's own server on 127.0.0.1.
                         "--no-sandbox"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.add_experimental_option("prefs", {
            "download.default_directory": downloads, "download.prompt_for_download": False,
        })
        service = Service(executable_path=CHROMEDRIVER, log_output=os.devnull)
        self.driver = webdriver.Chrome(options=options, service=service)
        processes.on_cleanup(self.driver.quit)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        self.expected_failures: set[tuple[str, int]] = set()

    # ---------------------------------------------------------------- finding and waiting

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def by_label(self, text: str):
        """The form control of the visible `<label>` whose text is `text` (contract: every control has one)."""
        labels = [label for label in self.find_all("label") if label.is_displayed() and label.text.strip() == text]
        if len(labels) != 1:
            raise AssertionError(f"expected one visible label {text!r}, found {len(labels)}")
        return self.driver.find_element(By.ID, labels[0].get_attribute("for"))

    def button(self, name: str, within=None):
        """The one visible `<button>` named `name` by its text (within an element, if given)."""
        scope = within or self.driver
        found = [b for b in scope.find_elements(By.TAG_NAME, "button") if b.is_displayed() and b.text.strip() == name]
        if len(found) != 1:
            raise AssertionError(f"expected one visible button {name!r}, found {len(found)}")
        return found[0]

    def wait(self, what: str, condition, timeout=15):
        """Waits until `condition()` is truthy; its value. AssertionError naming `what` on timeout. A condition that
        fails an assertion or meets an element the app has just drawn anew is asked again."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(AssertionError, StaleElementReferenceException)).until(
                lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None

    def wait_text(self, css: str, contains: str, timeout=15) -> str:
        """Waits until the visible element at `css` has `contains` in its text; that text."""
        def text():
            for node in self.find_all(css):
                if node.is_displayed() and contains in node.text:
                    return node.text
            return None
        return self.wait(f"{css} to say {contains!r}", text, timeout)

    def set_value(self, element, value: str):
        """Sets a date or time input's value as a person's picker would (typing them depends on the locale)."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)

    def type_into(self, element, text: str):
        element.clear()
        element.send_keys(text)

    def script(self, source: str, *arguments):
        return self.driver.execute_script(source, *arguments)

    # ---------------------------------------------------------------- the console

    def console_problems(self) -> list[str]:
        """The console entries since the last call that are problems: any warning or error except a failed request
        that is expected now."""
        problems = []
        for entry in self.driver.get_log("browser"):
            if entry["level"] not in ("WARNING", "SEVERE"):
                continue
            message = entry["message"]
            failed = re.match(r"(\S+) - Failed to load resource: the server responded with a status of (\d+)", message)
            if entry.get("source") == "network" and failed and (
                    urlsplit(failed.group(1)).path, int(failed.group(2))) in self.expected_failures:
                continue
            problems.append(f"{entry['level']} {entry.get('source', '')}: {message}")
        return problems

    def assert_clean_console(self, step: str):
        problems = self.console_problems()
        if problems:
            raise ConsoleProblem(f"console during {step}:\n  " + "\n  ".join(problems))

    # ---------------------------------------------------------------- viewport, colour scheme, screenshots

    def viewport(self, width: int, height: int, mobile=False):
        """Emulates a viewport of `width` x `height` CSS pixels (a phone's, with `mobile`)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        time.sleep(0.3)  # the chart redraws for its new width a frame later

    def colour_scheme(self, scheme: str):
        """`light` or `dark`, as the system's preference (`prefers-color-scheme`)."""
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll)."""
        return self.script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")

    def screenshot(self, path: str, until: str | None = None):
        """The whole page, however long, as a PNG at `path`; with `until` (a CSS selector), from the top of the page
        down to that element's bottom."""
        width, height = self.script(
            "return [document.documentElement.clientWidth, document.documentElement.scrollHeight];")
        if until is not None:
            height = self.script("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                                 "return Math.ceil(r.bottom + window.scrollY) + 16;", until)
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    # ---------------------------------------------------------------- downloads

    def downloaded(self, suffix: str, timeout=15) -> str:
        """Waits for a finished download whose name ends with `suffix`; its path, moved out of the way of the
        next one."""
        def done():
            names = [n for n in os.listdir(self.downloads) if n.endswith(suffix)]
            return names[0] if names else None
        name = self.wait(f"a download ending in {suffix}", done, timeout)
        kept = os.path.join(self.downloads, "kept")
        os.makedirs(kept, exist_ok=True)
        path = os.path.join(kept, name)
        shutil.move(os.path.join(self.downloads, name), path)
        return path
