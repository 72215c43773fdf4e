"""Build the documentation site from the notebooks: `make docs` (or `python nbs/build_docs.py`), into `_docs/`.

Nothing is executed. Each notebook is rendered with the outputs it has: its export cells become the API entries
nbdev's `show_doc` writes (signature, docstring, the parameters' comments), `#| hide` cells are left out, and the
`#|` directives are stripped. The README is the index page, `nbs/measurements.md` a page of its own, and an API page
lists every public function and class of every module;
`nbs/how_it_is_built.md` describes the house. A plotly figure saved beside a committed image
(`images/X.json` beside `images/X.png`) is drawn interactively with the plotly.js installed with plotly; the image
stays as the fallback. MkDocs with the Material theme and mkdocs-jupyter build the pages; the site opens from disk.
"""
import ast, html, importlib, json, os, re, shutil, subprocess, sys, warnings
from pathlib import Path

import nbformat
import yaml
from nbdev.process import extract_directives

REPO = Path(__file__).resolve().parents[1]
# Material's offline search needs a Web Worker shim for file:// pages; it is fetched from npm's registry, pinned
IFRAME_WORKER = "iframe-worker@1.0.4"
VENDOR = REPO / "_proc" / "vendor"
NBS = REPO / "nbs"
STAGE = REPO / "_proc" / "site"          # the pages as MkDocs reads them (ignored, remade every build)
SITE = REPO / "_docs"                   # the built site (ignored)
PACKAGE = "data_efficient_lth"

# the house, in the order data flows: each section's notebooks in the order of nbs/
SECTIONS = {"Data": ["00_data", "00a_augment", "00b_datasets"], "Models": ["01_models"],
            "Pruning": ["02_prune", "02a_scores", "02b_early_bird"], "Training": ["03_train", "03a_batched"],
            "Runs": ["01a_files", "04_rundir", "04a_imp", "04b_baselines", "04c_tickets"],
            "Analysis": ["04d_lmc", "05_viz", "06_sweep", "08_robust"], "Interfaces": ["07_cli", "07a_entry"]}
TUTORIALS = ["quickstart", "explore_a_ticket", "is_the_ticket_special", "tickets_for_less", "fashion_mnist",
             "reproduce_cifar10"]


def api_markdown(obj, name: str | None = None) -> str:
    "nbdev's `show_doc` entry for `obj` as markdown, without its source link (this package has no public repository URL)."
    from nbdev.showdoc import show_doc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        md = show_doc(obj, name=name)._repr_markdown_()
    md = re.sub(r"(?m)^\[source\]\(.*\n", "", md)
    md = re.sub(r"^\s*---\s*\n", "", md).strip()
    return "\n".join(line if line.startswith(">  ") else _escape_html(line) for line in md.splitlines())


def _escape_html(line: str) -> str:
    "A docstring's `<` and `>` shown as text outside code spans (a docstring naming `<script>` must not open one)."
    parts = line.split("`")
    return "`".join(html.escape(p, quote=False) if i % 2 == 0 else p for i, p in enumerate(parts))


def _patched_class(node: ast.FunctionDef) -> str | None:
    "The class a fastcore `@patch` function joins (its first argument's annotation), or None."
    patched = any((isinstance(d, ast.Name) and d.id == "patch") or
                  (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "patch") for d in node.decorator_list)
    args = node.args.args
    if not patched or not args or args[0].annotation is None: return None
    ann = args[0].annotation
    return ann.id if isinstance(ann, ast.Name) else getattr(ann, "value", None)


def documented(source: str, module) -> list[tuple[str, object]]:
    "The public functions, classes (with their public methods) and patched methods an export cell defines."
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            owner = _patched_class(node)
            if owner and hasattr(module, owner) and not (node.name.startswith("_") or owner.startswith("_")):
                found.append((f"{owner}.{node.name}", getattr(getattr(module, owner), node.name, None)))
            elif not owner and not node.name.startswith("_"):
                found.append((node.name, getattr(module, node.name, None)))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            cls = getattr(module, node.name, None)
            found.append((node.name, cls))
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    found.append((f"{node.name}.{item.name}", getattr(cls, item.name, None)))
    return [(name, obj) for name, obj in found if obj is not None]


def _entry(name: str, obj) -> str:
    "One API entry; a property (no signature) as its name and docstring."
    if isinstance(obj, property):
        return f"### {name}\n\n*{(obj.__doc__ or '').strip()}*"
    return api_markdown(obj, name=name)


def doc_notebook(path: Path, depth: int = 0) -> nbformat.NotebookNode:
    "The notebook as its page shows it: export cells as API entries, hidden cells out, directives stripped."
    nb = nbformat.read(path, 4)
    module, cells = None, []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell); continue
        flags = extract_directives(cell, remove=False)      # nbdev's reading of the cell's leading `#|` lines
        if "default_exp" in flags:
            module = importlib.import_module(f"{PACKAGE}.{flags['default_exp'][0]}"); continue
        if "hide" in flags: continue
        body = re.sub(r"(?m)^#\|.*\n?", "", cell.source).strip("\n")
        if {"export", "exports"} & set(flags):
            entries = [_entry(name, obj) for name, obj in documented(body, module)] if module else []
            if entries: cells.append(nbformat.v4.new_markdown_cell("\n\n".join(entries)))
            continue
        if not body: continue
        cell.source = body
        cells.append(cell)
    for cell in cells:        # links between notebooks go to their pages (MkDocs rewrites only its markdown pages' links)
        if cell.cell_type != "markdown": continue
        cell.source = interactive_figures(re.sub(r"\]\(((?!https?:)[^)#]+)\.ipynb", r"](\1.html", cell.source), depth)
    nb.cells = cells
    return nb


def module_name(path: Path) -> str:
    "The module a notebook exports to (its `#| default_exp`)."
    cells = [c for c in nbformat.read(path, 4).cells if c.cell_type == "code"]
    return next(d["default_exp"][0] for d in map(lambda c: extract_directives(c, remove=False), cells) if "default_exp" in d)


def title(path: Path) -> str:
    "A notebook's title: its first markdown heading."
    for cell in nbformat.read(path, 4).cells:
        found = re.search(r"(?m)^# (.+)$", cell.source) if cell.cell_type == "markdown" else None
        if found: return found.group(1).strip()
    return path.stem


def description(path: Path) -> str:
    "A notebook's one-line summary: the `> ...` line under its title."
    for cell in nbformat.read(path, 4).cells:
        found = re.search(r"(?m)^> (.+)$", cell.source) if cell.cell_type == "markdown" else None
        if found: return found.group(1).strip()
    return ""


def api_page() -> str:
    "Every public name of every module (its `__all__`), in the order of the site's sections."
    parts = ["# API\n\nEvery public function and class, module by module, with its signature and docstring. "
             "Each module's page shows them at work.\n"]
    for section, stems in SECTIONS.items():
        for stem in stems:
            name = module_name(NBS / f"{stem}.ipynb")
            module = importlib.import_module(f"{PACKAGE}.{name}")
            parts.append(f"## {name}\n\n[{name}]({stem}.ipynb): {description(NBS / f'{stem}.ipynb')}\n")
            for public in getattr(module, "__all__", []):
                obj = getattr(module, public)
                if callable(obj): parts.append(_entry(public, obj).replace("\n### ", "\n#### ").replace("### ", "#### ", 1))
    return "\n\n".join(parts) + "\n"


def index_page(readme: str) -> str:
    "The README with its links made relative to the site (images, the measurements page, the notebooks)."
    text = readme.replace("](nbs/images/", "](images/").replace("](nbs/measurements.md", "](measurements.md") \
                 .replace("](nbs/how_it_is_built.md", "](how_it_is_built.md")
    pages = {stem for stems in SECTIONS.values() for stem in stems} | {f"tutorials/{t}" for t in TUTORIALS}
    link = lambda m: f"[`{m.group(0)[1:-1]}`]({m.group(1)}.ipynb)" if m.group(1) in pages else m.group(0)
    return re.sub(r"`nbs/((?:tutorials/)?[\w]+)\.ipynb`", link, text)


PLOTLY_IMAGE = re.compile(r"!\[([^\]]*)\]\((\.\./)?images/([\w-]+)\.png\)")


def interactive_figures(text: str, depth: int) -> str:
    "Markdown images with a plotly figure saved beside them (images/X.json) as that figure, the image as fallback."
    prefix = "../" * depth
    def swap(m):
        fig = NBS / "images" / f"{m.group(3)}.json"
        if not fig.exists(): return m.group(0)
        div = f"plotly-{m.group(3)}"
        return (f'<div class="plotly-figure" id="{div}" data-figure="{html.escape(json.dumps(json.loads(fig.read_text())))}">'
                f'<img src="{prefix}images/{m.group(3)}.png" alt="{html.escape(m.group(1))}"></div>')
    return PLOTLY_IMAGE.sub(swap, text)


PLOTLY_JS = """document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll(".plotly-figure")) {
    const fig = JSON.parse(el.dataset.figure);
    el.innerHTML = "";
    Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false});
  }
});
"""


def iframe_worker_shim() -> Path:
    "iframe-worker's shim (1.4 KB, MIT), from npm's registry once, then from _proc/vendor."
    shim = VENDOR / "iframe-worker-shim.js"
    if shim.exists(): return shim
    VENDOR.mkdir(parents=True, exist_ok=True)
    packed = IFRAME_WORKER.replace("@", "-") + ".tgz"              # the file `npm pack` writes
    try:
        subprocess.run(["npm", "pack", "--silent", IFRAME_WORKER], cwd=VENDOR, check=True, capture_output=True)
        subprocess.run(["tar", "-xzf", packed, "package/shim/index.js"], cwd=VENDOR, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"make docs: could not fetch {IFRAME_WORKER} with npm ({e}); the site's search needs it from "
                         f"disk. Install npm (apt-get install npm) with a reachable registry, or put iframe-worker's "
                         f"shim/index.js at {shim}.") from None
    (VENDOR / "package" / "shim" / "index.js").rename(shim)
    return shim


SITE_CSS = """/* wide tables and long lines in a notebook's cells scroll sideways instead of being cut off */
.jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-InputArea-editor { overflow-x: auto; }
.plotly-figure { min-height: 300px; }
/* the notebooks are saved clean, so every prompt would read "In [ ]:" as if never run: nbdev's pages show none */
.jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
"""


def stage():
    "Write the pages MkDocs builds into _proc/site."
    if STAGE.exists(): shutil.rmtree(STAGE)
    (STAGE / "tutorials").mkdir(parents=True)
    shutil.copytree(NBS / "images", STAGE / "images", ignore=shutil.ignore_patterns("*.py", "before-after", "docs"))
    (STAGE / "assets").mkdir()
    import plotly
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", STAGE / "assets" / "plotly.min.js")
    (STAGE / "assets" / "figures.js").write_text(PLOTLY_JS)
    (STAGE / "assets" / "site.css").write_text(SITE_CSS)
    shutil.copy(iframe_worker_shim(), STAGE / "assets" / "iframe-worker-shim.js")
    readme = (REPO / "README.md").read_text()
    (STAGE / "index.md").write_text(interactive_figures(index_page(readme), 0))
    (STAGE / "measurements.md").write_text(interactive_figures((NBS / "measurements.md").read_text(), 0))
    (STAGE / "how_it_is_built.md").write_text(index_page((NBS / "how_it_is_built.md").read_text()))
    (STAGE / "api.md").write_text(api_page())
    for stems in SECTIONS.values():
        for stem in stems: nbformat.write(doc_notebook(NBS / f"{stem}.ipynb"), STAGE / f"{stem}.ipynb")
    for stem in TUTORIALS:
        nbformat.write(doc_notebook(NBS / "tutorials" / f"{stem}.ipynb", depth=1), STAGE / "tutorials" / f"{stem}.ipynb")


def nav() -> list:
    "The site's navigation: home, the tutorials, the module notebooks by section (`SECTIONS`), then the other pages."
    tutorials = [{title(NBS / "tutorials" / f"{t}.ipynb"): f"tutorials/{t}.ipynb"} for t in TUTORIALS]
    sections = [{section: [{title(NBS / f"{stem}.ipynb"): f"{stem}.ipynb"} for stem in stems]}
                for section, stems in SECTIONS.items()]
    return [{"Home": "index.md"}, {"Tutorials": tutorials}, *sections, {"Measured results": "measurements.md"},
            {"How it's built": "how_it_is_built.md"}, {"API": "api.md"}]


def config() -> Path:
    "nbs/mkdocs.yml with the navigation (from `SECTIONS`, the one place the pages' order is kept), in _proc/."
    settings = yaml.safe_load((NBS / "mkdocs.yml").read_text())
    settings.update(docs_dir=str(STAGE), site_dir=str(SITE), nav=nav())
    path = STAGE.parent / "mkdocs.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    return path


def build():
    stage()
    if SITE.exists(): shutil.rmtree(SITE)
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--strict", "-f", str(config())],
                   check=True, cwd=STAGE.parent, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})   # its cache: _proc/.cache
    pages = len(list(SITE.rglob("*.html")))
    size = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file()) / 2 ** 20
    print(f"docs: {pages} pages, {size:.1f} MB in {SITE.relative_to(REPO)}/; open {SITE.relative_to(REPO)}/index.html")


if __name__ == "__main__":
    build()
