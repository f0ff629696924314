# tests/openwrt/openwrt.mk - the OpenWrt package checked without an SDK.
# Included at the end of the Makefile.
#
#   make openwrt-check  tests/openwrt/check.sh: the init script (busybox
#                       ash -n, shellcheck, run by a stand-in rc.common for
#                       each case in tests/openwrt/init/), the package
#                       Makefile through a stand-in buildroot (PKG_* values,
#                       Download blocks = deps.lock, Build/Prepare), an
#                       OpenWrt-style musl build of this tree and the
#                       package's install step; work files in
#                       build/openwrt-check/

.PHONY: openwrt-check

openwrt-check: deps
	@sh tests/openwrt/check.sh $(B)/openwrt-check
