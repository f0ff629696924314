# cli-proxy-api - build, test, install.
#
#   make            build/cli-proxy-api
#   make run        build, then run on config.ini (or config.ini.example)
#   make test       unit + integration tests, then both under ASan+UBSan,
#                   fuzz replay, release-check, openwrt-check,
#                   cross-test ARCH=mips
#   make static     build/static/cli-proxy-api: fully static musl binary
#   make check-san  the whole suite under ASan+UBSan
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (tests/fuzz/fuzz.mk:
#                   also fuzz-replay, check-csan, run by make test)
#   make cross      ARCH=mips|mipsel|arm|aarch64: build/cross-<arch>/, a static
#                   glibc binary and its tests by Debian's cross compilers
#   make cross-test the same ARCH=, then its unit tests, fixtures, fuzz corpora
#                   and the integration smoke test under qemu-user
#                   (tests/cross/cross.mk)
#   make bench      bench/run.sh (see bench/README.md)
#   make install    PREFIX=/usr/local DESTDIR=
#   make release    build/release: static tarball, source tarball, SHA256SUMS
#                   (dist/release.mk: also release-check, run by make test)
#   make openwrt-check  the OpenWrt package (openwrt/cli-proxy-api/) checked
#                   without the SDK (tests/openwrt/openwrt.mk)
#
# Honours CC and AR (command line or environment), CFLAGS, CPPFLAGS and
# LDFLAGS (environment: OpenWrt's way; ours are appended), STRIP,
# CROSS_COMPILE (or OpenWrt's CROSS), V=1.  Third-party
# sources (BearSSL, inih, jsmn) are fetched into build/third_party by
# third_party/fetch.sh (pinned, checksummed), or taken from BEARSSL_SRC=,
# INIH_SRC=, JSMN_SRC=, and compiled with the same compiler and flags.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
B := build
TP := $(B)/third_party

# OpenWrt passes its toolchain prefix as CROSS (and CC, AR, STRIP with it).
CROSS_COMPILE ?= $(CROSS)
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
# AR from the command line or environment (OpenWrt passes its gcc-ar, which
# an LTO build needs), else the toolchain's own.
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
STRIP ?= $(CROSS_COMPILE)strip
CFLAGS ?= -O2 -g
MUSL_CC ?= musl-gcc
# make test's cross-test: big-endian, 32-bit MIPS catches the most
TEST_CROSS_ARCH ?= mips
PYTHON ?= python3

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Default to parallel builds (BearSSL is ~280 files).
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j% --jobs%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

# Flags every object gets (the user's CFLAGS come first, ours are added).
# Inline comments start with " ;" or " #" (whitespace before them).
INIH_DEFS := -DINI_MAX_LINE=16384 -DINI_HANDLER_LINENO=1 \
	-DINI_CALL_HANDLER_ON_NEW_SECTION=1 -DINI_STOP_ON_FIRST_ERROR=1 \
	-DINI_ALLOW_MULTILINE=0 -DINI_INLINE_COMMENT_PREFIXES='";\#"'
DEFS := $(INIH_DEFS) -DJSMN_STRICT
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
INCS := -Isrc -I$(TP)/inih -I$(TP)/jsmn -I$(TP)/bearssl/inc
ALL_CFLAGS = -std=c99 $(CPPFLAGS) $(CFLAGS) -ffunction-sections \
	-fdata-sections $(DEFS) $(INCS)
ALL_LDFLAGS = $(LDFLAGS) -Wl,--gc-sections

SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)

.PHONY: all run test unit fixtures integ static check-san check-san-build \
	bench install clean deps test-deps test-fetch
.DELETE_ON_ERROR:

all: $(B)/cli-proxy-api

# ---- third-party sources -------------------------------------------------
# deps.mk lists BearSSL's sources once they exist; make re-reads it after
# creating it, so the lists below are complete on the second pass.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(TP)/deps.mk
endif

# xz unpacks BearSSL's tarball: not needed when BEARSSL_SRC names a tree
# (the OpenWrt package passes all three).
$(TP)/deps.mk: third_party/deps.lock third_party/fetch.sh
	$(Q)mkdir -p $(TP)
	$(Q)$(if $(BEARSSL_SRC),:,sh third_party/apt-ensure.sh xz xz-utils)
	$(Q)sh third_party/fetch.sh bearssl $(TP)
	$(Q)sh third_party/fetch.sh inih $(TP)
	$(Q)sh third_party/fetch.sh jsmn $(TP)
	$(Q)printf 'BEARSSL_SRCS := %s\n' \
		"$$(cd $(TP)/bearssl && find src -name '*.c' | sort | tr '\n' ' ')" \
		> $@.tmp && mv $@.tmp $@

deps: $(TP)/deps.mk

# ---- one flavour of the program ---------------------------------------------
# $(1)=dir $(2)=CC $(3)=extra cflags $(4)=BearSSL's extra cflags
# $(5)=extra link flags $(6)=ar (default $(AR))
# Objects of our code, inih, and BearSSL's archive, per build directory.
define flavour
$(1)/obj/%.o: src/%.c $(wildcard src/*.h) $(TP)/deps.mk
	@mkdir -p $$(@D)
	$$(if $(Q),@echo "  CC      $$@")
	$(Q)$(2) $$(ALL_CFLAGS) $(3) $$(WARN) -c -o $$@ $$<

$(1)/obj/ini.o: $(TP)/deps.mk Makefile
	@mkdir -p $$(@D)
	$(Q)$(2) $$(ALL_CFLAGS) $(3) -c -o $$@ $(TP)/inih/ini.c

$(1)/bearssl/%.o: $(TP)/deps.mk
	@mkdir -p $$(@D)
	$$(if $(Q),@echo "  CC      $$@")
	$(Q)$(2) $$(ALL_CFLAGS) $(4) -I$(TP)/bearssl/src -c -o $$@ $(TP)/bearssl/$$*.c

$(1)/libbearssl.a: $$(patsubst %.c,$(1)/bearssl/%.o,$$(BEARSSL_SRCS))
	$(Q)rm -f $$@
	$(Q)$(or $(6),$(AR)) rcs $$@ $$^

$(1)/cli-proxy-api: $$(patsubst src/%.c,$(1)/obj/%.o,$$(SRCS)) \
		$(1)/obj/main.o $(1)/obj/ini.o $(1)/libbearssl.a
	$$(if $(Q),@echo "  LD      $$@")
	$(Q)$(2) $$(ALL_CFLAGS) $(3) $(5) -o $$@ $$^ $$(ALL_LDFLAGS)

$(1)/unit-tests: $$(patsubst src/%.c,$(1)/obj/%.o,$$(SRCS)) \
		$$(patsubst tests/unit/%.c,$(1)/unit/%.o,$$(UNIT_SRCS)) \
		$(1)/obj/ini.o $(1)/libbearssl.a
	$(Q)$(2) $$(ALL_CFLAGS) $(3) -o $$@ $$^ $$(ALL_LDFLAGS)

$(1)/fixture-runner: $$(patsubst src/%.c,$(1)/obj/%.o,$$(SRCS)) \
		$(1)/fixtures/runner.o $(1)/obj/ini.o $(1)/libbearssl.a
	$(Q)$(2) $$(ALL_CFLAGS) $(3) -o $$@ $$^ $$(ALL_LDFLAGS)

$(1)/fixtures/runner.o: tests/fixtures/runner.c $(wildcard src/*.h) $(TP)/deps.mk
	@mkdir -p $$(@D)
	$(Q)$(2) $$(ALL_CFLAGS) $(3) -D_DEFAULT_SOURCE $$(WARN) -c -o $$@ $$<

$(1)/unit/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(wildcard src/*.h) $(TP)/deps.mk
	@mkdir -p $$(@D)
	$(Q)$(2) $$(ALL_CFLAGS) $(3) $$(WARN) -c -o $$@ $$<
endef

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

# Normal build: $(CC), the user's CFLAGS.
$(eval $(call flavour,$(B),$(CC),,,))
# Sanitizer build: our code and the parsers sanitised, BearSSL plain.
$(eval $(call flavour,$(B)/san,$(CC),$(SAN) -O1 -g,,))
# Static musl build, optimised for size.  No unwind tables: C without
# exceptions needs none (a backtrace is the debug build's job), and they
# were a tenth of the binary.  Link-time optimisation (-8 KB), segments
# not padded apart to pages (-4 KB), no build id.  No RELRO segment: its
# end must fall on a page, which pads the file by up to 4 KB, and musl
# write-protects it only in the dynamic linker, never in a static binary
# (its pages are rw- either way: see /proc/<pid>/maps).
STATIC_CFLAGS := -Os -fno-asynchronous-unwind-tables -fno-unwind-tables -flto=auto
STATIC_LDFLAGS := -static -Wl,-z,noseparate-code -Wl,--build-id=none \
	-Wl,-z,norelro
$(eval $(call flavour,$(B)/static,$(MUSL_CC),$(STATIC_CFLAGS),$(STATIC_CFLAGS),$(STATIC_LDFLAGS)))

# ---- convenience -------------------------------------------------------------

RUN_CONFIG = $(if $(wildcard config.ini),config.ini,config.ini.example)
run: $(B)/cli-proxy-api
	./$(B)/cli-proxy-api --config $(RUN_CONFIG)

static:
	@sh third_party/apt-ensure.sh $(MUSL_CC) musl-tools
	$(Q)$(MAKE) --no-print-directory $(B)/static/cli-proxy-api
	$(Q)$(STRIP) -o $(B)/static/cli-proxy-api.stripped $(B)/static/cli-proxy-api
	@ls -l $(B)/static/cli-proxy-api.stripped | awk '{print "  static binary (stripped): " $$5 " bytes"}'

# Test tools: Python (suite, mocks), openssl (test CA), Node + the pinned
# official SDK clients (tests/integ/sdk).
test-deps:
	@sh third_party/apt-ensure.sh $(PYTHON) python3
	@sh third_party/apt-ensure.sh openssl openssl
	@sh tests/integ/sdk/install.sh
	@sh tests/integ/clients/install.sh

# Generated sources must equal their generator's output; src/ must not
# call libc's printf or stdio (src/fmt.c replaces them).
unit: $(B)/unit-tests
	@echo "== unit tests"
	$(Q)$(PYTHON) tests/unit/gen_bcrypt_pi.py --check src/bcrypt_pi.h
	$(Q)$(PYTHON) tests/unit/check_no_stdio.py src
	$(Q)./$(B)/unit-tests

fixtures: $(B)/fixture-runner test-deps
	@echo "== translation fixtures"
	$(Q)$(PYTHON) tests/fixtures/run.py $(B)/fixture-runner

integ: $(B)/cli-proxy-api test-deps
	@echo "== integration tests"
	$(Q)$(PYTHON) tests/integ/run.py --bin $(B)/cli-proxy-api

# third_party/fetch.sh against local archives on 127.0.0.1 (a few seconds).
test-fetch: test-deps
	@echo "== third_party/fetch.sh"
	$(Q)PYTHON=$(PYTHON) sh tests/third_party/test_fetch.sh

check-san-build: $(B)/san/cli-proxy-api $(B)/san/unit-tests \
	$(B)/san/fixture-runner

check-san: check-san-build test-deps
	@echo "== unit tests under ASan+UBSan"
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(B)/san/unit-tests
	@echo "== translation fixtures under ASan+UBSan"
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(PYTHON) tests/fixtures/run.py $(B)/san/fixture-runner
	@echo "== integration tests under ASan+UBSan"
	$(Q)$(PYTHON) tests/integ/run.py --bin $(B)/san/cli-proxy-api

# Sequential on purpose: one suite's output at a time.
test: test-deps
	$(Q)$(MAKE) --no-print-directory all $(B)/unit-tests $(B)/fixture-runner \
		check-san-build fuzz-replay-build check-csan-build
	$(Q)$(MAKE) --no-print-directory -j1 unit fixtures integ check-san \
		fuzz-replay check-csan test-fetch release-check openwrt-check
	$(Q)$(MAKE) --no-print-directory cross-test ARCH=$(TEST_CROSS_ARCH)

bench:
	bash bench/run.sh
	bash bench/upstream.sh
	bash bench/hub.sh

install: $(B)/cli-proxy-api
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/cli-proxy-api $(DESTDIR)$(BINDIR)/cli-proxy-api

clean:
	rm -rf $(B)

include tests/fuzz/fuzz.mk
include tests/cross/cross.mk
include dist/release.mk
include tests/openwrt/openwrt.mk
