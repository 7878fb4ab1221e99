"""`files.upload` / `files.download` do nothing during grading."""


def upload(*args, **kwargs):
    return {}


def download(*args, **kwargs):
    pass
