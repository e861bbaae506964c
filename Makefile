# The two commands of the README: `make demo` and `make test`. Each sets itself up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps lint bench bench-quick bench-imports bench-capture clean captures

# setup.py and the C file: the capture kernel is rebuilt when they change
$(STAMP): pyproject.toml setup.py netseg/capture/_fastwalk.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# bytecode written now, as a wheel install does: under PYTHONDONTWRITEBYTECODE every
	# command would compile what it imports again
	$(BIN)/python -m compileall -q netseg >/dev/null
	touch $(STAMP)

setup: $(STAMP) system-deps

# Graphviz (and tshark for the capture tests) from the system package manager where missing.
system-deps:
	@sh .ci/system-deps.sh

# check exits 1 on the example's findings (that is the point of the example), hence the '-'.
demo: setup
	$(BIN)/netseg validate topologies/*.yaml
	-$(BIN)/netseg check topologies/esxi-cluster.yaml
	mkdir -p out
	$(BIN)/netseg diagram topologies/esxi-cluster.yaml -o out/esxi-cluster.svg
	$(BIN)/netseg report topologies/esxi-cluster.yaml -o out/esxi-cluster-review.html \
	    --capture captures/esxi-incident.pcap --at tor1:Eth1/11
	@echo "diagram: out/esxi-cluster.svg   review with the incident capture: out/esxi-cluster-review.html"

test: setup
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check netseg tests bench
	$(BIN)/ruff format --check netseg tests bench
	$(BIN)/mypy

# Every figure of docs/performance.md in one run (inputs cached in ~/.cache/netseg-bench).
bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# The 1,000-host / 50,000-VM import of every source (inputs generated once, cached in
# ~/.cache/netseg-bench; vcenter builds and shapes the simulator first, which takes minutes).
IMPORT_SOURCES ?= rvtools netbox hyperv xapi libvirt ovs switch vcenter
bench-imports: $(STAMP)
	@for s in $(IMPORT_SOURCES); do echo "== $$s"; $(BIN)/python -m bench.import_$$s || exit 1; done

# The capture layer by stage (compiled kernel and numpy, CPU time) and whole replay runs.
bench-capture: $(STAMP)
	$(BIN)/python -m bench.capture_layer --replay

clean:
	rm -rf $(VENV) build *.egg-info

# Regenerates the example captures (deterministic: the committed files only change with the script).
captures: $(STAMP)
	$(BIN)/python captures/generate.py
