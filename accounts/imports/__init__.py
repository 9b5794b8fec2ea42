"""CSV import into the CRM: the typed records of ``accounts.csvio`` resolved and written through the services.

One call imports one file of one KIND (users, accounts, contacts, leads, deals,
interactions) as ``actor``::

    report = import_csv(session, actor=user, kind="deals", path="Potentials.csv", mapping="deals.json")
    report.created, report.updated, report.unchanged, report.errors, report.warnings

How it behaves:

* **Idempotent.** Rows are matched by external id (users by email); a second run
  of the same file counts every row as unchanged and writes nothing.
* **Nothing dropped.** Every data row is created, updated, unchanged, blank or
  listed in ``errors`` with its line, CSV column and reason: bad cells (from
  csvio), unknown references (owner, account, contact, lead, deal, branch), and
  anything a service refuses (rights, inactive owner, a lost deal without reason).
  A value kept otherwise than written (a phone that cannot be normalized, an
  extension, an INN given back its leading zero) is in ``warnings`` with its line
  and column, and its row imports (``accounts.csvio`` finds them; a dry run has them too).
  A reference to a record the actor may not read is reported as unknown, in the
  same words as one that does not exist (status 404 instead of 422): a report
  never names a hidden record's id, code or name.
* **All or nothing** unless ``partial``: with any error the whole file is rolled
  back (the report still tells what would have happened to the good rows).
  ``dry_run`` does all the work, services and checks included, and rolls back.
  The rollback is a savepoint, so the caller's session stays usable; each row runs
  in its own savepoint too, so a refused row never leaves half of itself behind.
* **Rights are the services' own.** The actor needs edit rights where rows land
  (for new accounts, edit rights on the branch); importing users, creating a
  pipeline or adding stages needs an administrator. A file whose rows are all
  refused for lack of rights answers like the services do: 404 when the target is
  unreadable, 403 when it is read-only.

Where things are:

* ``run``: ``import_csv`` and ``KINDS``, the module of each KIND in import order.
* One module per KIND, each with its decisions in its docstring: ``users``,
  ``accounts``, ``contacts``, ``leads``, ``deals`` (with ``pipeline``, the
  pipeline and stages a deals file lands in), ``interactions``. A KIND module has
  ``PRELOAD`` (the (model, field) references fetched before the rows),
  ``NOT_STORED`` (fields it reads but crmpm cannot keep, reported as ignored)
  and ``import_rows(job, records, progress)``.
* ``repeats``: rows repeating a record of the file, folded into its first row
  before the KIND's rows run (the same record counted once as ``repeated``, a deal's
  product lines gathered, other values an error naming both lines).
* ``references``: users, branch nodes and records by external id or name, fetched
  in bulk and cached, as the actor may see them.
* ``owners``: owners named in a file matched to users (e-mail, full name, a surname
  only one user has, the mapping's or the caller's owners table), the list of those
  matched to none with a table to fill in, and ``create_owners`` (administrators):
  missing owners created as inactive users on the file's branch.
* ``job``: the import's state, each row in its own savepoint with its error named
  by line and column, and the whole file's savepoint (``whole_file``).
* ``report``: ``ImportReport``, ``RowRefused`` and ``file_error``.
* ``jobs``: the import as a job (``crm.import``): ``start_import`` (the up-front
  checks, the file kept in the database), ``again`` (the same file, another
  mapping or for real), ``run_import`` (the job itself), ``preview_job``.
* ``preview``: the first rows of a file as the mapping reads them.

A real import whose changes stay records the event ``import.finished`` (kind,
created, updated, failed rows, the job's id when it ran as one).

The rules themselves are the services': every row goes through
``accounts.services`` (``upsert_account``, ``upsert_contact``, ``find_contact``,
``find_account_named``), ``accounts.leads`` (``upsert_lead``, and
``record_qualified`` / ``record_qualified_many`` for a lead a deal was imported
from), ``accounts.deals`` (``check_new_deal`` and ``create_deals`` for new deals
in bulk, ``upsert_deal`` and ``update_deal`` for the rest),
``accounts.activities.record_interaction_once`` and ``crmpm.users.services``,
which keep their own per-record audit. An import that changed something adds one
summary entry (action ``import``, entity type ``imports``) with the file name
and the figures.
"""

from __future__ import annotations

from accounts.imports.deals import DEAL_CHUNK
from accounts.imports.report import ImportReport, file_error
from accounts.imports.run import IMPORT_ORDER, KINDS, NOT_STORED, import_csv

__all__ = ["DEAL_CHUNK", "IMPORT_ORDER", "KINDS", "NOT_STORED", "ImportReport", "file_error", "import_csv"]
