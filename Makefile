# SPDX-License-Identifier: GPL-2.0
#
# pcipass top-level Makefile.
#
#   make            build pcipass.ko (against KDIR) and pcipass-tool
#   make install    install both (DESTDIR, PREFIX honoured), then depmod
#   make uninstall  remove what make install installed
#   make deb        the Debian packages pcipass-dkms and pcipass-tool, in build/deb
#   make selftests  build the kselftest binaries into tests/selftests/out
#   make lint       checkpatch --strict, sparse, W=1, kernel-doc and the docs: zero findings
#   make check      install what is missing, build, lint, run every suite in the VMs
#   make demo       boot the nested VM: Debian's QEMU runs a guest on a device
#                   given to pcipass
#   make demo-edu   boot the IOMMU VM: a sample VMM drives edu through pcipass
#   make bench      boot the IOMMU VM and time pcipass against vfio type1 and
#                   iommufd (the bench kernel, built once, and Debian's),
#                   then the nested VM: a guest's I/O and start on each

TOP := $(CURDIR)

# The kernel to build against: the running kernel's build tree, else the
# newest Debian 6.12 headers installed.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-amd64))))

PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_MOD_DIR ?= extra
VERSION := 1.0

# The release of the kernel of KDIR, and where its modules go.
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODDEST = $(DESTDIR)/lib/modules/$(KRELEASE)/$(INSTALL_MOD_DIR)

KBUILD = $(MAKE) -C $(KDIR) M=$(TOP)

# An extracted linux-source-6.12 tree (checkpatch, kernel-doc, kselftest).
SRCTREE = $(shell $(TOP)/tests/vm/srctree.sh)

LINT_SOURCES = $(shell find drivers include tools samples tests/selftests tests/kunit tests/bench tests/nested \
		 -name '*.[ch]' ! -name '*.mod.c' 2>/dev/null | sort)

# The documents, checked with docutils and the real kernel-doc (tests/rstcheck.py).
DOC_SOURCES = Documentation/index.rst Documentation/userspace-api/pcipass.rst \
	Documentation/userspace-api/pcipass-vfio.rst \
	Documentation/userspace-api/pcipass-vmm-guide.rst \
	Documentation/admin-guide/pcipass.rst Documentation/dev-tools/pcipass-testing.rst \
	Documentation/dev-tools/pcipass-benchmarks.rst

.PHONY: all module tool samples selftests install lint checkpatch kerneldoc docs \
	sparse w1 sparse-w1 check demo demo-edu bench clean uninstall deb

all: module tool samples

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-6.12.*-amd64 or set KDIR" >&2; exit 1; }
	$(KBUILD) modules

# Static, so that it also runs in the test VMs' busybox initramfs.
tool:
	$(MAKE) -C tools/pcipass STATIC=1

samples:
	$(MAKE) -C samples/pcipass

selftests:
	$(MAKE) -C tests/selftests SRCTREE=$(SRCTREE)
	$(MAKE) -C tests/nested

# The module goes to extra/pcipass.ko (compressed as the kernel's own are,
# e.g. .ko.xz), unsigned: kbuild installs from drivers/pcipass so that the
# path has no subdirectory. depmod only for the real root: a DESTDIR is a
# staging area for a package.
install: all
	@test -n "$(KRELEASE)" || { echo "no kernel release in $(KDIR)" >&2; exit 1; }
	@if [ "$(KRELEASE)" != "$$(uname -r)" ]; then \
		echo "warning: installing pcipass.ko for kernel $(KRELEASE), but the running kernel is $$(uname -r):" \
			"it loads only once $(KRELEASE) runs (set KDIR for another kernel)" >&2; fi
	$(MAKE) -C $(KDIR) M=$(TOP)/drivers/pcipass INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		CONFIG_MODULE_SIG_ALL= $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $(KRELEASE))
	$(MAKE) -C tools/pcipass install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

uninstall:
	@test -n "$(KRELEASE)" || { echo "no kernel release in $(KDIR)" >&2; exit 1; }
	rm -f $(MODDEST)/pcipass.ko $(MODDEST)/pcipass.ko.xz $(MODDEST)/pcipass.ko.zst \
		$(MODDEST)/pcipass.ko.gz
	-rmdir $(MODDEST) 2>/dev/null
	$(if $(DESTDIR),,depmod -a $(KRELEASE))
	$(MAKE) -C tools/pcipass uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# The packages, built from a clean copy of the sources (the files git
# knows, or the tree without build products) in build/deb/.
DEBDIR = $(TOP)/build/deb
deb:
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/pcipass-$(VERSION)
	if git -C $(TOP) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git -C $(TOP) ls-files -z --cached --others --exclude-standard | \
			tar -C $(TOP) -c --null --no-recursion --ignore-failed-read -T - -f - ; \
	else \
		tar -c -f - --exclude=./build --exclude-vcs --exclude='*.o' \
			--exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' . ; \
	fi | tar -x -C $(DEBDIR)/pcipass-$(VERSION)
	cd $(DEBDIR)/pcipass-$(VERSION) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 $(DEBDIR)/build.log; exit 1; }
	rm -rf $(DEBDIR)/pcipass-$(VERSION)
	@ls $(DEBDIR)/*.deb

# Each lint step fails on any finding. sparse and W=1 share one clean
# build (sparse-w1); each can also run alone.
lint: checkpatch kerneldoc docs sparse-w1

checkpatch:
	@echo "  LINT    checkpatch --strict"
	@perl $(SRCTREE)/scripts/checkpatch.pl --no-tree --strict --quiet \
		--show-types -f $(LINT_SOURCES)

kerneldoc:
	@echo "  LINT    kernel-doc"
	@out=$$($(SRCTREE)/scripts/kernel-doc -none -Wall $(LINT_SOURCES) 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

docs:
	@echo "  LINT    docs (docutils, kernel-doc directives)"
	@out=$$(KERNELDOC=$(SRCTREE)/scripts/kernel-doc python3 tests/rstcheck.py \
		$(DOC_SOURCES) 2>&1) || out=$${out:-"tests/rstcheck.py failed"}; \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

sparse:
	@echo "  LINT    sparse (C=2)"
	@out=$$($(KBUILD) C=2 modules 2>&1 | grep -E 'warning:|error:'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

w1:
	@echo "  LINT    W=1"
	@$(KBUILD) clean >/dev/null
	@out=$$($(KBUILD) W=1 modules 2>&1 | grep -E 'warning:|error:'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

sparse-w1:
	@echo "  LINT    sparse (C=2) and W=1"
	@$(KBUILD) clean >/dev/null
	@out=$$($(KBUILD) C=2 W=1 modules 2>&1 | grep -E 'warning:|error:'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

check:
	@tests/check.sh

demo:
	@tests/vm/deps.sh
	@$(MAKE) -s KDIR=$$(tests/vm/kernel.sh kdir) all
	@$(MAKE) -s -C tests/nested
	@tests/vm/demo.sh nested

demo-edu:
	@tests/vm/deps.sh
	@$(MAKE) -s KDIR=$$(tests/vm/kernel.sh kdir) all
	@tests/vm/demo.sh edu

# Not part of `make check`: speed is compared, never asserted.
bench:
	@tests/vm/deps.sh bench
	@$(MAKE) -s KDIR=$$(tests/vm/kernel.sh kdir) all
	@uapi=$$(tests/vm/uapi-headers.sh) && $(MAKE) -s -C tests/bench UAPI=$$uapi SRCTREE=$(SRCTREE)
	@$(MAKE) -s -C tests/nested
	@tests/vm/bench.sh

clean:
	-$(KBUILD) clean
	$(MAKE) -C tools/pcipass clean
	$(MAKE) -C tests/selftests clean
	$(MAKE) -C tests/nested clean
	$(MAKE) -C samples/pcipass clean
	$(MAKE) -C tests/bench clean
	rm -rf build
