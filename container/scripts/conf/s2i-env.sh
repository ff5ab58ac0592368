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

# What this push changed. odod's engine passes its sync plan in the exec's
# environment: ODOD_PUSH_INCREMENTAL=true when the lists below are every
# change since the last successful build in this container, and
# ODOD_PUSH_CHANGED / ODOD_PUSH_DELETED, paths relative to $SRC, one per
# line. Without them (the first push, a resync after a new pod or
# container, odo's own `kubectl exec assemble-and-restart`) everything
# counts as changed.
INCREMENTAL=false
if [ "${ODOD_PUSH_INCREMENTAL:-}" = true ]; then
	INCREMENTAL=true
fi
ODOD_NL='
'
# odod_check_listed fails on a listed path that is absolute or climbs out
# with "..": the lists come over the wire, the paths end up in rm -rf.
odod_check_listed() {
	(
		set -f
		IFS=$ODOD_NL
		for p in ${ODOD_PUSH_CHANGED:-} ${ODOD_PUSH_DELETED:-}; do
			case "/$p/" in
			//* | */../* | */./*)
				echo "odod: refusing the listed path '$p': not a clean relative path" >&2
				exit 2
				;;
			esac
		done
	)
}
# odod_copy_changed copies the listed changed paths from $SRC to the same
# places under DEST (new directories are made, not filled).
odod_copy_changed() {
	(
		dest=$1
		cd "$SRC"
		set -f
		IFS=$ODOD_NL
		# shellcheck disable=SC2086 # split on newlines only
		set -- ${ODOD_PUSH_CHANGED:-}
		if [ $# -gt 0 ]; then
			odod_cp --parents -- "$@" "$dest"
		fi
	)
}
# odod_remove_deleted removes the listed deleted paths under DEST.
odod_remove_deleted() {
	(
		dest=$1
		set -f
		IFS=$ODOD_NL
		for p in ${ODOD_PUSH_DELETED:-}; do
			rm -rf "${dest:?}/$p"
		done
	)
}
# odod_standby_wait: in a standby process (supervisor.conf standby=true:
# the supervisor starts the next process of the app ahead of a restart, with
# ODOD_STANDBY_FD naming its go pipe, always descriptor 3) wait until the
# supervisor hands over with "go", or exit quietly when it drops this
# standby instead (end of file). Outside a standby it returns at once.
odod_standby_wait() {
	[ -n "${ODOD_STANDBY_FD:-}" ] || return 0
	IFS= read -r odod_go <&3 || exit 0
	[ "$odod_go" = go ] || exit 0
	exec 3<&-
	unset ODOD_STANDBY_FD
}
