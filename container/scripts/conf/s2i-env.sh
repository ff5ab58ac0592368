# Sourced by odod's scripts in the app container: the S2I paths of this
# builder, from the environment odod sets on the container (as odo did).
# ODOD_INIT_DIR and ODOD_APP_ROOT exist for tests outside a container.
ODO_DIR=${ODOD_INIT_DIR:-/opt/odo}
APP_ROOT=${ODOD_APP_ROOT:-/opt/app-root}
CONF_DIR=$APP_ROOT/conf
SRC_BIN_PATH=${ODO_S2I_SRC_BIN_PATH:-/tmp}
# The push target: $ODO_S2I_SRC_BIN_PATH/src unless the path already ends in src.
case "$SRC_BIN_PATH" in
*/src) SRC=$SRC_BIN_PATH ;;
*) SRC=${SRC_BIN_PATH%/}/src ;;
esac
WORKING_DIR=${ODO_S2I_WORKING_DIR:-$APP_ROOT/src}
SCRIPTS_URL=${ODO_S2I_SCRIPTS_URL:-/usr/libexec/s2i}
SCRIPTS_URL=${SCRIPTS_URL#image://}
SCRIPTS_URL=${SCRIPTS_URL#file://}
IMAGE_LANG=$("$ODO_DIR/bin/getlanguage")

# odod_cp copies like `cp -r` without depending on the image's tools.
odod_cp() { "$ODO_DIR/bin/odod-init" cp "$@"; }
