"""Everything a GPU must show, in one command under 10 minutes: `make gpu-check` (on a CUDA machine).

Steps, each with its own time limit, each result kept even when a later step fails:
  1. the GPU's bf16 and fp32 ceilings at ResNet-18's convolutions (bench/ceiling.py);
  2. the notebooks with `#| cuda` cells, those cells included (nbdev_test --flags cuda);
  3. the quickstart tutorial, headless, on the GPU (the explorer's figures are built; no browser there), at test size;
  4. 8 runs × 500 CIFAR-shaped images trained in one loop against one after another (bench/batched_speed.py);
  5. the paper's protocol on 500 CIFAR-shaped images in fp32: one dense training and one pruned round of
     FRACTION_EPOCHS epochs measured, the 16 trainings × 200 epochs projected from them (labelled a projection);
  6. the paper's protocol on Fashion-MNIST, 50 per class, one seed (bench/fashion_protocol.py): the rounds that fit
     FASHION_BUDGET seconds, both accuracies, the verdict, the rest projected (labelled). Its files travel in
     data/fashion-mnist (make gpu-wheels puts them there).
Writes gpu-check/report.json and gpu-check/report.md (or under $OUT when set). On a machine without CUDA it says so
in one line and exits with status 2, before doing anything.
"""
import json, os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRACTION_EPOCHS = 20
FASHION_BUDGET = 180     # seconds of Fashion-MNIST training: the rounds that fit, the rest projected
STEPS = [   # name, command, seconds allowed
    ("ceilings", [sys.executable, "bench/ceiling.py", "--device", "cuda"], 60),
    ("cuda notebook cells", ["nbdev_test", "--flags", "cuda", "--n_workers", "1",
                             "--path", "nbs/03a_batched.ipynb"], 150),
    ("cuda notebook cells (robust)", ["nbdev_test", "--flags", "cuda", "--n_workers", "1",
                                      "--path", "nbs/08_robust.ipynb"], 150),
    ("quickstart on the GPU", ["nbdev_test", "--n_workers", "1", "--path", "nbs/tutorials/quickstart.ipynb"], 90),
    ("batched vs sequential, 8 runs × 500 images", [sys.executable, "bench/batched_speed.py", "--device", "cuda",
                                                    "--runs", "8", "--per-class", "50"], 120),
    ("paper's protocol, measured fraction", [sys.executable, "bench/imp_speed.py", "--device", "cuda", "--only", "c",
                                             "--precision", "fp32", "--rounds", "1", "--epochs", str(FRACTION_EPOCHS)], 120),
    ("Fashion-MNIST, the paper's protocol at 50 per class", [sys.executable, "bench/fashion_protocol.py", "--device",
                                                             "cuda", "--budget", str(FASHION_BUDGET)], FASHION_BUDGET + 90),
]


def refuse_without_cuda():
    "One line and status 2 where there is no GPU: nothing is run or written."
    import torch
    if not torch.cuda.is_available():
        print("make gpu-check needs a CUDA GPU: torch.cuda.is_available() is False here. "
              "Run it on a GPU machine (README: 'Using a GPU').", file=sys.stderr)
        sys.exit(2)
    return torch.cuda.get_device_name()


def install_wheels():
    "On a GPU machine without a registry: install what `make gpu-wheels` gathered into .gpu-site (once)."
    wheels, site = ROOT / "gpu-wheels", ROOT / ".gpu-site"
    if site.exists() or not wheels.exists(): return
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site),
                    *map(str, sorted(wheels.glob("*.whl")))], check=True)


def run_step(name: str, command: list, seconds: int, env: dict) -> dict:
    "Run one step; its status, wall time and the last lines it printed."
    start = time.time()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds)
        status, output = ("ok" if done.returncode == 0 else f"failed (exit {done.returncode})"), done.stdout + done.stderr
    except subprocess.TimeoutExpired as e:
        status, output = f"stopped after its {seconds} s", (e.stdout or b"").decode() + (e.stderr or b"").decode()
    except FileNotFoundError as e:
        status, output = f"could not start: {e}", ""
    lines = [line for line in output.splitlines() if line.strip()]
    return {"step": name, "status": status, "seconds": round(time.time() - start, 1), "tail": lines[-12:]}


def figures(results: list[dict]) -> dict:
    "The numbers the report leads with, read from the steps' printed lines, and each speed as a share of its ceiling."
    text = "\n".join(line for result in results for line in result["tail"])
    patterns = {"ceiling_bf16_train_gmacs": r"ceiling bf16: .*?(\d+) GMAC/s forward \+ backward",
                "ceiling_fp32_train_gmacs": r"ceiling fp32: .*?(\d+) GMAC/s forward \+ backward",
                "gmac_per_training_image": r"([\d.]+) GMAC forward \+ backward",
                "sequential_img_s": r"sequential:\s+(\d+) training images/s",
                "batched_img_s": r"batched:\s+(\d+) training images/s",
                "batched_ratio": r"ratio batched / sequential: ([\d.]+)",
                "protocol_train_img_s": r"defaults\s.*?\s([\d.]+)\s+(?:\d+%\s+)?[\d.]+\s+(?:\d+%\s+)?[\d.]+\s+[\d.]+ h",
                "protocol_projection_hours": r"defaults\s.*?([\d.]+) h",
                "fashion_trainings_done": r"trainings done: (\d+) of 16",
                "fashion_projection_min": r"PROJECTION \(not measured\): the 16 trainings take about ([\d.]+) min"}
    found = {key: float(m.group(1)) for key, pattern in patterns.items() if (m := re.search(pattern, text))}
    per_image = found.get("gmac_per_training_image")
    for speed, limit in (("sequential_img_s", "ceiling_bf16_train_gmacs"), ("batched_img_s", "ceiling_bf16_train_gmacs"),
                         ("protocol_train_img_s", "ceiling_fp32_train_gmacs")):
        if per_image and speed in found and limit in found:
            found[speed.replace("_img_s", "_share_of_ceiling")] = round(found[speed] * per_image / found[limit], 3)
    return found


def main():
    gpu = refuse_without_cuda()
    install_wheels()
    out = Path(os.environ.get("OUT") or ROOT / "gpu-check")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / ".gpu-site"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.pathsep.join([str(ROOT / ".gpu-site" / "bin"), os.environ.get("PATH", "")])}
    results = []
    for name, command, seconds in STEPS:
        print(f"{name} ...", flush=True)
        results.append(run_step(name, command, seconds, env))
        print(f"  {results[-1]['status']} in {results[-1]['seconds']} s", flush=True)
        (out / "report.json").write_text(json.dumps({"gpu": gpu, "steps": results, "figures": figures(results)}, indent=1))
    report = [f"# make gpu-check on {gpu}", "", "| step | status | seconds |", "|---|---|---:|"]
    report += [f"| {r['step']} | {r['status']} | {r['seconds']} |" for r in results]
    report += ["", "## Figures", ""] + [f"- {k}: {v}" for k, v in figures(results).items()]
    report += ["", "## What each step printed last", ""]
    for r in results: report += [f"### {r['step']}", "", "```", *r["tail"], "```", ""]
    (out / "report.md").write_text("\n".join(report))
    print(f"report: {out / 'report.md'}")


if __name__ == "__main__":
    main()
