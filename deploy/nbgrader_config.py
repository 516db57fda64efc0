"""The class-wide nbgrader configuration, read by every user's server and nbgrader command:
deploy/setup-class.sh installs it as /etc/jupyter/nbgrader_config.py.

Students never load the course's own nbgrader_config.py (it is in the instructor's private
course folder), so the exchange and the course id they fetch from and submit to are set here.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "conv-from-scratch"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
