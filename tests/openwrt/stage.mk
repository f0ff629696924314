# tests/openwrt/stage.mk - runs parts of the package Makefile against the
# stand-in buildroot in tests/openwrt/sdk, from the package's directory as
# OpenWrt does (its files/ paths are relative):
#
#   make -C openwrt/cli-proxy-api -f .../tests/openwrt/stage.mk \
#       TOPDIR=.../tests/openwrt/sdk BUILD_DIR=DIR DL_DIR=DIR [STAGE=DIR] GOAL
#
#   info     NAME=value lines: the PKG_* values, the package's fields, the
#            Download blocks, PKG_BUILD_DIR; then the conffiles between
#            "conffiles:" and "end"
#   prepare  Build/Prepare, in a new PKG_BUILD_DIR
#   compile  Build/Compile
#   install  Package/cli-proxy-api/install into STAGE

PKG := cli-proxy-api
include Makefile
$(eval $(Package/$(PKG)))

.PHONY: info prepare compile install

SHOW := PKG_NAME PKG_VERSION PKG_RELEASE PKG_SOURCE PKG_SOURCE_URL \
	PKG_HASH PKG_MAINTAINER PKG_LICENSE PKG_LICENSE_FILES PKG_BUILD_FLAGS \
	PKG_BUILD_PARALLEL PKG_BUILD_DIR BUILT_PACKAGES SECTION CATEGORY \
	SUBMENU TITLE URL DEPENDS USERID DL_IDS

info:
	$(foreach v,$(SHOW),$(info $(v)=$(strip $($(v)))))
	$(foreach d,$(DL_IDS),$(foreach f,FILE URL HASH, \
		$(info DL_$(d)_$(f)=$(DL_$(d)_$(f)))))
	$(info DESCRIPTION_WORDS=$(words $(Package/$(PKG)/description)))
	$(info conffiles:)
	$(info $(Package/$(PKG)/conffiles))
	$(info end)
	@:

# OpenWrt empties and makes PKG_BUILD_DIR before Build/Prepare.
prepare:
	rm -rf $(PKG_BUILD_DIR)
	mkdir -p $(PKG_BUILD_DIR)
	$(Build/Prepare)

compile:
	$(Build/Compile)

install:
	$(call Package/$(PKG)/install,$(STAGE))
