# tests/fuzz/fuzz.mk - fuzz targets and the clang sanitizer flavour.
# Included at the end of the Makefile (it uses the flavour macro).
#
#   make fuzz          each target under libFuzzer for FUZZ_SECONDS (60),
#                      seeded with tests/fuzz/corpus/<target>/; new inputs
#                      go to build/libfuzzer/new/<target>/, crashes to
#                      build/libfuzzer/crash/<target>/ (FUZZ_TARGETS= picks
#                      some, FUZZ_FLAGS= adds libFuzzer flags)
#   make fuzz-replay   every committed corpus file through its target,
#                      built by $(CC) with ASan+UBSan and the replay driver
#                      (tests/fuzz/replay.c: no libFuzzer needed)
#   make check-csan    unit tests, fixtures, the corpus replay and the
#                      integration suite built by clang with
#                      -fsanitize=address,undefined

FZ := tests/fuzz
FUZZ_TARGETS ?= http_request http_response http_chunked sse json \
	hub_request hub_stream cfg url dns hc_proxy tls_anchors acct_file \
	quota_reset mlist oauth bcrypt cfg_edit fmt yaml
# Targets that also link BearSSL (tls_anchors compares tls.c's decoders
# with BearSSL's).
FUZZ_BEARSSL := tls_anchors oauth
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
CSAN_CC ?= clang

CSAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LIBFUZZER := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build fuzz-merge fuzz-replay fuzz-replay-build check-csan \
	check-csan-build

# clang + ASan/UBSan: the whole program; libFuzzer: coverage on our code.
$(eval $(call flavour,$(B)/csan,$(CSAN_CC),$(CSAN) -O1 -g,,))
$(eval $(call flavour,$(B)/libfuzzer,$(FUZZ_CC),$(LIBFUZZER) -O1 -g,,))

# Targets of one flavour: $(1)=dir $(2)=CC $(3)=cflags $(4)=link flags
# $(5)=driver object $(6)=ar (default $(AR)).  Our objects go into an
# archive so each target links only the modules it calls (no BearSSL, but
# for FUZZ_BEARSSL).
define fuzz_flavour
$(1)/fuzz/libsrc.a: $$(patsubst src/%.c,$(1)/obj/%.o,$$(SRCS)) $(1)/obj/ini.o
	$(Q)rm -f $$@
	$(Q)$(or $(6),$(AR)) rcs $$@ $$^

$(1)/fuzz/%.o: $(FZ)/%.c $(wildcard $(FZ)/*.h) $(wildcard src/*.h) \
		$(TP)/deps.mk
	@mkdir -p $$(@D)
	$$(if $(Q),@echo "  CC      $$@")
	$(Q)$(2) $$(ALL_CFLAGS) $(3) -D_DEFAULT_SOURCE $$(WARN) -c -o $$@ $$<

$(addprefix $(1)/fuzz/,$(FUZZ_TARGETS)): $(1)/fuzz/%: $(1)/fuzz/%.o $(5) \
		$(1)/fuzz/libsrc.a
	$$(if $(Q),@echo "  LD      $$@")
	$(Q)$(2) $$(ALL_CFLAGS) $(3) $(4) -o $$@ $$< $(5) $(1)/fuzz/libsrc.a \
		$$(filter %/libbearssl.a,$$^) $$(ALL_LDFLAGS)

$(addprefix $(1)/fuzz/,$(filter $(FUZZ_BEARSSL),$(FUZZ_TARGETS))): \
		$(1)/libbearssl.a
endef

$(eval $(call fuzz_flavour,$(B)/san,$(CC),$(SAN) -O1 -g,,$(B)/san/fuzz/replay.o))
$(eval $(call fuzz_flavour,$(B)/csan,$(CSAN_CC),$(CSAN) -O1 -g,,$(B)/csan/fuzz/replay.o))
$(eval $(call fuzz_flavour,$(B)/libfuzzer,$(FUZZ_CC),$(LIBFUZZER) -O1 -g,-fsanitize=fuzzer,))

fuzz-build:
	@sh $(FZ)/clang-ensure.sh $(FUZZ_CC) fuzzer,address,undefined
	$(Q)$(MAKE) --no-print-directory \
		$(addprefix $(B)/libfuzzer/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	$(Q)$(PYTHON) $(FZ)/make_seeds.py $(B)/libfuzzer/seeds >/dev/null
	$(Q)sh $(FZ)/run.sh $(B)/libfuzzer/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay-build: $(addprefix $(B)/san/fuzz/,$(FUZZ_TARGETS))

fuzz-replay: fuzz-replay-build
	@echo "== fuzz corpus replay under ASan+UBSan"
	$(Q)sh $(FZ)/replay.sh $(B)/san/fuzz $(FUZZ_TARGETS)

check-csan-build:
	@sh $(FZ)/clang-ensure.sh $(CSAN_CC) address,undefined
	$(Q)$(MAKE) --no-print-directory $(B)/csan/unit-tests \
		$(B)/csan/fixture-runner $(B)/csan/cli-proxy-api \
		$(addprefix $(B)/csan/fuzz/,$(FUZZ_TARGETS))

check-csan: check-csan-build test-deps
	@echo "== unit tests under clang ASan+UBSan"
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(B)/csan/unit-tests
	@echo "== translation fixtures under clang ASan+UBSan"
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(PYTHON) \
		tests/fixtures/run.py $(B)/csan/fixture-runner
	@echo "== fuzz corpus replay under clang ASan+UBSan"
	$(Q)sh $(FZ)/replay.sh $(B)/csan/fuzz $(FUZZ_TARGETS)
	@echo "== integration tests under clang ASan+UBSan"
	$(Q)$(PYTHON) tests/integ/run.py --bin $(B)/csan/cli-proxy-api

# Seeds from fixtures and unit tests, plus make fuzz's finds, minimized
# into tests/fuzz/corpus/ (review and commit the result).
fuzz-merge: fuzz-build
	$(Q)$(PYTHON) $(FZ)/make_seeds.py $(B)/libfuzzer/seeds >/dev/null
	$(Q)sh $(FZ)/merge.sh $(B)/libfuzzer/fuzz $(B)/libfuzzer/seeds \
		$(FUZZ_TARGETS)
