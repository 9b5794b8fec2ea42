"""What an error answer may name: nothing the caller may not read, unless the caller named it first."""

from __future__ import annotations

import json
import re

from accounts.documents.models import Document
from accounts.models import Account, Contact, Deal, Interaction, Lead, Task
from eps.models import BudgetChange, EpsNode, Project

# How messages name each kind of object by id ("account 12", "EPS node 7").
LABELS = {EpsNode: ("EPS node", "node"), Project: ("project",), Account: ("account",), Contact: ("contact",),
          Deal: ("deal",), Lead: ("lead",), Interaction: ("interaction",), Task: ("task",),
          BudgetChange: ("budget change", "change"), Document: ("document",)}


def _words(obj) -> list[str]:
    """The codes, names and addresses that identify ``obj`` to a reader."""
    if isinstance(obj, (EpsNode, Project)):
        return [obj.code, obj.name]
    if isinstance(obj, Account):
        return [obj.name, obj.eps_node.code]
    if isinstance(obj, Contact):
        return [obj.last_name, obj.email or ""]
    if isinstance(obj, Deal):
        return [obj.project.code, obj.project.name]
    if isinstance(obj, Document):
        return [obj.name]
    if isinstance(obj, Lead):
        return [obj.company, obj.email or ""]
    return []


def hidden_mentions(body, hidden, asked) -> list[str]:
    """What ``body`` says about the ``hidden`` objects that ``asked`` (the request: path and body) did not say."""
    text = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
    asked_text = json.dumps(asked, ensure_ascii=False) if not isinstance(asked, str) else asked
    asked_numbers = set(re.findall(r"\d+", asked_text))
    found = []
    for obj in hidden:
        for word in _words(obj):
            if word and word not in asked_text and re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                found.append(word)
        for label in LABELS.get(type(obj), ()):
            key = label.replace(" ", "_")
            pattern = rf"\b{label}\s+{obj.id}\b|\"{key}_id\":\s*{obj.id}\b"
            if str(obj.id) not in asked_numbers and re.search(pattern, text, re.I):
                found.append(f"{label} {obj.id}")
    return found
