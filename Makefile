# flashsale — `make demo` runs a sale on http://127.0.0.1:8080, `make test` runs every test.
# Both install the Debian packages they need first (as root, or through sudo).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# What the product needs to build and run, what the tests add, what the benchmarks add.
# The tests run every host `flashsale config` writes for: Apache with mod_fcgid, nginx, and
# spawn-fcgi with multiwatch, whose systemd units systemd-analyze checks.
RUN_PACKAGES   := lighttpd libfcgi-dev libsqlite3-dev libpq-dev libhiredis-dev pkg-config
HOST_PACKAGES  := apache2 libapache2-mod-fcgid nginx-light spawn-fcgi multiwatch systemd
TEST_PACKAGES  := postgresql redis-server binutils e2fsprogs strace chromium chromium-driver python3 python3-pip wrk librsvg2-bin $(HOST_PACKAGES)
BENCH_PACKAGES := wrk curl python3 python3-pip postgresql redis-server $(HOST_PACKAGES)
# From PyPI: the browser test's driver, the captcha solvers' arrays and PNG reading, and the
# benchmarks' token minting.
TEST_PYTHON_PACKAGES  := selenium
BENCH_PYTHON_PACKAGES := pyjwt

DATA ?= $(or $(FLASHSALE_DATA),var)
PORT ?= 8080
RELEASE_BIN := .build/release
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# apt_install(packages): installs the ones that are missing; refreshes the package lists
# first when they are empty (a fresh machine) or when an install from them fails; waits for
# a dpkg lock held by a boot-time upgrade instead of failing. Packages are installed without
# starting their system services (a policy-rc.d that says no, removed afterwards): the tests
# and benchmarks run their own servers, and Apache and nginx would both claim port 80.
define apt_install
	missing=""; \
	for package in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "flashsale: installing Debian packages:$$missing"; \
	  apt_get() { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq "$$@"; }; \
	  install_missing() { apt_get install -y --no-install-recommends $$missing; }; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
	    $(SUDO) chmod 755 /usr/sbin/policy-rc.d; \
	    trap '$(SUDO) rm -f /usr/sbin/policy-rc.d' EXIT; \
	  fi; \
	  if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then apt_get update; fi; \
	  install_missing || { apt_get update && install_missing; }; \
	fi
endef

# pip_install(module, packages): installs the packages unless python3 imports the module
# already; a Debian python3 without a virtual environment needs --break-system-packages.
define pip_install
	python3 -c 'import $(1)' 2>/dev/null || python3 -m pip install --quiet $(2) \
	  || python3 -m pip install --quiet --break-system-packages $(2)
endef

.PHONY: all deps build demo test lint bench bench-quick bench-topics bench-deps clean

all: build

deps:
	@command -v swift >/dev/null || { echo "flashsale: a Swift 6 toolchain is needed (swift not on PATH)"; exit 1; }
	@$(call apt_install,$(RUN_PACKAGES))

build: deps
	swift build -c release

demo: build
	exec $(RELEASE_BIN)/flashsale demo --data $(DATA) --port $(PORT)

# The Swift tests, then the storefront in a real browser against a running demo, then the
# picture captcha against the solvers of Tests/Adversary.
test: deps
	@$(call apt_install,$(TEST_PACKAGES))
	@$(call pip_install,selenium,$(TEST_PYTHON_PACKAGES))
	@$(call pip_install,numpy,numpy)
	@$(call pip_install,PIL,pillow)
	swift format lint --strict -r Package.swift Sources Tests functions
	swift build --build-tests
	swift test --skip-build
	FLASHSALE_BIN="$$(swift build --show-bin-path)" python3 Tests/Browser/storefront_test.py
	FLASHSALE_BIN="$$(swift build --show-bin-path)" python3 Tests/Adversary/captcha_solvers.py

lint:
	swift format lint --strict -r Package.swift Sources Tests functions

# Every path against its ceiling, a full sale of 10,000 units to 100,000 buyers rehearsed with
# `flashsale loadtest`, the same sale at three sizes and every process's memory, in one run
# (about 15 minutes), then a static file, the page, noop and precheck behind lighttpd, Apache
# and nginx (about 4 minutes), then orders at 64, 256 and 1,024 connections and order
# processes killed under load (about 4 minutes); each section goes into BENCHMARKS.md between
# its markers.
bench: build bench-deps
	WRITE=BENCHMARKS.md Tests/Benchmarks/bench.sh $(RELEASE_BIN)
	WRITE=BENCHMARKS.md Tests/Benchmarks/hosts.sh $(RELEASE_BIN)
	WRITE=BENCHMARKS.md Tests/Benchmarks/faults.sh $(RELEASE_BIN)
	WRITE=BENCHMARKS.md Tests/Benchmarks/backends.sh $(RELEASE_BIN)

# The same harness, small (under 2 minutes once built): CI runs it to check that the harness
# works and that the database holds exactly the acknowledged orders; it asserts no speed.
bench-quick: build bench-deps
	ROUNDS=1 DURATION=2s SALE=1000:10000 SCALES="100:2000 1000:10000" Tests/Benchmarks/bench.sh $(RELEASE_BIN)
	ROUNDS=1 DURATION=2s Tests/Benchmarks/hosts.sh $(RELEASE_BIN)
	DURATION=2s LEVELS="64 256" KILLS=2 GAP=1 Tests/Benchmarks/faults.sh $(RELEASE_BIN)

# The deeper sections of BENCHMARKS.md, one topic each (about 24 minutes): the host's ceiling,
# the buying path and the order function's busy gate under 512 connections, the storefront
# (also behind an nginx cache), each step of a token request, every anti-abuse check on, and
# the order function's processes × threads.
bench-topics: build bench-deps
	Tests/Benchmarks/host.sh $(RELEASE_BIN)
	Tests/Benchmarks/buying.sh $(RELEASE_BIN)
	PARTS=2 CONNECTIONS=512 Tests/Benchmarks/buying.sh $(RELEASE_BIN)
	PARTS=2 CONNECTIONS=512 ORDER_ENV=FLASHSALE_ORDER_QUEUE_LIMIT=1000000 Tests/Benchmarks/buying.sh $(RELEASE_BIN)
	Tests/Benchmarks/storefront.sh $(RELEASE_BIN)
	$(RELEASE_BIN)/hot-path-benchmark
	Tests/Benchmarks/checks.sh $(RELEASE_BIN)
	Tests/Benchmarks/order-shapes.sh $(RELEASE_BIN)
	Tests/Benchmarks/sale-cpu.sh $(RELEASE_BIN)

bench-deps:
	@$(call apt_install,$(BENCH_PACKAGES))
	@$(call pip_install,jwt,$(BENCH_PYTHON_PACKAGES))

clean:
	rm -rf .build
