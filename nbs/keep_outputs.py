"""Run module notebooks as `nbdev_test` does and keep their small, teaching outputs (tables, short prints).

    python nbs/keep_outputs.py nbs/04_rundir.ipynb ...     (or: make outputs, for every module notebook)

A notebook on its own should show each function working. This keeps what a reader learns from and drops what
would bloat or leak: plotly and widget payloads, progress bars, anything on stderr, outputs over a few KB, and
anything naming a temporary folder or this machine. Cells flagged slow, cuda or notest are not run, and export cells show nothing
(their old outputs are dropped too). Run `nbdev_clean` afterwards (make outputs does). Outputs are made with IN_TEST=1,
the sizes the tests use, on whichever CPU runs this: numbers in them are that machine's.
"""
import os, re, sys
from pathlib import Path

os.environ["IN_TEST"] = "1"
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

SKIP_FLAGS = ("slow", "cuda", "notest")
MAX_CHARS = 3000
TEXT_TYPES = ("text/plain", "text/html", "text/markdown")
LEAKS = re.compile(r"/tmp/|/work/|/home/|/root/|\\r|\r|it/s\]")   # temp folders, paths of this machine, progress bars


def flags(source: str) -> set[str]:
    "The nbdev flags of a cell (`#| slow`, `#| eval: false`, ...)."
    found = set()
    for line in source.splitlines():
        if line.startswith("#|"): found.update(line[2:].replace(":", " ").split())
    return found


def skipped(cell) -> bool:
    "Cells `nbdev_test` would not run."
    if cell.cell_type != "code": return True
    cell_flags = flags(cell.source)
    return bool(cell_flags & set(SKIP_FLAGS)) or {"eval", "false"} <= cell_flags


def worth_keeping(output) -> bool:
    "A small text output that teaches: no payloads, no stderr, no paths of this machine, no progress bars."
    if output.get("output_type") == "stream":
        text = "".join(output.get("text", ""))
        return output.get("name") == "stdout" and len(text) <= MAX_CHARS and not LEAKS.search(text)
    if output.get("output_type") not in ("execute_result", "display_data"): return False
    data = output.get("data", {})
    if not data or any(kind not in TEXT_TYPES for kind in data): return False
    texts = ["".join(value) if isinstance(value, list) else str(value) for value in data.values()]
    return all(len(text) <= MAX_CHARS and not LEAKS.search(text) for text in texts)


def keep_outputs(path: Path):
    "Run `path` and keep only the outputs `worth_keeping`."
    nb = read_nb(path)
    shell = CaptureShell(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try: shell.run_all(nb, exc_stop=True, preproc=skipped)
    finally: os.chdir(cwd)
    kept = 0
    for cell in nb.cells:
        if cell.cell_type != "code": continue
        shown = not skipped(cell) and "export" not in flags(cell.source)   # a library cell's value is not a lesson
        cell.outputs = [o for o in cell.get("outputs", []) if shown and worth_keeping(o)]
        kept += len(cell.outputs)
    write_nb(nb, path)
    print(f"{path}: {kept} outputs kept")


if __name__ == "__main__":
    for name in sys.argv[1:]: keep_outputs(Path(name))
