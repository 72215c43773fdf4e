# data_efficient_lth: `make demo` runs the quickstart, `make test` the whole suite (what CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the quickstart: 8 pruning rounds of a full-width small-stem ResNet-18 on digits, 10 images per class
DEMO_ARGS ?= --dataset digits --per-class 10 --rounds 8 --epochs 60 --out runs/demo

.PHONY: venv demo taste docs outputs gpu-wheels gpu-check test check-clean check-export check-readme nbtest nbtest-avx2 pytest readme bench bench-check browser-deps data-deps

$(STAMP): setup.py settings.ini constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@# nbdev's hooks: JupyterLab saves notebooks clean (~/.jupyter/jupyter_server_config.py, on only where settings.ini
	@# says jupyter_hooks = True), and git merges notebooks with nbdev_merge. Running a tutorial never breaks `make test`.
	PYTHONWARNINGS=ignore $(BIN)/nbdev_install_hooks
	@# it writes the hook into both jupyter_server_config.py and jupyter_notebook_config.py, and JupyterLab reads
	@# both ("Overriding existing pre_save_hook"): nbdev's lines are kept in the server's file only
	@$(BIN)/python -c "$(ONE_HOOK)"
	@touch $@

ONE_HOOK = from pathlib import Path; d = Path.home() / '.jupyter'; \
  server, notebook = d / 'jupyter_server_config.py', d / 'jupyter_notebook_config.py'; \
  block = server.read_text() if server.exists() else ''; \
  block = block[block.find('def nbdev_clean_jupyter'):] if 'pre_save_hook = nbdev_clean_jupyter' in block else ''; \
  text = notebook.read_text() if block and notebook.exists() else ''; \
  left = text.replace(block, '').strip(); \
  (notebook.write_text(left + chr(10)) if left else notebook.unlink()) if block and block in text else None

venv: $(STAMP) data-deps

demo: $(STAMP)
	$(BIN)/dlth imp $(DEMO_ARGS)

# a first taste in about a minute on any 2-core CPU: the whole loop (rounds, verdict, report) on a quarter of the
# demo's work. Its numbers are neither the paper's nor the demo's.
TASTE_ARGS ?= --dataset digits --per-class 10 --rounds 3 --epochs 40 --out runs/taste
taste: $(STAMP)
	@echo "make taste: 4 short trainings (3 pruning rounds, 40 epochs each) to show the loop; its accuracies are not the paper's protocol, nor the demo's (make demo)"
	$(BIN)/dlth imp $(TASTE_ARGS)

# speed of an IMP search, reference style vs ours (about 15 minutes on 2 CPU cores); never part of `make test`
bench: $(STAMP)
	$(BIN)/python bench/imp_speed.py $(BENCH_ARGS)
# accuracy of the two on digits, 3 seeds (about 10 minutes on 2 CPU cores)
# A GPU machine reaches no package registry and lacks these pure-Python packages: make gpu-wheels gathers them
# (for its Python 3.12, at the versions tested here) into gpu-wheels/, which travels with the working tree; there,
# make gpu-check installs them into .gpu-site/ and runs every GPU check in under 10 minutes (bench/gpu_check.py).
GPU_PACKAGES := fastcore execnb nbdev plotly ipywidgets anywidget setuptools nbformat
gpu-wheels: $(STAMP) data-deps
	@rm -rf gpu-wheels && $(BIN)/pip freeze --all --exclude-editable 2>/dev/null | grep -v '@' > .gpu-constraints.txt
	$(BIN)/pip download --quiet --dest gpu-wheels --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
	  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
	  -c .gpu-constraints.txt $(GPU_PACKAGES) 2>&1 | grep -v "WARNING: Location" || true
	@rm -f .gpu-constraints.txt gpu-wheels/pip-*.whl gpu-wheels/wheel-*.whl && du -sh gpu-wheels
	@# Fashion-MNIST's four files for make gpu-check's protocol step (./data is where the loaders look first)
	@mkdir -p data/fashion-mnist && cp $(FMNIST_DIR)/*-ubyte.gz data/fashion-mnist/ && du -sh data/fashion-mnist
gpu-check:
	@$(if $(wildcard $(BIN)/python),$(BIN)/python,python3) bench/gpu_check.py

bench-check: $(STAMP)
	$(BIN)/python bench/digits_check.py

test: $(STAMP) check-clean check-export check-readme nbtest nbtest-avx2 pytest
	@echo "make test: all checks passed"

# nbdev_clean must leave the notebooks as they are (it runs on a copy: your outputs are never touched)
check-clean: $(STAMP)
	@tmp=$$(mktemp -d) && cp -r nbs "$$tmp/nbs" && $(BIN)/nbdev_clean --fname "$$tmp/nbs" 2>/dev/null \
	 && if ! diff -r -q nbs "$$tmp/nbs" >/dev/null; then diff -r -q nbs "$$tmp/nbs"; \
	    echo "Notebooks are not clean: run $(BIN)/nbdev_clean and commit."; rm -rf "$$tmp"; exit 1; fi; \
	 rm -rf "$$tmp"; echo "notebooks clean"

# the library must be exactly what nbdev_export makes of the notebooks
check-export: $(STAMP)
	@tmp=$$(mktemp -d) && cp -r data_efficient_lth "$$tmp/lib" && $(BIN)/nbdev_export 2>/dev/null \
	 && if ! diff -r -q -x __pycache__ "$$tmp/lib" data_efficient_lth; then \
	    echo "The library differed from the notebooks (nbdev_export has now rewritten it): edit nbs/, export, and commit."; rm -rf "$$tmp"; exit 1; fi; \
	 rm -rf "$$tmp"; echo "library matches notebooks"

# README.md is nbs/index.ipynb as markdown (quarto cannot be installed here, so not nbdev_readme)
README_CMD = import nbformat, re, sys; from nbconvert import MarkdownExporter; \
  nb = nbformat.read('nbs/index.ipynb', 4); \
  [setattr(c, 'source', re.sub(r'(?m)^\#\|.*\n?', '', c.source).replace('](images/', '](nbs/images/').replace('](measurements.md', '](nbs/measurements.md').replace('](how_it_is_built.md', '](nbs/how_it_is_built.md')) for c in nb.cells]; \
  sys.stdout.write(MarkdownExporter(exclude_output=True).from_notebook_node(nb)[0])
readme: $(STAMP)
	$(BIN)/python -c "$(README_CMD)" > README.md
check-readme: $(STAMP)
	@$(BIN)/python -c "$(README_CMD)" | diff -q - README.md >/dev/null \
	 || { echo "README.md differs from nbs/index.ipynb: run make readme and commit."; exit 1; }; echo "README matches nbs/index.ipynb"

# the module notebooks' small outputs (tables, short prints), kept so a notebook shows each function working without
# being run: made with IN_TEST=1 on this machine, then cleaned. Run after changing what a notebook shows.
OUTPUT_NBS := $(filter-out nbs/index.ipynb,$(wildcard nbs/0*.ipynb))
outputs: $(STAMP)
	$(BIN)/python nbs/keep_outputs.py $(OUTPUT_NBS)
	$(BIN)/nbdev_clean 2>/dev/null

# Fashion-MNIST's four IDX files, from Debian's dataset-fashion-mnist (31 MB, offline once the package list is there).
# As root it is installed; otherwise the checks that need it are skipped with a message, except under CI
# (.ci/run sets DLTH_REQUIRE_FASHION_MNIST=1), where a missing file fails the suite.
FMNIST_DIR := /usr/share/datasets/fashion-mnist
data-deps:
	@test -f $(FMNIST_DIR)/t10k-labels-idx1-ubyte.gz || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's dataset-fashion-mnist (apt-get, as root)"; \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; }; } >/dev/null \
	    || echo "could not install dataset-fashion-mnist: the Fashion-MNIST checks will be skipped"; \
	  else echo "Fashion-MNIST is missing and installing it needs root (sudo apt-get install dataset-fashion-mnist): its checks will be skipped"; fi; }

# notebook tests, skipping cells flagged cuda or slow (settings.ini tst_flags)
# (the Fashion-MNIST tutorial is skipped, saying so, where its files are missing, except under CI)
FMNIST_FOUND = $(BIN)/python -c "from data_efficient_lth.datasets import idx_folder; idx_folder('fashion_mnist')"
nbtest: $(STAMP) data-deps
	@$(if $(DLTH_REQUIRE_FASHION_MNIST),true,$(FMNIST_FOUND) 2>/dev/null) \
	  || echo "Fashion-MNIST is missing: skipping nbs/tutorials/fashion_mnist.ipynb (sudo apt-get install dataset-fashion-mnist)"
	$(BIN)/nbdev_test --n_workers 1 --timing \
	  $$($(if $(DLTH_REQUIRE_FASHION_MNIST),true,$(FMNIST_FOUND) 2>/dev/null) || echo "--skip_file_glob fashion_mnist.ipynb")

# the notebooks whose checks are numerical, once more with oneDNN limited to AVX2 kernels: a second kernel set
# on every machine (CPUs differ: AMX, AVX512-BF16, AVX2), so no tolerance can be tuned to the one at hand
ISA_NBS := 01_models 02_prune 02a_scores 02b_early_bird 03_train 03a_batched 04a_imp 04d_lmc 08_robust
nbtest-avx2: $(STAMP)
	@for nb in $(ISA_NBS); do echo "nbs/$$nb.ipynb with ONEDNN_MAX_CPU_ISA=AVX2"; \
	  ONEDNN_MAX_CPU_ISA=AVX2 $(BIN)/nbdev_test --path nbs/$$nb.ipynb --n_workers 1 || exit 1; done

# the browser tests drive Debian's chromium (Playwright's own browser download cannot work offline). Installing it
# needs root: without root and without chromium, the browser tests are skipped with a message, except under CI
# (.ci/run sets DLTH_REQUIRE_BROWSER=1), where a missing chromium fails the suite.
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's chromium for the browser tests (apt-get, as root)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null \
	    || echo "could not install chromium: the browser tests will be skipped (apt-get install chromium)"; \
	  else echo "chromium is missing and installing it needs root (sudo apt-get install chromium): the browser tests will be skipped"; fi; }
	@# npm fetches the docs site's search helper (iframe-worker, 1.4 KB) from its registry, once
	@command -v npm >/dev/null || test -f _proc/vendor/iframe-worker-shim.js || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's npm for the docs site (apt-get, as root)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; } >/dev/null \
	    || echo "could not install npm: the docs test will be skipped (apt-get install npm)"; \
	  else echo "npm is missing and installing it needs root (sudo apt-get install npm): the docs test will be skipped"; fi; }

# the documentation site from the notebooks (nothing runs), into _docs/: open _docs/index.html. tests/test_docs.py
# builds it again and checks every page in chromium. MkDocs + Material + mkdocs-jupyter (the dev extra).
docs: $(STAMP)
	$(BIN)/python nbs/build_docs.py

pytest: $(STAMP) browser-deps data-deps
	$(BIN)/python -m pytest tests -q
