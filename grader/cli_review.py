"""`grade review RESULTS_DIR [--export] [--no-browser] [--port N]`: the browser review of a graded batch."""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path

import typer



def review_command(
    directory: Path = typer.Argument(..., help="The --out directory of a graded batch."),
    export: bool = typer.Option(False, "--export", help="Print the overrides CSV (what --overrides reads) and exit."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open the review in the default browser."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
) -> None:
    """Grade free-text answers question by question in the browser; scores go to RESULTS_DIR/overrides.csv."""
    from .review.store import Batch, BatchError

    try:
        batch = Batch(directory)
        if export:
            typer.echo(batch.export(), nl=False)
            raise typer.Exit(0)
        synced = batch.sync()
    except BatchError as exc:
        typer.echo(f"grade: {exc}", err=True)
        raise typer.Exit(2)
    import uvicorn  # here: `--export` needs no web server

    from .review.app import create_app, new_token

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        typer.echo(f"grade: cannot listen on 127.0.0.1:{port} ({exc.strerror})", err=True)
        raise typer.Exit(2)
    sock.listen(128)  # connections wait in the backlog until the server runs: the browser may start now
    chosen = sock.getsockname()[1]
    token = new_token()
    url = f"http://127.0.0.1:{chosen}/?token={token}"
    app = create_app(batch, token, cookie=f"grader-review-{chosen}")
    reports = len(batch.reports())
    typer.echo(f"Reviewing {reports} submission(s) of {batch.assignment_id} in {directory}"
               + (f" ({synced} report(s) brought in line with {batch.overrides_path.name})" if synced else ""))
    typer.echo(f"Scores are written to {batch.overrides_path}, the reports and {batch.gradebook_path.name} as you give them.")
    typer.echo(f"Open in a browser (the address carries the access token):\n\n    {url}\n\nCtrl-C stops the server.", err=False)
    if browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    server.run(sockets=[sock])
