"""Static images of the "Is the ticket special?" tutorial's figures, for the README and readers who do not run it.

    .venv/bin/python nbs/images/shoot_special.py nbs/tutorials/runs/is-the-ticket-special [--ticket 6]

Reads the tutorial's runs (one folder per seed), draws IMP against its baselines (mean ± std over the seeds), the
instability of the dense network and of the ticket against the rewind epoch, and seed 0's paths; opens each in
Debian's chromium (Playwright) and saves baselines.png, instability.png and lmc-path.png here."""
import argparse, tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from data_efficient_lth import imp, viz, lmc

HERE = Path(__file__).resolve().parent

def figures(root: Path, ticket: int) -> dict:
    "The tutorial's three figures, by the image name they are saved as."
    runs = [imp.Run(p) for p in sorted(root.glob("seed*"))]
    return {"baselines": viz.baselines_figure(*runs),
            "instability": lmc.instability_figure(*[(run, r) for run in runs for r in (0, ticket)]),
            "lmc-path": lmc.path_figure(runs[0], ticket)}

def save_pngs(figures: dict, width: int = 980):
    "Each figure drawn by plotly.js in Debian's chromium and saved here as <name>.png, `width` pixels wide."
    work = Path(tempfile.mkdtemp())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width + 20, "height": 700})
        for name, fig in figures.items():
            fig.update_layout(width=width)
            fig.write_html(work / f"{name}.html", include_plotlyjs=True, full_html=True)
            page.goto((work / f"{name}.html").as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg")
            page.locator(".js-plotly-plot").first.screenshot(path=str(HERE / f"{name}.png"))
            print(HERE / f"{name}.png")
        browser.close()

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root"); p.add_argument("--ticket", type=int, default=6, help="the ticket's round (default: 6)")
    a = p.parse_args()
    save_pngs(figures(Path(a.root), a.ticket))

if __name__ == "__main__": main()
