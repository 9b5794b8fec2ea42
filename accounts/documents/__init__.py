"""Documents attached to accounts, contacts, deals, projects, WBS elements and activities, with versions."""

# Imported with the package (the models' entry point does): documents follow their subjects' deletion.
from accounts.documents import cleanup

__all__ = ["cleanup"]
