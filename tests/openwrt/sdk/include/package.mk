# tests/openwrt/sdk/include/package.mk - stands in for OpenWrt's
# include/package.mk (with package-defaults.mk and download.mk) when
# check.sh runs the package Makefile.  What it keeps of them:
#
#   PKG_BUILD_DIR   BUILD_DIR/PKG_NAME-PKG_VERSION
#   PKG_BUILD_FLAGS lto: the flags OpenWrt adds for it
#   Build/Prepare/Default   unpacks DL_DIR/PKG_SOURCE next to PKG_BUILD_DIR
#   Build/Compile/Default   MAKE_VARS (environment) $(MAKE) PKG_JOBS -C
#                   PKG_BUILD_DIR MAKE_FLAGS (command line), as OpenWrt
#   Download        records FILE, URL and HASH of each Download/<id> as
#                   DL_<id>_FILE... (DL_IDS lists the ids)
#   BuildPackage    records the name in BUILT_PACKAGES

PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)$(if $(PKG_VERSION),-$(PKG_VERSION))
JOBS ?= 2
PKG_JOBS ?= $(if $(PKG_BUILD_PARALLEL),-j$(JOBS),-j1)

ifneq ($(filter lto,$(PKG_BUILD_FLAGS)),)
TARGET_CFLAGS += -flto=auto -fno-fat-lto-objects
TARGET_LDFLAGS += -flto=auto -fuse-linker-plugin
endif

MAKE_VARS = \
	CFLAGS="$(TARGET_CFLAGS) $(EXTRA_CFLAGS) $(TARGET_CPPFLAGS) $(EXTRA_CPPFLAGS)" \
	CXXFLAGS="$(TARGET_CFLAGS) $(EXTRA_CFLAGS) $(TARGET_CPPFLAGS) $(EXTRA_CPPFLAGS)" \
	LDFLAGS="$(TARGET_LDFLAGS) $(EXTRA_LDFLAGS)"
MAKE_FLAGS = \
	$(TARGET_CONFIGURE_OPTS) \
	CROSS="$(TARGET_CROSS)" \
	ARCH="$(ARCH)"
MAKE_PATH = .

define Build/Prepare/Default
	gzip -dc $(DL_DIR)/$(PKG_SOURCE) | $(TAR) -C $(PKG_BUILD_DIR)/.. -xf -
endef

define Build/Compile/Default
	+$(MAKE_VARS) \
	$(MAKE) $(PKG_JOBS) -C $(PKG_BUILD_DIR)/$(MAKE_PATH) \
		$(MAKE_FLAGS) \
		$(1)
endef

define Build/Prepare
	$(call Build/Prepare/Default)
endef

define Build/Compile
	$(call Build/Compile/Default)
endef

define Download
$(eval FILE:=)$(eval URL:=)$(eval HASH:=)$(eval $(Download/$(1)))
$(eval DL_IDS += $(1))
$(eval DL_$(1)_FILE := $(FILE))
$(eval DL_$(1)_URL := $(URL))
$(eval DL_$(1)_HASH := $(HASH))
endef

BuildPackage = $(eval BUILT_PACKAGES += $(1))
