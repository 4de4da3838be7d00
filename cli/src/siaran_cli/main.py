"""`siaran`: the operator's command line."""

from __future__ import annotations

import typer

from siaran_cli import announce, announcements, channels, deliveries, demo, dev, dlq, keys, report
from siaran_cli.preview import preview

app = typer.Typer(
    name="siaran",
    help="Siaran: deliver every government announcement to every regional channel.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("dev", help="Run the whole platform locally on the embedded defaults.")(dev.dev)
app.add_typer(keys.app, name="keys", help="Create, list and revoke API keys.")
app.command("report", help="An announcement's delivery report; --follow until complete.")(
    report.report
)
app.add_typer(dlq.app, name="dlq", help="List dead letters and replay them (needs broker access).")
app.add_typer(channels.app, name="channels", help="Import and export the channel registry.")
app.command("announce")(announce.announce)
app.command("preview")(preview)
app.command("submit")(announce.submit)
app.command("approve")(announce.approve)
app.command("reject")(announce.reject)
app.command("edit")(announce.edit)
app.command("cancel")(announce.cancel)
app.add_typer(
    announcements.app, name="announcements", help="List announcements and show one's history."
)
app.command("deliveries")(deliveries.deliveries)
app.add_typer(demo.app, name="demo", help="The demo registry and the demo receiver.")

if __name__ == "__main__":
    app()
