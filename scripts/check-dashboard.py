"""Drives the coordinator's dashboard in headless Chromium (Debian's, through Playwright)
and checks what a user would see: a running job turning finished without a reload, the
workers, a training job's curves point by point, a search's leaderboard, the report's
files. Run by the dashboard's browser test; on any failure it writes a screenshot and the
page's HTML to OUTPUT_DIR and exits 1 naming what was wrong.

    python scripts/check-dashboard.py CHECKS.json OUTPUT_DIR

CHECKS.json: {"url", "workers", "live_job", "train_job", "epochs", "last_accuracy",
"search_job", "best_value", "token" (optional)}
"""
import base64
import json
import os
import sys

from playwright.sync_api import sync_playwright

checks = json.load(open(sys.argv[1]))
output = sys.argv[2]
os.makedirs(output, exist_ok=True)
chromium = os.environ.get("ORRERY_CHROMIUM", "/usr/bin/chromium")
base = checks["url"].rstrip("/") + "/" + (("?token=" + checks["token"]) if checks.get("token") else "")


def fail(page, message):
    try:
        # Page.captureScreenshot through the DevTools protocol: Playwright's own screenshot
        # waits on a frame Debian's Chromium does not always produce headless.
        shot = page.context.new_cdp_session(page).send("Page.captureScreenshot", {"format": "png"})
        open(os.path.join(output, "dashboard-failure.png"), "wb").write(base64.b64decode(shot["data"]))
        open(os.path.join(output, "dashboard-failure.html"), "w").write(page.content())
    except Exception as error:  # the screenshot is a help, not the verdict
        message += f" (and no screenshot: {error})"
    print(json.dumps({"ok": False, "error": message, "output": output}))
    sys.exit(1)


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    try:
        page.goto(base)
        page.evaluate("window.__loadedOnce = true")
        live = f'#jobs tbody tr[data-job-id="{checks["live_job"]}"]'
        page.wait_for_selector(live)
        first_state = page.get_attribute(live, "data-state")
        if first_state != "running":
            fail(page, f"the live job was {first_state} when the page first showed it, not running")
        page.wait_for_selector(live + '[data-state="succeeded"]', timeout=60_000)
        if not page.evaluate("window.__loadedOnce === true"):
            fail(page, "the page reloaded to show the job's end")
        workers = page.locator("#workers tbody tr").count()
        if workers != checks["workers"]:
            fail(page, f"{workers} worker rows, expected {checks['workers']}")

        page.click(f'#jobs tbody tr[data-job-id="{checks["train_job"]}"] a')
        page.wait_for_selector('#job-state[data-state="succeeded"]')
        accuracy = '#curves svg circle.point[data-tag="test/accuracy"]'
        page.wait_for_selector(accuracy)
        points = page.locator(accuracy)
        if points.count() != checks["epochs"]:
            fail(page, f"{points.count()} test/accuracy points in the chart, expected {checks['epochs']}")
        last = float(points.nth(points.count() - 1).get_attribute("data-value"))
        if abs(last - checks["last_accuracy"]) > 1e-9:
            fail(page, f"the chart's last accuracy is {last}, the API says {checks['last_accuracy']}")
        files = page.locator("#files a").all_inner_texts()
        if "curves.svg" not in files or "curves.csv" not in files:
            fail(page, f"report files listed: {files}")

        page.evaluate(f'location.hash = "#/jobs/{checks["search_job"]}"')
        page.wait_for_selector('#job-state[data-state="succeeded"]')
        page.wait_for_selector("#leaderboard tbody tr")
        best_name = page.inner_text("#leaderboard tbody tr:first-child td.name")
        best_value = page.inner_text("#leaderboard tbody tr:first-child td.value")
        expected = checks["best_value"]
        if abs(float(best_value) - expected) > 1e-3 * max(1.0, abs(expected)):
            fail(page, f"the leaderboard's best row shows {best_value} ({best_name}), the API's best is {expected}")
        print(json.dumps({"ok": True, "first_state": first_state, "points": checks["epochs"], "best": [best_name, best_value],
                          "files": files}))
    except Exception as error:
        fail(page, f"{type(error).__name__}: {error}")
    finally:
        browser.close()
