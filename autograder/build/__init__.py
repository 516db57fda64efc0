"""The build (`python -m autograder build`): images (which figures a notebook shows) · self_study
(the check() edition) · nbgrader_run (nbgrader's command line) · run_all_tags
(the release's Run All tags, a generate_assignment step) · regenerate (everything generated)."""
