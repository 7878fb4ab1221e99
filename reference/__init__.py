"""Correct solutions, one module per topic.

Each module is plain Python that imports only numpy and TensorFlow, so the
grader can run it in a clean process (to compute expected observations) and
send its source into a kernel (to stand in for a student's broken dependency).
"""
