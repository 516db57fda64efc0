"""Where the grader plugs in: nbgrader_plugin (nbgrader autograde through the isolated grader) and
gradescope (the autograder zip)."""
