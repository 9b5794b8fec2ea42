"""Documents attached to accounts, contacts, deals, projects, WBS elements and activities, with versions."""
