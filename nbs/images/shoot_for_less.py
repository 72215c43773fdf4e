"""Static images of the "Tickets for less" tutorial's figures, for the README and readers who do not run it.

    .venv/bin/python nbs/images/shoot_for_less.py nbs/tutorials/runs/tickets-for-less

Reads the tutorial's runs (`<root>/<dataset>/<method>-seed<k>`), draws accuracy against training image passes for
each dataset found (mean ± std over the seeds), opens each in Debian's chromium (Playwright) and saves
tickets-for-less-<dataset>.png here."""
import argparse
from pathlib import Path

from data_efficient_lth import imp, viz
from shoot_special import save_pngs      # beside this script

NAMES = {"imp": "IMP", "early_bird": "early-bird", "short": "short rounds (a quarter of the epochs, LR rewinding)"}

def figures(root: Path) -> dict:
    "One cost figure per dataset folder under `root`, by the image name it is saved as."
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        runs = {name: [imp.Run(p) for p in sorted(folder.glob(f"{slug}-seed*"))] for slug, name in NAMES.items()}
        if all(runs.values()): out[f"tickets-for-less-{folder.name}"] = viz.cost_figure(viz.method_costs(runs))
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root")
    a = p.parse_args()
    save_pngs(figures(Path(a.root)))

if __name__ == "__main__": main()
