"""Time to the widget's first row on the demo shop's product page, in headless Chromium.

    python bench/bench_widget_first_row.py http://127.0.0.1:8000/demo/shop/SKU/ [--loads 20]

Start `./bin/demo` first. Each load is a fresh page with a cold cache-less profile; the figure is the
time from navigation start to the placeholder's data-ctl-state becoming "shown" (script fetch, the
API's answer and the row drawn, the placeholder being in view at once on a tall window). Prints the
median and the spread over the loads; asserts nothing (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import shutil
import statistics

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

WATCH = """
const done = arguments[arguments.length - 1];
const host = document.querySelector('[data-complete-the-look]');
const check = () => {
  const state = host.getAttribute('data-ctl-state');
  if (state === 'shown' || state === 'failed' || state === 'empty') done([state, performance.now()]);
  else setTimeout(check, 5);
};
check();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"):
        options.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(30)
    times: list[float] = []
    try:
        for _ in range(args.loads):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get(args.url)
            WebDriverWait(driver, 30).until(lambda d: d.find_elements("css selector", "[data-ctl-state]"))
            state, at = driver.execute_async_script(WATCH)
            if state != "shown":
                print(f"a load ended {state}")
                continue
            times.append(float(at))
    finally:
        driver.quit()
    if times:
        print(
            f"time to first row: median {statistics.median(times):.0f} ms over {len(times)} loads "
            f"(min {min(times):.0f}, max {max(times):.0f})"
        )


if __name__ == "__main__":
    main()
