"""Documents attached to accounts, contacts, deals, projects, WBS elements and activities, with versions."""

from accounts.documents import cleanup  # noqa: F401,E402  (documents follow their subjects' deletion)
