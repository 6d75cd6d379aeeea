"""Hidden checks that the candidate's code can neither read nor forge.

Two processes share the grading container. The candidate's kernel (uid 1000) imports the
candidate's definitions and runs :func:`clarify_grader.agent.serve`; the grader
(:mod:`clarify_grader.grader`, started by the host with ``docker exec`` as uid 1001) runs the
pack's checks, calls the candidate's functions over a socket and reports to the host on its own
stdout. The hidden data is readable by the grader's uid only. See :mod:`clarify_grader.wire`.
"""

HIDDEN_DIR = "/data/_grading"
GRADER_DIR = "/data/.grader"
GRADER_UID = 1001
