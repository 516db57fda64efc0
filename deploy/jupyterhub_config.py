"""JupyterHub for a class of this course: Unix logins (PAM), each user's JupyterLab started as that
user (the local process spawner), instructors and students told apart by Unix group.

deploy/setup-class.sh installs this file as <PREFIX>/hub/jupyterhub_config.py with class.json
beside it, which names the shared environment, the proxy, the groups and the class's folders.
Start the hub as root: <PREFIX>/venv/bin/jupyterhub -f <PREFIX>/hub/jupyterhub_config.py

- Members of the students' and the instructors' groups may log in; instructors are admins.
- Students' servers read <PREFIX>/student-config first (JUPYTER_CONFIG_PATH): it turns off
  Formgrader, Create Assignment and Courses (menu items and server endpoints), so a student's
  Nbgrader menu holds only what a student uses. Instructors' servers keep every nbgrader tool.
- Each user's home is closed (0700) before their server starts: a student added to the class after
  deploy/setup-class.sh closed the members' homes would otherwise keep Debian's 0755, and
  classmates could read their notebooks and feedback.
- Everyone's server finds the exchange through NBGRADER_EXCHANGE, read by the class-wide
  nbgrader_config.py.
"""

import grp
import json
import os
import pwd
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
CLASS = json.loads((Path(__file__).parent / "class.json").read_text())
HUB_STATE = Path(__file__).parent


def instructors() -> set[str]:
    """The members of the instructors' Unix group, looked up at each spawn."""
    return set(grp.getgrnam(CLASS["instructors_group"]).gr_mem)


def config_path(spawner) -> str:
    """JUPYTER_CONFIG_PATH of a user's server: the student settings for students; and the class-wide
    config folder when it is not /etc/jupyter (where Jupyter looks anyway)."""
    folders = [] if spawner.user.name in instructors() else [CLASS["student_config"]]
    if CLASS["class_config"] != "/etc/jupyter":
        folders.append(CLASS["class_config"])
    return ":".join(folders)


def close_home(spawner) -> None:
    """Take group's and others' permissions off the user's home (the hub runs as root)."""
    home = pwd.getpwnam(spawner.user.name).pw_dir
    if home != "/" and os.path.isdir(home):
        mode = os.stat(home).st_mode
        if mode & 0o077:
            os.chmod(home, mode & ~0o077)
            spawner.log.info("Closed %s's home %s to other users", spawner.user.name, home)


c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {CLASS["students_group"], CLASS["instructors_group"]}
c.PAMAuthenticator.admin_groups = {CLASS["instructors_group"]}
# Logging in is all a class needs of PAM; PAM sessions fail on many servers and containers.
c.PAMAuthenticator.open_sessions = False

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.pre_spawn_hook = close_home
c.Spawner.cmd = [f"{CLASS['env']}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    "PATH": f"{CLASS['env']}/bin:/usr/local/bin:/usr/bin:/bin",
    "NBGRADER_EXCHANGE": CLASS["exchange"],
    "JUPYTER_CONFIG_PATH": config_path,
}
# A shared 2-core server starting JupyterLab for many students at once is slow.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

c.ConfigurableHTTPProxy.command = [CLASS["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(HUB_STATE / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{HUB_STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_STATE / "jupyterhub_cookie_secret")
c.JupyterHub.bind_url = CLASS.get("bind_url", "http://:8000")
