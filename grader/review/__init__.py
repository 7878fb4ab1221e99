"""`grade review RESULTS_DIR`: a person grades free-text answers in the browser, question by question.

`store` is the batch on disk and the one way a decision is written (overrides
CSV, reports, gradebook); `grouping` puts identical and near-identical
answers together; `views` is what the pages show; `app` is the web
application (token, CSRF, Content-Security-Policy) and its templates.
"""
