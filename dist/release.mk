# Releases (included from the top Makefile).
#
#   make release        build/release/: the static x86-64 tarball, the source
#                       tarball and SHA256SUMS (dist/release.sh)
#   make release-check  make release, then tests/release/check.sh: contents,
#                       modes, static, checksums, reproducible, the systemd
#                       unit verified, the Dockerfile's image run in a chroot
#   make openwrt-bump   make release, then the OpenWrt package's PKG_VERSION
#                       and PKG_HASH set to this release's source tarball

VERSION := $(shell sed -n 's/^\#define CPA_VERSION "\(.*\)"$$/\1/p' src/version.h)

.PHONY: release release-check openwrt-bump

release: static
	@echo "== release $(VERSION)"
	$(Q)sh dist/release.sh $(VERSION) $(B)/static/cli-proxy-api.stripped \
		$(TP) $(B)/release

release-check: release test-deps
	@echo "== release files"
	$(Q)PYTHON=$(PYTHON) sh tests/release/check.sh $(VERSION) $(B)/release

openwrt-bump: release
	$(Q)sh dist/openwrt-bump.sh $(VERSION) \
		$(B)/release/cli-proxy-api-$(VERSION).tar.gz \
		openwrt/cli-proxy-api/Makefile
