"""crmpm: integrated CRM and enterprise project portfolio management.

This package is the application shell and the core every domain stands on:
the app factory, configuration, the database, users and authentication,
errors, audit and the command line.
"""

__all__ = ["create_app"]


def __getattr__(name):
    # The app factory is imported on first use, not with the package: a command that needs no app
    # (``crmpm --help``, ``crmpm xer schedule``) then starts without Flask and SQLAlchemy.
    if name == "create_app":
        from crmpm.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
