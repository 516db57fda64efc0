#!/usr/bin/env bash
# Set up a class of this course on a shared server, from this repository: run as root.
#
#   deploy/setup-class.sh INSTRUCTOR
#
# Makes, each step skipped where it is already done:
#   PREFIX/venv             the shared environment (JupyterHub, JupyterLab, nbgrader, the course's
#                           packages), built from a Python every user can run, with the course's
#                           grader installed from the instructor's course folder
#   PREFIX/proxy            configurable-http-proxy, from npm
#   PREFIX/student-config   what students' servers read first: no Formgrader, Create Assignment, Courses
#   PREFIX/hub              JupyterHub's config (PAM logins, local processes), class.json and its state
#   CLASS_CONFIG/nbgrader_config.py   the exchange and course id, for everyone
#   EXCHANGE                nbgrader's exchange, writable by all (sticky, as /tmp)
#   COURSE                  the instructor's course folder: a copy of this repository, theirs alone
#                           (0700: solutions, reference data, submissions and gradebook stay private)
#   ~INSTRUCTOR/.jupyter/nbgrader_config.py   the course root and config, for Formgrader
# and the Unix groups of instructors and students (the hub lets in their members). Homes are closed
# (0700): Debian makes them 0755, and a student could read a classmate's notebooks and feedback
# (and the names of their submissions in the exchange, from nbgrader's cache). The homes of the
# groups' members now, new accounts' (HOME_MODE in LOGIN_DEFS, DIR_MODE in ADDUSER_CONF), and the
# hub closes a user's home again before it starts their server (students added to the group later).
#
# Settings (environment variables, defaults in brackets):
#   PREFIX [/opt/conv-from-scratch]  COURSE [~INSTRUCTOR/conv-from-scratch]
#   EXCHANGE [/srv/nbgrader/exchange]  CLASS_CONFIG [/etc/jupyter]
#   INSTRUCTORS_GROUP [conv-instructors]  STUDENTS_GROUP [conv-students]
#   PYTHON [/usr/bin/python3]  HUB_BIND_URL [http://:8000]
#   LOGIN_DEFS [/etc/login.defs]  ADDUSER_CONF [/etc/adduser.conf]
#   SHARED_ENV, PROXY: an existing environment or proxy to use instead of installing them (tests)
set -euo pipefail

instructor=${1:?usage: deploy/setup-class.sh INSTRUCTOR}
repo=$(cd "$(dirname "$0")/.." && pwd)
home=$(getent passwd "$instructor" | cut -d: -f6) || { echo "no user $instructor" >&2; exit 1; }
PREFIX=${PREFIX:-/opt/conv-from-scratch}
COURSE=${COURSE:-$home/conv-from-scratch}
EXCHANGE=${EXCHANGE:-/srv/nbgrader/exchange}
CLASS_CONFIG=${CLASS_CONFIG:-/etc/jupyter}
INSTRUCTORS_GROUP=${INSTRUCTORS_GROUP:-conv-instructors}
STUDENTS_GROUP=${STUDENTS_GROUP:-conv-students}
PYTHON=${PYTHON:-/usr/bin/python3}
HUB_BIND_URL=${HUB_BIND_URL:-http://:8000}
LOGIN_DEFS=${LOGIN_DEFS:-/etc/login.defs}
ADDUSER_CONF=${ADDUSER_CONF:-/etc/adduser.conf}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

# Every user's server runs the shared environment's python: a venv made from a python under /root
# (or another private folder) fails for them with "bad interpreter".
if ! runuser -u nobody -- "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "$PYTHON cannot be run by other users, or is older than 3.11: set PYTHON to one they can (Debian's /usr/bin/python3)" >&2
  exit 1
fi

echo "== groups"
for group in "$INSTRUCTORS_GROUP" "$STUDENTS_GROUP"; do
  getent group "$group" >/dev/null || groupadd "$group"
done
usermod -a -G "$INSTRUCTORS_GROUP" "$instructor"

echo "== homes closed to other users (0700)"
# set KEY VALUE SEPARATOR FILE: the file's KEY setting, replaced where set (or commented out), else added.
set_setting() {
  [ -f "$4" ] || return 0
  if grep -Eq "^[[:space:]]*#?[[:space:]]*$1[[:space:]=]+[0-9]" "$4"; then
    sed -i -E "0,/^[[:space:]]*#?[[:space:]]*$1[[:space:]=]+[0-9].*/s//$1$3$2/" "$4"
  else
    printf '%s%s%s\n' "$1" "$3" "$2" >> "$4"
  fi
  echo "new accounts: $1$3$2 in $4"
}
set_setting HOME_MODE 0700 ' ' "$LOGIN_DEFS"
set_setting DIR_MODE 0700 '=' "$ADDUSER_CONF"
for group in "$INSTRUCTORS_GROUP" "$STUDENTS_GROUP"; do
  gid=$(getent group "$group" | cut -d: -f3)
  members=$(getent group "$group" | cut -d: -f4 | tr , ' ')
  members="$members $(getent passwd | awk -F: -v gid="$gid" '$4 == gid {print $1}')"
  for member in $members; do
    member_home=$(getent passwd "$member" | cut -d: -f6)
    if [ -d "$member_home" ] && [ "$member_home" != / ]; then
      chmod go-rwx "$member_home"
      echo "closed: $member_home ($member)"
    fi
  done
done

echo "== the instructor's course folder: $COURSE"
if [ ! -e "$COURSE" ]; then
  install -d -m 0700 -o "$instructor" -g "$(id -gn "$instructor")" "$COURSE"
  tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./.ci/proxy --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache --exclude=./submitted \
    --exclude=./autograded --exclude=./feedback --exclude=./gradebook.db --exclude=./results \
    -cf - . | tar -C "$COURSE" -xf -
fi
chown -R "$instructor:$(id -gn "$instructor")" "$COURSE"
chmod 0700 "$COURSE"

install -d -m 0755 "$PREFIX"
if [ -z "${SHARED_ENV:-}" ]; then
  SHARED_ENV=$PREFIX/venv
  echo "== the shared environment: $SHARED_ENV (from $PYTHON)"
  [ -x "$SHARED_ENV/bin/python" ] || "$PYTHON" -m venv "$SHARED_ENV"
  "$SHARED_ENV/bin/pip" install --quiet --upgrade pip
  # requirements.txt ends with `-e .`, relative to the folder pip runs in: install the pinned
  # packages, then the course's package from the course folder (for the instructor's grader).
  grep -v '^-e ' "$repo/requirements.txt" > "$PREFIX/requirements.txt"
  "$SHARED_ENV/bin/pip" install --quiet -r "$PREFIX/requirements.txt"
  "$SHARED_ENV/bin/pip" install --quiet --no-deps -e "$COURSE"
  # pip, run as root, leaves the build's egg-info in the course folder: give it back.
  chown -R "$instructor:$(id -gn "$instructor")" "$COURSE"
  chmod -R go+rX "$SHARED_ENV"
fi
if [ -z "${PROXY:-}" ]; then
  echo "== configurable-http-proxy: $PREFIX/proxy"
  npm install --prefix "$PREFIX/proxy" --no-audit --no-fund --silent configurable-http-proxy@5.3.0
  PROXY=$PREFIX/proxy/node_modules/.bin/configurable-http-proxy
fi

echo "== class-wide settings: $CLASS_CONFIG/nbgrader_config.py, $PREFIX/student-config"
install -d -m 0755 "$CLASS_CONFIG"
install -m 0644 "$repo/deploy/nbgrader_config.py" "$CLASS_CONFIG/nbgrader_config.py"
rm -rf "$PREFIX/student-config"
cp -r "$repo/deploy/student-config" "$PREFIX/student-config"
chmod -R u=rwX,go=rX "$PREFIX/student-config"

echo "== the exchange: $EXCHANGE"
mkdir -p "$(dirname "$EXCHANGE")"
install -d -m 1777 "$EXCHANGE"

echo "== the hub: $PREFIX/hub"
install -d -m 0700 "$PREFIX/hub"
install -m 0644 "$repo/deploy/jupyterhub_config.py" "$PREFIX/hub/jupyterhub_config.py"
cat > "$PREFIX/hub/class.json" <<EOF
{
  "env": "$SHARED_ENV",
  "proxy": "$PROXY",
  "instructors_group": "$INSTRUCTORS_GROUP",
  "students_group": "$STUDENTS_GROUP",
  "student_config": "$PREFIX/student-config",
  "class_config": "$CLASS_CONFIG",
  "exchange": "$EXCHANGE",
  "bind_url": "$HUB_BIND_URL"
}
EOF

echo "== Formgrader's course: $home/.jupyter/nbgrader_config.py"
# Formgrader runs in the instructor's server, started in their home: it must be told where the
# course is, and read the course's own config (the isolated grader's plug-ins) from there.
runuser -u "$instructor" -- mkdir -p "$home/.jupyter"
runuser -u "$instructor" -- tee "$home/.jupyter/nbgrader_config.py" >/dev/null <<EOF
c = get_config()
c.CourseDirectory.root = "$COURSE"
load_subconfig("nbgrader_config.py", path="$COURSE")
EOF

cat <<EOF

Done. Add each student to the class:   usermod -a -G $STUDENTS_GROUP NAME
      (the hub closes their home, 0700, before it starts their server; new accounts get 0700 homes)
Start the hub:                         $SHARED_ENV/bin/jupyterhub -f $PREFIX/hub/jupyterhub_config.py
EOF
