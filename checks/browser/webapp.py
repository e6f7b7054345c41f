#!/usr/bin/env python3
"""The web app at `/` and the API reference at `/docs` in a real browser (Debian's Chromium, through Selenium),
against a `weighin serve` started here, as a person would use them: the reference renders from /openapi.json and
fits 375 px; sign-up by keyboard alone; the token in sessionStorage, never a cookie or localStorage; log out, a wrong
password's alert, log in; entries added (one with a note of HTML, shown as text; one by keyboard), imported from a
CSV file, listed, charted (a circle per reading, the trend and the goal as lines, the range picker), edited and
deleted; the goal set, told in words and cleared; CSV and JSON exports downloaded and read, the JSON one imported
again; the display unit and the password changed; the account deleted after its confirmation; no horizontal scroll
at 375 px. Every step checks the browser's console: no script error, no Content-Security-Policy or Trusted Types
violation, no failed request but the ones a step expects.

Screenshots go to the output folder for a person to look at: app-desktop.png (the main screen down to the chart),
app-desktop-dark.png, app-desktop-full.png, app-375.png and app-375-full.png, welcome.png, docs.png, docs-375.png,
and failure-STEP.png for a step that failed.

  checks/browser/webapp.py OUTPUT_DIR        (run by checks/browser/run, with Selenium's virtual environment)
  WEIGHIN_BIN   the weighin binary (default: `swift build --product weighin`)
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # checks/

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from browser import Browser  # noqa: E402
from harness import HarnessError, processes  # noqa: E402
from harness.binaries import SQL_DIR, weighin_bin  # noqa: E402
from harness.ports import Ports  # noqa: E402
from harness.server import Server  # noqa: E402

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new long passphrase"
HTML_NOTE = '<b>bold</b><img src="x" onerror="alert(1)"> & <script>alert(2)</script>'
TODAY = datetime.date.today()
NO_GOAL = ("/v1/goal", 404)  # the app asks for the goal on every refresh; none is 404


class Walk:
    """The steps, in order, sharing one browser session and the server."""

    def __init__(self, browser: Browser, base: str, out: str, work: str):
        self.b = browser
        self.base = base
        self.out = out
        self.work = work
        self.imported = 0

    # ---------------------------------------------------------------- helpers

    def rows(self):
        return self.b.find_all("#entries-body tr")

    def row_with_note(self, note: str):
        for row in self.rows():
            cells = row.find_elements(By.CSS_SELECTOR, "td.note")
            if cells and cells[0].text == note:
                return row
        raise AssertionError(f"no row with the note {note!r}")

    def circles(self):
        return self.b.find_all('#chart svg[role="img"] circle')

    def shown_count(self) -> int:
        """How many entries the table's caption says the range has."""
        caption = self.b.find("#entries-caption").text
        return int(caption.split()[0].rstrip("+")) if caption[0].isdigit() else 0

    def wait_refreshed(self, count: int):
        self.b.wait(f"{count} entries in the table and the chart",
                    lambda: self.shown_count() == count and len(self.circles()) == count)

    def shot(self, name: str, until: str | None = None):
        """The whole page (or down to the element `until`) as `name` in the output folder."""
        self.b.screenshot(os.path.join(self.out, name), until)

    # ---------------------------------------------------------------- the steps

    def api_reference(self):
        """/docs renders every operation of /openapi.json, grouped by tag, with parameters, answers and curl."""
        self.b.driver.get(self.base + "/docs")
        self.b.wait_text("#docs-status", "operations, from /openapi.json")
        doc = json.loads(self.b.script("return fetch('/openapi.json').then((r) => r.text());"))
        operations = sum(1 for item in doc["paths"].values() for m in item if m in ("get", "post", "put", "patch",
                                                                                    "delete"))
        articles = self.b.find_all("article.operation")
        assert len(articles) == operations, f"{len(articles)} operations shown, {operations} in the document"
        tags = [h.text.lower() for h in self.b.find_all(".tag-section > h2")]
        for tag in ("accounts", "entries", "schemas"):
            assert any(tag in t for t in tags), f"no section {tag!r} among {tags}"
        entry = self.b.find("#createEntry")
        text = entry.text
        for said in ("POST", "/v1/entries", "Idempotency-Key", "422", "validation_failed", "curl -X POST",
                     "Authorization: Bearer $TOKEN"):
            assert said in text, f"createEntry's article lacks {said!r}"
        self.b.type_into(self.b.by_label("Filter operations"), "goal")
        shown = [a for a in self.b.find_all("article.operation") if a.is_displayed()]
        assert shown and all("goal" in a.text.lower() for a in shown), "the filter does not narrow to the goal"
        self.b.find("#filter").clear()
        self.b.find("#filter").send_keys(" ", Keys.BACKSPACE)
        self.shot("docs.png")
        self.b.viewport(375, 812, mobile=True)
        overflow = self.b.horizontal_overflow()
        assert overflow <= 0, f"/docs scrolls sideways by {overflow} px at 375 px"
        self.shot("docs-375.png", until="#reference > .intro")
        self.b.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.b.assert_clean_console("/docs")

    def welcome(self):
        """`/` signed out: the log-in form, no console problem."""
        self.b.driver.get(self.base + "/")
        self.b.wait("the log-in form", lambda: self.b.find("#login-form").is_displayed())
        self.shot("welcome.png")
        self.b.assert_clean_console("/ signed out")

    def console_check_sees_violations(self):
        """The console check itself: an image from another site, an inline style and HTML given to innerHTML are
        refused by the page's policy, and each refusal reaches the console this test reads (the address is a
        documentation one, TEST-NET-3, never fetched)."""
        self.b.script("""
            const image = document.createElement('img');
            image.src = 'http://203.0.113.7/pixel.png';
            document.body.append(image);
            document.body.setAttribute('style', 'outline: 1px solid red');
            try { document.createElement('div').innerHTML = '<b>markup</b>'; } catch (error) { console.error(error.message); }
            image.remove();
            document.body.removeAttribute('style');""")
        seen: list[str] = []

        def reported(refusal):
            seen.extend(self.b.console_problems())
            return any(refusal in line for line in seen)

        for refusal in ("img-src", "style-src", "TrustedHTML"):
            self.b.wait(f"a console report of the refused {refusal} (seen: {seen})", lambda: reported(refusal), 5)

    def keyboard_sign_up(self):
        """Sign-up by keyboard alone: Tab to `Create an account`, fill the form, Enter on `Sign up`."""
        keys = ActionChains(self.b.driver)
        active = lambda: self.b.driver.switch_to.active_element  # noqa: E731
        for _ in range(30):
            keys.send_keys(Keys.TAB).perform()
            if active().text == "Create an account":
                break
        else:
            raise AssertionError("Tab never reached the button `Create an account`")
        keys.send_keys(Keys.ENTER).perform()
        self.b.wait("the focus on Email", lambda: active().get_attribute("id") == "sign-up-email")
        ActionChains(self.b.driver).send_keys(EMAIL, Keys.TAB, "Ada <i>Lovelace</i>", Keys.TAB, PASSWORD,
                                              Keys.TAB).perform()
        assert active().get_attribute("id") == "sign-up-unit", "Tab from Password does not reach Unit"
        ActionChains(self.b.driver).send_keys(Keys.TAB).perform()
        assert active().text == "Sign up", f"Tab from Unit reaches {active().text!r}, not `Sign up`"
        ActionChains(self.b.driver).send_keys(Keys.ENTER).perform()
        self.b.wait("the app after sign-up", lambda: self.b.find("#app").is_displayed(), timeout=30)
        assert self.b.find("#user-name").text == "Ada <i>Lovelace</i>", "the name is not shown as text"
        self.b.wait("the focus on Weight", lambda: active().get_attribute("id") == "entry-weight")
        self.b.expected_failures.add(NO_GOAL)
        self.b.assert_clean_console("sign-up")

    def token_storage(self):
        """The token is in sessionStorage only: no cookie, nothing in localStorage."""
        stored = self.b.script("return sessionStorage.getItem('weighin.token');")
        assert stored and stored.startswith("wi_"), f"no token in sessionStorage: {stored!r}"
        assert self.b.driver.get_cookies() == [], f"cookies: {self.b.driver.get_cookies()}"
        assert self.b.script("return localStorage.length;") == 0, "localStorage is not empty"

    def log_out_wrong_password_log_in(self):
        """Log out; a wrong password shows an alert; the right one logs in."""
        self.b.button("Log out").click()
        self.b.wait_text("#welcome-status", "logged out")
        assert self.b.script("return sessionStorage.getItem('weighin.token');") is None, "the token outlived log-out"
        self.b.type_into(self.b.by_label("Email"), EMAIL)
        self.b.type_into(self.b.by_label("Password"), "not the password")
        self.b.expected_failures.add(("/v1/tokens", 401))
        self.b.button("Log in").click()
        said = self.b.wait_text('#login-form [role="alert"]', "")
        assert said.strip(), "the wrong password's alert is empty"
        self.b.assert_clean_console("a wrong password")
        self.b.expected_failures.discard(("/v1/tokens", 401))
        self.b.type_into(self.b.by_label("Password"), PASSWORD)
        self.b.button("Log in").click()
        self.b.wait("the app after log-in", lambda: self.b.find("#app").is_displayed(), timeout=30)
        self.b.assert_clean_console("log-in")

    def add_entries(self):
        """Two entries from the form; the note of HTML is shown as text, never as markup."""
        self.b.type_into(self.b.by_label("Weight"), "81.3")
        self.b.set_value(self.b.by_label("Date"), (TODAY - datetime.timedelta(days=1)).isoformat())
        self.b.set_value(self.b.by_label("Time"), "07:15")
        self.b.type_into(self.b.by_label("Body fat %"), "22.5")
        self.b.type_into(self.b.by_label("Note"), HTML_NOTE)
        self.b.button("Save entry").click()
        self.b.wait_text('#entry-form [role="status"]', "Saved: 81.3 kg")
        self.wait_refreshed(1)
        row = self.row_with_note(HTML_NOTE)
        assert "22.5" in row.text, f"the body fat is not in its row: {row.text!r}"
        assert not self.b.find_all("#entries-body b, #entries-body img, #entries-body script"), "a note became HTML"
        # A script of the note's that ran would have opened an alert, and Selenium's next command would fail.

        # By keyboard: the focus is back on Weight after saving; Enter there saves the form.
        active = self.b.driver.switch_to.active_element
        assert active.get_attribute("id") == "entry-weight", f"the focus is on {active.get_attribute('id')!r}"
        ActionChains(self.b.driver).send_keys("81.0", Keys.ENTER).perform()
        self.b.wait_text('#entry-form [role="status"]', "Saved: 81 kg")
        self.wait_refreshed(2)
        self.b.assert_clean_console("adding entries")

    def import_csv(self):
        """A CSV file of 60 readings over the last 85 days, imported through the file input."""
        path = os.path.join(self.work, "weights.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["recorded_on", "weight", "unit", "note"])
            for i in range(60):
                day = TODAY - datetime.timedelta(days=85 - round(i * 83 / 59))
                wobble = ((i * 37) % 11 - 5) * 0.12
                writer.writerow([day.isoformat(), f"{84.2 - i * 0.05 + wobble:.1f}", "kg",
                                 "after a run" if i % 9 == 0 else ""])
        self.imported = 60
        self.b.by_label("CSV or JSON file").send_keys(path)
        self.b.button("Import").click()
        self.b.wait_text('#import-form [role="status"]', "Imported 60 entries from weights.csv")
        self.wait_refreshed(62)
        self.b.assert_clean_console("import")

    def chart(self):
        """One circle per reading shown, the trend as a line; the range picker changes what is shown."""
        chart = self.b.find('#chart svg[role="img"]')
        assert "Weight chart" in chart.get_attribute("aria-label"), chart.get_attribute("aria-label")
        assert self.b.find_all("#chart polyline.trend"), "no trend line"
        assert len(self.circles()) == self.shown_count() == 62
        assert len(self.rows()) == 20, f"{len(self.rows())} rows shown at first"
        self.b.button("Show more").click()
        self.b.wait("40 rows", lambda: len(self.rows()) == 40)
        self.b.find('label[for="range-30"]').click()
        self.b.wait("the 30-day range", lambda: 0 < self.shown_count() < 62 and len(self.circles()) == self.shown_count())
        self.b.find('label[for="range-all"]').click()
        self.wait_refreshed(62)
        self.b.find('label[for="range-90"]').click()
        self.wait_refreshed(62)
        self.b.assert_clean_console("the chart")

    def goal(self):
        """Setting the goal: told in words, drawn as a line (never a circle)."""
        self.b.type_into(self.b.by_label("Target weight"), "76")
        self.b.set_value(self.b.by_label("Target date"), (TODAY + datetime.timedelta(days=400)).isoformat())
        self.b.button("Set goal").click()
        self.b.wait_text('#goal-form [role="status"]', "Goal set: 76 kg")
        self.b.wait_text("#goal-words", "Goal: 76 kg by")
        self.b.wait("the goal line", lambda: self.b.find_all("#chart line.goal"))
        words = self.b.find("#goal-words").text
        assert "a week down" in words and ("on track for" in words or "after your target date" in words), words
        assert len(self.circles()) == 62, "the goal added a circle"
        self.b.expected_failures.discard(NO_GOAL)
        self.b.assert_clean_console("the goal")

    def edit(self):
        """Edit the entry with the HTML note: its weight changes in the table."""
        row = self.row_with_note(HTML_NOTE)
        self.b.button("Edit", within=row).click()
        self.b.wait_text("#entry-title", "Edit the entry of")
        weight = self.b.by_label("Weight")
        assert weight.get_attribute("value") == "81.3", weight.get_attribute("value")
        self.b.type_into(weight, "80.9")
        self.b.button("Save entry").click()
        self.b.wait_text('#entry-form [role="status"]', "Updated: 80.9 kg")
        self.b.wait("the edited weight", lambda: "80.9" in self.row_with_note(HTML_NOTE).text)
        self.b.assert_clean_console("editing")

    def delete(self):
        """Delete that entry: one row and one circle fewer."""
        self.b.button("Delete", within=self.row_with_note(HTML_NOTE)).click()
        self.b.wait_text("#entries-status", "Deleted the entry of")
        self.wait_refreshed(61)
        self.b.assert_clean_console("deleting")

    def export(self):
        """Export CSV and JSON: every entry, oldest first."""
        self.b.button("Export CSV").click()
        with open(self.b.downloaded(".csv"), newline="") as f:
            records = list(csv.reader(f))
        assert records[0][:4] == ["recorded_on", "weight", "unit", "note"], records[0]
        assert len(records) == 1 + 61, f"{len(records) - 1} rows exported"
        assert [r[0] for r in records[1:]] == sorted(r[0] for r in records[1:]), "not oldest first"
        self.b.button("Export JSON").click()
        path = self.b.downloaded(".json")
        with open(path) as f:
            exported = json.load(f)
        assert isinstance(exported, list) and len(exported) == 61, f"the JSON export: {str(exported)[:200]}"
        # The JSON export imports as it is: every entry once more.
        self.b.by_label("CSV or JSON file").send_keys(path)
        self.b.button("Import").click()
        self.b.wait_text('#import-form [role="status"]', f"Imported 61 entries from {os.path.basename(path)}")
        self.wait_refreshed(122)
        self.b.assert_clean_console("exports")

    def looks(self):
        """Screenshots: desktop light and dark; 375 px wide without horizontal scroll."""
        self.b.driver.execute_script("window.scrollTo(0, 0);")
        self.shot("app-desktop.png", until="#chart-section")
        self.shot("app-desktop-full.png")
        self.b.colour_scheme("dark")
        self.shot("app-desktop-dark.png", until="#chart-section")
        self.b.colour_scheme("light")
        self.b.viewport(375, 812, mobile=True)
        overflow = self.b.horizontal_overflow()
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 375 px"
        chart = self.b.find('#chart svg[role="img"]').rect
        assert chart["width"] <= 375, f"the chart is {chart['width']} px wide at 375 px"
        self.shot("app-375.png", until="#progress")
        self.shot("app-375-full.png")
        self.b.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        time.sleep(0.3)
        self.b.assert_clean_console("screenshots")

    def settings(self):
        """Display unit lb: the table and the chart follow. A wrong current password alerts; the right one works."""
        unit = self.b.by_label("Display unit")
        unit.send_keys("lb")
        self.b.button("Save display unit").click()
        self.b.wait_text('#unit-form [role="status"]', "now shown in lb")
        self.b.wait_text("#weight-heading", "(lb)")
        self.b.wait("the chart in lb", lambda: "lb" in self.b.find('#chart svg[role="img"]').get_attribute("aria-label"))
        self.b.type_into(self.b.by_label("Current password"), "not the password")
        self.b.type_into(self.b.by_label("New password"), NEW_PASSWORD)
        self.b.expected_failures.add(("/v1/me/password", 401))
        self.b.expected_failures.add(("/v1/me/password", 403))
        self.b.expected_failures.add(("/v1/me/password", 422))
        self.b.button("Change password").click()
        said = self.b.wait_text('#password-form [role="alert"]', "")
        assert said.strip(), "the wrong current password's alert is empty"
        assert self.b.find("#app").is_displayed(), "a wrong current password ended the session"
        self.b.assert_clean_console("a wrong current password")
        self.b.type_into(self.b.by_label("Current password"), PASSWORD)
        self.b.type_into(self.b.by_label("New password"), NEW_PASSWORD)
        self.b.button("Change password").click()
        self.b.wait_text('#password-form [role="status"]', "Password changed")
        self.b.assert_clean_console("changing the password")

    def clear_goal(self):
        """Clearing the goal: no goal line, the words say so."""
        self.b.expected_failures.add(NO_GOAL)
        self.b.button("Clear goal").click()
        self.b.wait_text('#goal-form [role="status"]', "Goal cleared")
        self.b.wait("no goal line", lambda: not self.b.find_all("#chart line.goal"))
        self.b.wait_text("#goal-words", "No goal yet")
        self.b.assert_clean_console("clearing the goal")

    def delete_account(self):
        """Delete account asks first (Cancel keeps it), then deletes; logging in again fails."""
        self.b.button("Delete account").click()
        dialog = self.b.find("#confirm-delete")
        self.b.wait("the confirmation", dialog.is_displayed)
        assert EMAIL in dialog.text, dialog.text
        self.b.button("Cancel", within=dialog).click()
        self.b.wait("the confirmation to close", lambda: not dialog.is_displayed())
        self.b.button("Delete account").click()
        self.b.button("Yes, delete my account", within=dialog).click()
        self.b.wait_text("#welcome-status", "deleted")
        assert self.b.script("return sessionStorage.length;") == 0, "sessionStorage kept something"
        self.b.expected_failures = {("/v1/tokens", 401)}
        self.b.type_into(self.b.by_label("Email"), EMAIL)
        self.b.type_into(self.b.by_label("Password"), NEW_PASSWORD)
        self.b.button("Log in").click()
        self.b.wait_text('#login-form [role="alert"]', "")
        self.b.assert_clean_console("deleting the account")
        self.b.expected_failures = set()

    def reload_clean(self):
        """`/` and `/docs` load again with nothing at all in the console."""
        for path in ("/", "/docs"):
            self.b.driver.get(self.base + path)
            self.b.wait("the page's script", lambda: self.b.script(
                "return document.querySelector('#welcome:not([hidden]), #toc h2') !== null;"))
            self.b.assert_clean_console(f"reloading {path}")


STEPS = ["api_reference", "welcome", "console_check_sees_violations", "keyboard_sign_up", "token_storage", "log_out_wrong_password_log_in",
         "add_entries", "import_csv", "chart", "goal", "edit", "delete", "export", "looks", "settings",
         "clear_goal", "delete_account", "reload_clean"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/web-shots"
    os.makedirs(out, exist_ok=True)
    processes.exit_on_signals()
    work = processes.scratch_dir("weighin-browser-", mode=0o755)
    server = Server(weighin_bin(), Ports(18200, 18299).take(),
                    ["--data-dir", os.path.join(work, "cluster"), "--sql-dir", SQL_DIR, "--hash-cost", "4"],
                    os.path.join(work, "serve.log")).start(ready_timeout=120)
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads)
    walk = Walk(Browser(downloads), server.url, out, work)
    passed = failed = 0
    for name in STEPS:
        started = time.monotonic()
        try:
            getattr(walk, name)()
        except Exception as error:  # noqa: BLE001 - every failure is reported, with a screenshot
            failed += 1
            print(f"FAIL {name}: {error}", flush=True)
            traceback.print_exc(limit=3)
            try:
                walk.shot(f"failure-{name}.png")
                print(f"  screenshot: {os.path.join(out, f'failure-{name}.png')}", flush=True)
            except Exception:  # noqa: BLE001
                pass
            break  # the steps build on each other
        passed += 1
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
    skipped = len(STEPS) - passed - failed
    print(f"screenshots in {out}", flush=True)
    print(f"browser: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    try:
        main()
    except HarnessError as error:
        print(f"FAIL: {error}", flush=True)
        sys.exit(1)
