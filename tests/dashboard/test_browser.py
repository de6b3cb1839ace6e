"""The dashboard in a real Chromium: pages render without console errors; run the default plan
and measure click-Run -> Gantt drawn and Run -> KPIs (printed and written to test-artifacts/, not
asserted; aim < 5 s); a named what-if picked and compared; a typo in a grid cell refused in place;
a reload keeps the session's plans; Cancel stops a running solve."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.browser import (
    ARTIFACTS,
    browser_page,
    chromium_path,
    dashboard_server,
    real_errors,
    wait_app_idle,
)
from tests.support import require

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    require(chromium_path() is not None, "Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover
        require(False, "playwright for Python is not installed")


def _nav(page, title: str) -> None:  # type: ignore[no-untyped-def]
    # generous: on a machine shared with many jobs Chromium's renderer can stall for tens of seconds
    page.get_by_role("link", name=title).first.click(timeout=120_000)
    wait_app_idle(page, timeout_ms=120_000)


def _outcome(page, label: str) -> str:  # type: ignore[no-untyped-def]
    """Wait for the solve's outcome line (``#1 default: optimal in 2.1 s ...`` or an error) and
    fail with it, and a screenshot, unless a plan came back."""
    line = page.get_by_text(re.compile(rf"^{label} .+?: ")).first
    line.wait_for(timeout=180_000)
    text = line.inner_text().strip()
    if not re.search(r" in [0-9.]+ s", text):
        page.screenshot(path=str(ARTIFACTS / "dashboard-solve-failed.png"), full_page=True)
        pytest.fail(f"the solve did not return a plan: {text}")
    return text


def test_scenario_page_renders_in_chromium() -> None:
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        wait_app_idle(page)
        page.get_by_role("heading", name="Scenario").first.wait_for()
        page.get_by_role("button", name="Validate & apply").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-scenario.png"), full_page=True)
        assert not watch.errors, watch.errors


@pytest.mark.slow
def test_run_default_plan_and_measure_click_to_gantt() -> None:
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)  # deep links make Streamlit probe <page>/_stcore/health (a 404)
        wait_app_idle(page)
        _nav(page, "Plan")
        run = page.get_by_role("button", name="Run optimiser")
        run.wait_for()
        page.wait_for_timeout(5000)  # let the standby worker finish warming up, as a user would
        t0 = time.perf_counter()
        run.click()
        page.get_by_text(re.compile("Solving")).first.wait_for(timeout=30_000)
        t_running = time.perf_counter() - t0
        outcome = _outcome(page, "#1")
        t_done = time.perf_counter() - t0
        page.wait_for_function(
            "() => { const el = document.querySelector('.st-key-plan_gantt .js-plotly-plot');"
            " return el && el.querySelectorAll('.barlayer .point path').length > 0; }",
            timeout=180_000,
        )
        click_to_gantt = time.perf_counter() - t0
        report = (f"click Run -> Gantt drawn (default scenario): {click_to_gantt:.2f} s "
                  f"(solve shown running after {t_running:.2f} s, result message after {t_done:.2f} s) "
                  f"[{outcome.strip()}]")
        print(f"\n{report}")
        (ARTIFACTS / "click-to-gantt.txt").write_text(report + "\n")
        wait_app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "dashboard-plan.png"), full_page=True)
        # downloads are built on click: summary.json parses, the workbook is a zip (xlsx)
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="summary.json").first.click()
        summary = json.loads(Path(info.value.path()).read_text())
        assert summary["status"] in ("optimal", "feasible")
        wait_app_idle(page)
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Excel workbook").first.click()
        assert Path(info.value.path()).read_bytes()[:2] == b"PK"
        wait_app_idle(page)
        for title, ready in (("Schedule", ".st-key-schedule_gantt .js-plotly-plot"),
                             ("Inventory", ".st-key-inventory_chart .js-plotly-plot"),
                             ("Costs", ".st-key-cost_chart .js-plotly-plot")):
            _nav(page, title)
            page.locator(ready).first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{title.lower()}.png"), full_page=True)

        # edit demand (scale x1.5) on the Scenario page, re-run, compare the two plans
        _nav(page, "Scenario")
        scale = page.locator(".st-key-demand_scale_0 input").first  # widget keys become CSS classes
        scale.fill("1.5")
        page.get_by_role("button", name="Validate & apply").click()
        page.get_by_text("Scenario updated").wait_for(timeout=60_000)
        _nav(page, "Plan")
        page.get_by_role("button", name="Run optimiser").click()
        _outcome(page, "#2")
        _nav(page, "Compare")
        page.locator(".st-key-cmp_gantt_1 .js-plotly-plot").wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "dashboard-compare.png"), full_page=True)
        assert not watch.errors, watch.errors


@pytest.mark.slow
def test_cancel_stops_a_running_solve_in_chromium() -> None:
    """A deliberately long solve (a robust plan over 40 samples, asked for a 0 % gap within
    10 minutes: it runs into minutes; the default ends in seconds) is cancelled from the page."""
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        wait_app_idle(page)
        _nav(page, "Plan")
        page.locator(".st-key-solve_time_limit input").first.fill("600")
        page.locator(".st-key-solve_gap_pct input").first.fill("0")
        page.get_by_text("Robust (yield uncertainty)").first.click()
        page.locator(".st-key-solve_robust label").first.click()
        page.locator(".st-key-solve_samples input").first.fill("40")
        page.get_by_role("button", name="Run optimiser").click()
        page.get_by_text(re.compile("Solving")).first.wait_for(timeout=30_000)
        # the elapsed time ticks while the page stays usable: poll for a non-zero reading (a fixed
        # wait read "0.0 s elapsed" once on a loaded machine)
        ticking = page.get_by_text(re.compile(r"([1-9][0-9]*|0\.[1-9])(\.[0-9])? s elapsed")).first
        ticking.wait_for(timeout=30_000)
        page.get_by_role("button", name="Cancel").click()
        page.get_by_text(re.compile(r"cancelled after [0-9.]+ s")).first.wait_for(timeout=30_000)
        assert page.get_by_text("No plan yet").count() == 1
        page.screenshot(path=str(ARTIFACTS / "dashboard-cancelled.png"), full_page=True)
        assert not watch.errors, watch.errors


def _kpis_shown(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the Plan page shows ``label``'s headline KPIs (its heading and Total cost)."""
    page.get_by_role("heading", name=label).first.wait_for(timeout=180_000)
    page.locator('[data-testid="stMetric"]', has_text="Total cost").first.wait_for(timeout=60_000)


@pytest.mark.slow
def test_run_to_kpis_five_times_then_a_reload_keeps_the_plans() -> None:
    """Run -> KPIs for the default scenario, median of 5 (the README's Dashboard benchmark), then
    reload the page: the session's plans and scenario come back."""
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        page.get_by_role("button", name="Validate & apply").wait_for(timeout=120_000)  # loaded
        wait_app_idle(page)
        _nav(page, "Plan")
        page.get_by_role("button", name="Run optimiser").wait_for()
        page.wait_for_timeout(5000)  # let the standby worker finish warming up, as a user would
        times = []
        for k in range(1, 6):
            wait_app_idle(page)
            page.wait_for_timeout(6000)  # a user reads the KPIs; meanwhile the next worker warms up
            t0 = time.perf_counter()
            page.get_by_role("button", name="Run optimiser").click()
            _kpis_shown(page, f"#{k} default")
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        report = (f"Run -> KPIs (default scenario, Chromium), 5 runs: "
                  f"{', '.join(f'{t:.2f}' for t in times)} s; median {median:.2f} s")
        print(f"\n{report}")
        (ARTIFACTS / "run-to-kpis.txt").write_text(report + "\n")
        page.screenshot(path=str(ARTIFACTS / "dashboard-plan-kpis.png"), full_page=True)

        url = page.url
        assert "session=" in url, url
        page.reload()
        wait_app_idle(page)
        _kpis_shown(page, "#5 default")  # the latest plan is back, with its KPIs
        page.get_by_text("Latest plan: #5 default").first.wait_for(timeout=30_000)
        _nav(page, "Compare")
        page.locator(".st-key-cmp_kpi_chart .js-plotly-plot").first.wait_for(timeout=60_000)
        assert page.get_by_text("#4 default").count() >= 1  # earlier plans are there to pick
        page.screenshot(path=str(ARTIFACTS / "dashboard-after-reload.png"), full_page=True)
        assert not real_errors(watch.errors), watch.errors


@pytest.mark.slow
def test_a_named_scenario_is_picked_and_compared_in_chromium() -> None:
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        wait_app_idle(page)
        _nav(page, "Plan")
        picker = page.locator(".st-key-whatif_pick input").first
        picker.wait_for(timeout=60_000)
        picker.click()
        for _ in range(8):  # drop the preselected entries ...
            picker.press("Backspace")
        for name in ("(as in the file)", "growth (high-demand)"):  # ... and pick two
            picker.fill(name.split(" (")[0] if not name.startswith("(") else "as in")
            page.get_by_role("option", name=name).first.click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Run & compare").click()
        page.get_by_text(re.compile(r"2 what-ifs of default in [0-9.]+ s")).first.wait_for(timeout=240_000)
        _nav(page, "Compare")
        chart = page.locator(".st-key-cmp_kpi_chart .js-plotly-plot").first
        chart.wait_for(timeout=60_000)
        page.get_by_text(re.compile(r"#2 growth")).first.wait_for()
        # the first panel (total cost) has one bar per plan, and the inputs differ in demand.scale
        page.wait_for_function(
            "() => { const el = document.querySelector('.st-key-cmp_kpi_chart .js-plotly-plot');"
            " return el && el.data.filter(t => t.xaxis === 'x').length === 2; }", timeout=60_000)
        # the inputs table (a canvas grid; its cells are mirrored in an accessible table)
        page.get_by_text("demand.scale").first.wait_for(state="attached", timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "dashboard-compare-whatifs.png"), full_page=True)
        assert not real_errors(watch.errors), watch.errors


def test_a_grid_typo_is_refused_in_place_in_chromium() -> None:
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        page.get_by_role("button", name="Validate & apply").wait_for(timeout=90_000)
        wait_app_idle(page)
        page.get_by_role("tab", name="Bioreactor fleet").click()
        wait_app_idle(page)
        grid = page.locator(".st-key-ed_reactors_0 [data-testid='stDataFrameResizable']").first
        grid.wait_for(timeout=60_000)
        error = page.get_by_text(re.compile(r"units owned: must be ≥ 0, not -5")).first
        _type_into_units_owned(page, grid, "-5", error)
        page.get_by_role("tab", name=re.compile("Bioreactor fleet ⚠ 1")).first.wait_for(timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "dashboard-grid-typo.png"), full_page=True)
        page.get_by_role("button", name="Validate & apply").click()
        page.get_by_text(re.compile(r"problem\(s\) in the last edit")).first.wait_for(timeout=30_000)
        assert page.get_by_text("Scenario updated").count() == 0
        assert not real_errors(watch.errors), watch.errors


def _type_into_units_owned(page: Any, grid: Any, text: str, shown: Any) -> None:
    """Type ``text`` into the first row's *units owned* cell of the canvas grid until ``shown`` appears.

    The grid is a canvas: the click only gives it focus, and the keyboard moves to the cell. A
    click that lands while Streamlit is still re-rendering it selects nothing (seen on a loaded
    machine), so the edit is retried a few times; the assertion that matters, the error shown in
    place, is the same each time.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        wait_app_idle(page)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 60, box["y"] + 35 + 17)  # a cell of the first data row
        page.wait_for_timeout(300)
        # wherever the click landed, walk to the top-left cell first: the keys, unlike the
        # click's pixel position, do not depend on column widths or a re-render in flight
        for key, times in (("ArrowUp", 12), ("ArrowLeft", 12), ("ArrowRight", 3)):
            for _ in range(times):  # -> index, min volume, max volume, units owned
                page.keyboard.press(key)
        # open the cell's editor, replace its text, commit: a keystroke that has to open the
        # editor itself races the editor's mount and is lost
        page.keyboard.press("Enter")
        page.wait_for_timeout(400)
        page.keyboard.press("Control+A")
        page.keyboard.type(text, delay=50)
        page.keyboard.press("Enter")
        try:
            shown.wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def _run(page) -> None:  # type: ignore[no-untyped-def]
    """Press Run once the page (and its standby solve worker) has settled, as a user would."""
    run = page.get_by_role("button", name="Run optimiser")
    run.wait_for(timeout=60_000)
    wait_app_idle(page)
    page.wait_for_timeout(5000)
    run.click(timeout=120_000)


SHORTFALL_SCALE = "4"
"""Demand x4 on the default scenario leaves demand short even with every rental (checked with
``bioplan plan --override demand.scale=4``): the plan must say so, not show a green banner."""


@pytest.mark.slow
def test_batches_and_operations_pages_and_a_shortfall_warning_in_chromium() -> None:
    _require_browser()
    with dashboard_server() as server, browser_page() as (page, watch):
        page.goto(server.url)
        wait_app_idle(page)
        _nav(page, "Plan")
        _run(page)
        _outcome(page, "#1")
        wait_app_idle(page)
        _nav(page, "Batches")
        page.locator(".st-key-batches_gantt .js-plotly-plot").first.wait_for(timeout=60_000)
        page.get_by_text("Where its units went").first.wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame']").nth(1).wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "dashboard-batches.png"), full_page=True)
        _nav(page, "Operations")
        page.get_by_text("Daily operations sheet").first.wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame']").nth(1).wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-operations.png"), full_page=True)

        _nav(page, "Scenario")
        page.locator(".st-key-demand_scale_0 input").first.fill(SHORTFALL_SCALE)
        page.get_by_role("button", name="Validate & apply").click()
        page.get_by_text("Scenario updated").wait_for(timeout=60_000)
        _nav(page, "Plan")
        _run(page)
        outcome = _outcome(page, "#2")
        assert "units short" in outcome, outcome  # the banner is a warning, not a green "optimal"
        page.get_by_text(re.compile("Shortfall:")).first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-shortfall.png"), full_page=True)
        assert not real_errors(watch.errors), watch.errors
