"""The build (`python -m autograder build`): images (which figures a notebook shows) · self_study
(the check() edition) · nbgrader_run (nbgrader's command line) · regenerate (everything generated)."""
