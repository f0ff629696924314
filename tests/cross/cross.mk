# tests/cross/cross.mk - cross builds, and their tests under qemu-user.
# Included at the end of the Makefile (it uses the flavour macro).
#
#   make cross ARCH=mips|mipsel|arm|aarch64
#        build/cross-<arch>/: cli-proxy-api (static, -Os, LTO, as make
#        static), unit-tests, fixture-runner, the fuzz targets' replay
#        builds (fuzz/), cli-proxy-api.stripped, and qemu/<program>:
#        scripts that run each program under qemu-<arch>-static
#        (binfmt_misc is not assumed)
#   make cross-test ARCH=...
#        make cross, then under qemu: the unit tests, the translation
#        fixtures, the fuzz corpus replay (no sanitizers: the targets' own
#        checks) and the integration smoke test (tests/integ/test_smoke.py)
#
# Debian's cross compilers (installed when missing) build glibc binaries;
# Debian's MIPS glibc is hard-float, so qemu emulates a 24Kf (a 24Kc with an
# FPU) and these binaries are for tests only: an OpenWrt router's FPU-less
# 24Kc kills them with SIGILL.  The 32-bit targets get a 64-bit time_t and
# off_t, as musl 1.2 gives OpenWrt.  The CPU flags are OpenWrt's for the
# targets named in shared/reference/openwrt.md section 4: ath79 and ramips
# (24kc), ipq40xx (cortex-a7, neon-vfpv4), filogic (cortex-a53).
#
# OpenWrt's package build passes ARCH=<its arch> to a plain make: ARCH is
# read only when the goal is cross or cross-test, and the flavours below only
# add rules for files under build/cross-*/, so everything else is as before.

CROSS_ARCHES := mips mipsel arm aarch64

CROSS_TRIPLET_mips := mips-linux-gnu
CROSS_TRIPLET_mipsel := mipsel-linux-gnu
CROSS_TRIPLET_arm := arm-linux-gnueabihf
CROSS_TRIPLET_aarch64 := aarch64-linux-gnu

CROSS_LIBC_mips := libc6-dev-mips-cross
CROSS_LIBC_mipsel := libc6-dev-mipsel-cross
CROSS_LIBC_arm := libc6-dev-armhf-cross
CROSS_LIBC_aarch64 := libc6-dev-arm64-cross

CROSS_32 := -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64
CROSS_CFLAGS_mips := -mips32r2 -mtune=24kc $(CROSS_32)
CROSS_CFLAGS_mipsel := -mips32r2 -mtune=24kc $(CROSS_32)
CROSS_CFLAGS_arm := -mcpu=cortex-a7 -mfpu=neon-vfpv4 $(CROSS_32)
CROSS_CFLAGS_aarch64 := -mcpu=cortex-a53

CROSS_QEMU_mips := qemu-mips-static -cpu 24Kf
CROSS_QEMU_mipsel := qemu-mipsel-static -cpu 24Kf
CROSS_QEMU_arm := qemu-arm-static -cpu cortex-a7
CROSS_QEMU_aarch64 := qemu-aarch64-static -cpu cortex-a53

CROSS_PROGRAMS := cli-proxy-api unit-tests fixture-runner \
	$(addprefix fuzz/,$(FUZZ_TARGETS))

# One flavour per architecture, with make static's flags (the sizes compare)
# and the cross toolchain's gcc-ar (LTO objects in BearSSL's archive).
# -static among the flags links the test programs static too (the flavour
# gives the link flags to cli-proxy-api alone), so qemu needs no sysroot.
$(foreach a,$(CROSS_ARCHES),$(eval $(call flavour,$(B)/cross-$(a),\
	$(CROSS_TRIPLET_$(a))-gcc,$(STATIC_CFLAGS) $(CROSS_CFLAGS_$(a)) -static,\
	$(STATIC_CFLAGS) $(CROSS_CFLAGS_$(a)),$(STATIC_LDFLAGS),\
	$(CROSS_TRIPLET_$(a))-gcc-ar)))
$(foreach a,$(CROSS_ARCHES),$(eval $(call fuzz_flavour,$(B)/cross-$(a),\
	$(CROSS_TRIPLET_$(a))-gcc,$(STATIC_CFLAGS) $(CROSS_CFLAGS_$(a)) -static,,\
	$(B)/cross-$(a)/fuzz/replay.o,$(CROSS_TRIPLET_$(a))-gcc-ar)))

.PHONY: cross cross-test

ifneq ($(filter cross cross-test,$(MAKECMDGOALS)),)
CROSS_TRIPLET := $(if $(filter 1,$(words $(ARCH))),$(CROSS_TRIPLET_$(ARCH)))
ifeq ($(CROSS_TRIPLET),)
$(error ARCH='$(ARCH)': make cross and make cross-test take ARCH=mips, mipsel, arm or aarch64)
endif
CX := $(B)/cross-$(ARCH)
CROSS_QEMU := $(CROSS_QEMU_$(ARCH))

cross:
	@sh third_party/apt-ensure.sh $(CROSS_TRIPLET)-gcc \
		gcc-$(CROSS_TRIPLET) $(CROSS_LIBC_$(ARCH))
	$(Q)$(MAKE) --no-print-directory $(addprefix $(CX)/,$(CROSS_PROGRAMS))
	$(Q)$(CROSS_TRIPLET)-strip -o $(CX)/cli-proxy-api.stripped \
		$(CX)/cli-proxy-api
	$(Q)mkdir -p $(CX)/qemu/fuzz
	$(Q)for p in $(CROSS_PROGRAMS); do \
		printf '#!/bin/sh\n# make cross: %s under qemu-user\nexec %s %s "$$@"\n' \
			"$$p" "$(CROSS_QEMU)" "$(abspath $(CX))/$$p" \
			> $(CX)/qemu/$$p && chmod +x $(CX)/qemu/$$p || exit 1; \
	done
	@ls -l $(CX)/cli-proxy-api.stripped | awk '{print "  $(ARCH) static binary (stripped): " $$5 " bytes"}'

cross-test: cross
	@sh third_party/apt-ensure.sh $(firstword $(CROSS_QEMU)) qemu-user-static
	@sh third_party/apt-ensure.sh $(PYTHON) python3
	@sh third_party/apt-ensure.sh openssl openssl
	@echo "== unit tests ($(ARCH) under qemu)"
	$(Q)$(CX)/qemu/unit-tests
	@echo "== translation fixtures ($(ARCH) under qemu)"
	$(Q)$(PYTHON) tests/fixtures/run.py $(CX)/qemu/fixture-runner
	@echo "== fuzz corpus replay ($(ARCH) under qemu)"
	$(Q)sh tests/fuzz/replay.sh $(CX)/qemu/fuzz $(FUZZ_TARGETS)
	@echo "== integration smoke test ($(ARCH) under qemu)"
	$(Q)$(PYTHON) tests/integ/run.py --bin $(CX)/qemu/cli-proxy-api -k smoke.
endif
