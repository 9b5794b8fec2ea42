"""crmpm: integrated CRM and enterprise project portfolio management.

This package is the application shell and the core every domain stands on:
the app factory, configuration, the database, users and authentication,
errors, audit and the command line.
"""

from crmpm.app import create_app

__all__ = ["create_app"]
