# Releases (included from the top Makefile).
#
#   make release        build/release/: the static x86-64 tarball, the source
#                       tarball and SHA256SUMS (dist/release.sh)
#   make release-check  make release, then tests/release/check.sh: contents,
#                       modes, static, checksums, reproducible, the systemd
#                       unit verified, the Dockerfile's image run in a chroot

VERSION := $(shell sed -n 's/^\#define CPA_VERSION "\(.*\)"$$/\1/p' src/version.h)

.PHONY: release release-check

release: static
	@echo "== release $(VERSION)"
	$(Q)sh dist/release.sh $(VERSION) $(B)/static/cli-proxy-api.stripped \
		$(TP) $(B)/release

release-check: release test-deps
	@echo "== release files"
	$(Q)PYTHON=$(PYTHON) sh tests/release/check.sh $(VERSION) $(B)/release
