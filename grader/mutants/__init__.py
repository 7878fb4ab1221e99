"""Mutation testing of rubrics, and hints drawn from the mutants a mistake resembles.

`operators` rewrites one point of the solution's code (Python's `ast`),
`plan` picks, per item, the code that defines it and a bounded sample of its
mutants, `campaign` grades them as a batch and classifies each one, `page`
draws the survivors as diffs, and `hints` adds a known mutant's description to
the feedback of a submission that behaves exactly like it.
"""
