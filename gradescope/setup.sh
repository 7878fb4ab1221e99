#!/usr/bin/env bash
# Gradescope autograder setup: Gradescope runs this once, as root, when it builds the image.
#
# The autograder zip holds this repository at its root (grader/, reference/, assignments/,
# pyproject.toml) plus this file and run_autograder (copy them from gradescope/ to the root),
# and a file `gradescope/assignment` with the assignment id. Gradescope extracts the zip into
# /autograder/source. See README.md, "Gradescope".
set -euo pipefail
SOURCE="${AUTOGRADER_ROOT:-/autograder}/source"

if ! command -v python3 >/dev/null || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv "${AUTOGRADER_ROOT:-/autograder}/venv"
# editable, so the grader finds assignments/ and reference/ next to its package in /autograder/source
"${AUTOGRADER_ROOT:-/autograder}/venv/bin/pip" install --upgrade pip
"${AUTOGRADER_ROOT:-/autograder}/venv/bin/pip" install -e "$SOURCE"
# the reference's answers, computed once into the image's cache: no reference process runs while a student waits
"${AUTOGRADER_ROOT:-/autograder}/venv/bin/grade" autograder --prepare --root "${AUTOGRADER_ROOT:-/autograder}" \
    || echo "setup.sh: the reference answers were not cached; run_autograder computes them before each grading" >&2
