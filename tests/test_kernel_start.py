"""What a grading kernel is started with, and what the grader reads about installed packages: no kernel started here."""

import importlib.metadata

from grader import versions
from grader.kernel.specs import LEAN_LAUNCH, lean_argv


def test_the_lean_launch_replaces_only_ipykernels_launcher():
    assert lean_argv(["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]) == [
        "python", "-c", LEAN_LAUNCH, "-f", "{connection_file}"]
    other = ["/opt/env/bin/python", "-m", "my_kernel", "-f", "{connection_file}"]
    assert lean_argv(other) == other
    compile(LEAN_LAUNCH, "<lean launch>", "exec")


def test_distributions_by_name_are_those_the_full_scan_finds():
    source = "import numpy, json, os.path\nfrom pydantic import BaseModel\nimport nbformat, typing, google.protobuf\n"
    scan = importlib.metadata.packages_distributions()
    assert versions.distributions_of([source]) == {d for m in versions.imported_modules(source) for d in scan.get(m, [])}
    assert versions.distributions_of(["import math, sys, typing\nfrom __future__ import annotations"]) == set()

