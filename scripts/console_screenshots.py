"""Take the console screenshots the README shows (docs/console-*.png).

    .venv/bin/python scripts/console_screenshots.py

Starts ``haze serve`` on a fresh embedded database (as the browser tests do), replays the
sample episode into it (``haze replay``: readings and forecasts, its day 7 being today), and
saves what an operator and an enterprise see, at 1366 × 900, with Debian's chromium.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "console")]

from browser import chromium_path, served_console  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

DOCS = ROOT / "docs"


def _sign_in(page: Page, secret: str) -> None:
    page.goto("/signin")
    page.get_by_label("令牌").fill(secret)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def main() -> int:
    with served_console() as console, sync_playwright() as playwright:
        replay = [sys.executable, "-m", "service.commands.cli", "replay", "--url"]
        replay += [console.base_url, "--token", console.operator_secret, "--lang", "zh-CN"]
        subprocess.run(replay, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        shots = (
            (console.operator_secret, "/dashboard", "console-dashboard.png"),
            (console.operator_secret, "/warnings", "console-warnings.png"),
            (
                console.enterprise_secret,
                f"/enterprises/{console.enterprise_id}",
                "console-enterprise.png",
            ),
        )
        for secret, path, name in shots:
            context = browser.new_context(
                base_url=console.base_url, locale="zh-CN", viewport={"width": 1366, "height": 900}
            )
            page = context.new_page()
            _sign_in(page, secret)
            page.goto(path)
            page.screenshot(path=str(DOCS / name))
            context.close()
            print(DOCS / name)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
