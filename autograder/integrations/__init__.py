"""Where the grader plugs in: nbgrader (collect, autograde, feedback, export; one module per job)
and gradescope (the autograder zip)."""
