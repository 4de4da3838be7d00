"""What an announcement is made of as a ministry system submits it (the body of `POST
/v1/announcements`): ingest accepts it with these models, and the router's preview renders
the same body checked by the same rules, so a preview and a submission never disagree on
what is valid."""

from siaran_shared.announcement_in.content import ContentIn
from siaran_shared.announcement_in.targets import TargetIn

__all__ = ["ContentIn", "TargetIn"]
