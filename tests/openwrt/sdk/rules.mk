# tests/openwrt/sdk/rules.mk - stands in for an OpenWrt buildroot's
# rules.mk (TOPDIR=tests/openwrt/sdk) when check.sh runs the package
# Makefile: the names the package Makefile and include/package.mk use,
# with a current buildroot's values, and this machine's musl-gcc as the
# target compiler.  BUILD_DIR and DL_DIR come from the command line.

INCLUDE_DIR:=$(TOPDIR)/include

INSTALL_BIN:=install -m0755
INSTALL_DIR:=install -d -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
CP:=cp -fpR
LN:=ln -sf
TAR:=tar

ARCH:=x86_64
TARGET_CROSS:=
TARGET_CC:=musl-gcc
# gcc-ar and friends, as OpenWrt's own toolchain has them (needed for LTO)
TARGET_AR:=$(TARGET_CROSS)gcc-ar
TARGET_RANLIB:=$(TARGET_CROSS)gcc-ranlib
TARGET_NM:=$(TARGET_CROSS)gcc-nm
TARGET_CXX:=$(TARGET_CROSS)g++
TARGET_LD:=$(TARGET_CROSS)ld

# target.mk's CPU flags for x86-64 and hardening.mk's defaults (format
# security, PIE, SSP strong, FORTIFY_SOURCE=2, RELRO full)
TARGET_CFLAGS:=-Os -pipe -fno-caller-saves -fno-plt -Wformat \
	-Werror=format-security -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-fpic
TARGET_CPPFLAGS:=
TARGET_LDFLAGS:=-pie -Wl,-z,now -Wl,-z,relro

TARGET_CONFIGURE_OPTS = \
	AR="$(TARGET_AR)" \
	AS="$(TARGET_CC) -c $(TARGET_CFLAGS)" \
	LD="$(TARGET_LD)" \
	NM="$(TARGET_NM)" \
	CC="$(TARGET_CC)" \
	GCC="$(TARGET_CC)" \
	CXX="$(TARGET_CXX)" \
	RANLIB="$(TARGET_RANLIB)" \
	STRIP="$(TARGET_CROSS)strip" \
	OBJCOPY="$(TARGET_CROSS)objcopy" \
	OBJDUMP="$(TARGET_CROSS)objdump" \
	SIZE="$(TARGET_CROSS)size"
