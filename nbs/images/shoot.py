"""Static images of a run's figures for the README and the tutorials (readers who do not run the notebooks).

    .venv/bin/python nbs/images/shoot.py runs/demo [--round R]

Writes the run's HTML report, opens it in Debian's chromium (Playwright), and saves each figure as a PNG here:
accuracy.png, density-heatmap.png, density.png, mask.png, magnitudes.png, curves.png (round R, default the best),
or only those named by --figures. The accuracy figure is also saved as plotly JSON (accuracy.json), which the
documentation site draws interactively in place of the image.
The explorer's screenshot (explorer.png) comes from the browser test: DLTH_BROWSER_FULL=1 DLTH_SCREENSHOT=... pytest
tests/test_browser.py -k quickstart."""
import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from data_efficient_lth import imp, viz

HERE = Path(__file__).resolve().parent
FIGURES = {"fig-accuracy": "accuracy", "fig-heatmap": "density-heatmap", "fig-density": "density", "fig-mask": "mask",
           "fig-magnitudes": "magnitudes", "fig-curves": "curves"}

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir"); p.add_argument("--round", type=int, default=None, help="the round shown (default: the best)")
    p.add_argument("--figures", default=",".join(FIGURES.values()), help="which, comma-separated (default: all)")
    a = p.parse_args()
    run = imp.Run(a.run_dir)
    r = a.round if a.round is not None else int(run.best().name)
    wanted = a.figures.split(",")
    if "accuracy" in wanted:
        (HERE / "accuracy.json").write_text(viz.accuracy_figure(run, selected=r).to_json())
        print(HERE / "accuracy.json")
    page_path = viz.report(run)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1150, "height": 1000})
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 6")
        page.evaluate("r => { const s = document.getElementById('round'); s.value = r; s.dispatchEvent(new Event('input')); }",
                      run.rounds_done.index(r))
        page.wait_for_function("t => document.getElementById('fig-curves').layout.title.text.startsWith(t)", arg=f"Round {r}:")
        for div, name in FIGURES.items():
            if name not in wanted: continue
            page.locator(f"#{div}").screenshot(path=str(HERE / f"{name}.png"))
            print(HERE / f"{name}.png")
        browser.close()

if __name__ == "__main__": main()
