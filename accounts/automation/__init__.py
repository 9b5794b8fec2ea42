"""Automation rules per pipeline: when a deal enters a stage, is created, won, lost or sits idle (or a lead
comes in), do typed actions (a task, an e-mail, a field, a stage move) and record each run on the deal.

* ``models``: ``automation_rules`` and ``automation_runs``.
* ``rules``: what a rule may hold, checked on save (pure); the template fields; working days.
* ``services``: the rules as settings (administrators), audited.
* ``engine``: the event consumer, the ``automation.run`` job, the idle check, the actions.

Nothing is imported here, so ``accounts.activities`` can read the runs' model for the timeline.
"""
