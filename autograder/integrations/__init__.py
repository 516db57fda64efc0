"""Where the grader plugs in: exchange (nbgrader collect that trusts only the file system),
nbgrader_plugin (nbgrader autograde through the isolated grader) and gradescope (the autograder zip)."""
