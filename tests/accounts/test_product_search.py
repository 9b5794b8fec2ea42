"""The search across the product (accounts.search.KINDS): every kind found, the matched field named, phones in
any format, case folded in every script on both databases, and nothing the user may not read."""

from __future__ import annotations

import pytest

from accounts import search
from accounts import leads as lead_services
from accounts import deals as deal_services
from accounts.documents import services as documents
from crmpm import search as crmpm_search
from crmpm.search import marked
from eps.models import Role
from tests import factories
from tests.accounts.test_search import CASES, NAMES, search_world
from wbs import services as wbs_services


def everything(session, user, text, limit=10):
    """{kind: [hits]} of every kind, as the search page asks for them."""
    return {kind.name: kind.find(session, user=user, text=text, limit=limit) for kind in search.KINDS}


@pytest.fixture
def world(session):
    """Branches A and B, each with an account, a contact (e-mail, phone, a second of each), a lead, a deal, a
    project, an activity and a document named after the branch; a seller who may read branch A only."""
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    pipeline = factories.pipeline(session, name="Sales")
    seller = factories.user(session, name="Seller")
    world = {"admin": admin, "seller": seller}
    phones = {"A": "+7 (812) 555-12-34", "B": "+7 (495) 777-88-99"}
    # Each contact's second phone and e-mail, only in its channels.
    seconds = {"A": [("phone", "mobile", "+7 (921) 111-22-33"), ("email", "home", "anna.home@mail.example")],
               "B": [("phone", "mobile", "+7 (921) 444-55-66"), ("email", "home", "b.home@private.example")]}
    for side, word in (("A", "Alderwood"), ("B", "Birchfield")):
        branch = factories.node(session, actor=admin, parent=root, code=side)
        account = factories.account(session, actor=admin, region=branch, name=f"{word} Ltd")
        contact = factories.contact(session, actor=admin, account=account, first_name="Anna",
                                    last_name=f"{word}son", email=f"anna@{word.lower()}.example",
                                    phone=phones[side], channels=seconds[side])
        lead = lead_services.create_lead(session, actor=admin, region=branch, company=f"{word} Farms",
                                         contact_name="Oleg", email=f"oleg@{word.lower()}-farms.example")
        deal = deal_services.create_deal(session, actor=admin, account=account, name=f"{word} supply",
                                         pipeline=pipeline, code=f"D-{side}")
        project = factories.project(session, actor=admin, node=branch, code=f"PR-{side}")
        project.name = f"{word} plant"
        activity = wbs_services.create_activity(session, actor=admin, project=project, code=f"A-{side}",
                                                name=f"{word} foundations")
        document = documents.add_document(session, actor=admin, subject=deal, name=f"{word} drawing.txt",
                                          kind="drawing", data=b"site plan")
        world[side] = {"account": account, "contact": contact, "lead": lead, "deal": deal, "project": project,
                       "activity": activity, "document": document, "word": word}
        if side == "A":
            factories.grant(session, actor=admin, role=Role.viewer, target=branch, user=seller)
    session.commit()
    return world


def test_every_kind_is_found_with_the_matched_field(session, world):
    a = world["A"]
    found = everything(session, world["admin"], "alderwood")
    assert {kind: [hit.id for hit in hits] for kind, hits in found.items()} == {
        "accounts": [a["account"].id], "contacts": [a["contact"].id], "leads": [a["lead"].id],
        "deals": [a["deal"].id], "projects": [a["project"].id], "activities": [a["activity"].id],
        "documents": [a["document"].id]}
    fields = {kind: (hits[0].field, hits[0].value) for kind, hits in found.items()}
    assert fields == {"accounts": ("name", "Alderwood Ltd"), "contacts": ("full_name", "Anna Alderwoodson"),
                      "leads": ("company", "Alderwood Farms"), "deals": ("name", "Alderwood supply"),
                      "projects": ("name", "Alderwood plant"), "activities": ("name", "Alderwood foundations"),
                      "documents": ("name", "Alderwood drawing.txt")}
    assert found["activities"][0].parent_id == a["project"].id


def test_a_deal_is_found_as_a_deal_not_again_as_a_project(session, world):
    found = everything(session, world["admin"], "supply")
    assert len(found["deals"]) == 2 and found["projects"] == []


def test_a_deal_marks_its_project_and_a_plain_project_stays_unmarked(session, world):
    a = world["A"]
    assert a["deal"].project.is_deal is True
    assert a["project"].is_deal is False


def test_a_deal_opened_on_an_existing_project_marks_it_and_is_found_as_a_deal(session, world):
    admin, a = world["admin"], world["A"]
    project = factories.project(session, actor=admin, node=a["account"].eps_node, code="PR-OAK")
    project.name = "Oakmere works"
    session.flush()
    assert project.is_deal is False
    assert [hit.id for hit in everything(session, admin, "oakmere")["projects"]] == [project.id]
    deal = deal_services.create_deal(session, actor=admin, account=a["account"], name="Oakmere works",
                                     pipeline=a["deal"].pipeline, project=project)
    assert project.is_deal is True
    found = everything(session, admin, "oakmere")
    assert [hit.id for hit in found["deals"]] == [deal.id] and found["projects"] == []


def test_deals_opened_in_a_batch_mark_their_projects(session, world):
    admin, a = world["admin"], world["A"]
    new = [deal_services.check_new_deal(session, actor=admin, account=a["account"], name=f"Batch {n}",
                                        pipeline=a["deal"].pipeline) for n in range(3)]
    deal_ids = deal_services.create_deals(session, actor=admin, pipeline=a["deal"].pipeline, new=new)
    session.expire_all()
    marks = session.execute(search.select(search.Project.is_deal).join(search.Deal, search.Deal.project_id
                                                                        == search.Project.id)
                            .where(search.Deal.id.in_(deal_ids))).scalars().all()
    assert marks == [True, True, True]
    found = everything(session, admin, "batch")
    assert len(found["deals"]) == 3 and found["projects"] == []


def test_a_deal_whose_project_lost_its_mark_is_still_not_found_as_a_project(session, world):
    """The deals' table stays the rule: the mark only lets the indexes answer."""
    project = world["A"]["deal"].project
    project.is_deal = False
    session.flush()
    found = everything(session, world["admin"], "supply")
    assert len(found["deals"]) == 2 and found["projects"] == []


def test_codes_emails_and_the_whole_name(session, world):
    admin, a = world["admin"], world["A"]
    hit = everything(session, admin, "pr-a")["projects"][0]
    assert (hit.id, hit.field, hit.value) == (a["project"].id, "code", "PR-A")
    hit = everything(session, admin, "ANNA@ALDER")["contacts"][0]
    assert (hit.id, hit.field, hit.value) == (a["contact"].id, "email", "anna@alderwood.example")
    hit = everything(session, admin, "oleg@alderwood-farms")["leads"][0]
    assert (hit.id, hit.field) == (a["lead"].id, "email")
    assert [h.id for h in everything(session, admin, "anna alderwoodson")["contacts"]] == [a["contact"].id]


@pytest.mark.parametrize("typed", ["+7 (812) 555-12-34", "8 812 5551234", "5551234", "555-12-34", "+78125551234",
                                   "812 555 12 34"])
def test_a_phone_in_any_format_finds_the_contact(session, world, typed):
    hits = everything(session, world["admin"], typed)["contacts"]
    assert [(hit.id, hit.field, hit.value) for hit in hits] == [(world["A"]["contact"].id, "phone", "+78125551234")]


@pytest.mark.parametrize("typed,field,value", [
    ("+7 (921) 111-22-33", "phone", "+79211112233"), ("8 921 1112233", "phone", "+79211112233"),
    ("1112233", "phone", "+79211112233"), ("ANNA.HOME@", "email", "anna.home@mail.example"),
    ("mail.example", "email", "anna.home@mail.example")])
def test_a_second_phone_or_email_finds_the_contact_naming_it(session, world, typed, field, value):
    hits = everything(session, world["admin"], typed)["contacts"]
    assert [(hit.id, hit.field, hit.value) for hit in hits] == [(world["A"]["contact"].id, field, value)]


def test_the_first_phone_and_email_are_still_named_first(session, world):
    contact = world["A"]["contact"]
    assert {channel.value for channel in contact.channels} >= {"+78125551234", "+79211112233",
                                                               "anna@alderwood.example", "anna.home@mail.example"}
    hit = everything(session, world["admin"], "+7 812 555 12 34")["contacts"][0]
    assert (hit.field, hit.value) == ("phone", "+78125551234")


def test_another_branchs_contact_is_never_found_through_its_channels(session, world):
    b = world["B"]["contact"]
    for typed in ("+7 (921) 444-55-66", "4445566", "b.home@private", "B.HOME@PRIVATE.EXAMPLE"):
        assert [hit.id for hit in everything(session, world["admin"], typed)["contacts"]] == [b.id], typed
        assert everything(session, world["seller"], typed)["contacts"] == [], typed
    # The seller's own contact is found by its second phone.
    assert [hit.id for hit in everything(session, world["seller"], "921 111 22 33")["contacts"]] == [
        world["A"]["contact"].id]


@pytest.mark.parametrize("rights_first", [True, False])
def test_starting_from_the_readable_rows_finds_the_same(session, world, monkeypatch, rights_first):
    """Both ways of answering (from the readable rows, or from the text's matches) find the same hits."""
    searches = ["Alderwood", "Birchfield", "anna", "a", "ltd", "921", "+7 (921) 444-55-66", "1112233",
                "b.home@", "example", "8 812 5551234"]
    expected = {(who, typed): [(hit.kind, hit.id, hit.field, hit.value) for hits in
                               everything(session, world[who], typed).values() for hit in hits]
                for who in ("admin", "seller") for typed in searches}
    # The figures read the other way, forced.
    monkeypatch.setattr(search, "starts_from_readable", lambda session, *, user, matches: rights_first)
    for (who, typed), hits in expected.items():
        assert [(hit.kind, hit.id, hit.field, hit.value) for hits_ in everything(session, world[who], typed).values()
                for hit in hits_] == hits, (who, typed)
    assert expected[("seller", "Birchfield")] == []
    assert [kind for kind, _id, _f, _v in expected[("seller", "Alderwood")]] == [
        "accounts", "contacts", "leads", "deals", "projects", "activities", "documents"]


def test_a_seller_of_one_branch_starts_from_the_readable_rows_when_more_rows_hold_the_text(session, world,
                                                                                           monkeypatch):
    seller, admin = world["seller"], world["admin"]
    postgresql = session.get_bind().dialect.name == "postgresql"
    # Branch A's node and its account's: every account is a node, so at most that many readable accounts.
    assert search.readable_nodes_count(session, user=seller) == (2 if postgresql else None)
    assert search.readable_nodes_count(session, user=admin) is None
    # Texts in more than one row count as frequent here (FEW_MATCHES rows at full size).
    monkeypatch.setattr(crmpm_search, "FEW_MATCHES", 1)
    # "Ltd" is in both branches' names (2 rows, not more than the 2 readable nodes); "Anna" in both contacts and
    # in their e-mail channels (more rows than that); "Alderwood" in one name.
    ltd = search.select(search.Account.id).where(search.contains([search.Account.name], "Ltd"))
    alderwood = search.select(search.Account.id).where(search.contains([search.Account.name], "Alderwood"))
    anna = search.union_all(search.select(search.Contact.id).where(search.contains([search.Contact.first_name], "Anna")),
                            search.select(search.ContactChannel.contact_id)
                            .where(search.contains([search.ContactChannel.value], "anna")))
    # Frequent texts for a user of few readable nodes, whatever their own count (no count of the text's rows
    # up to the readable ones: the readable rows are read once, in the statement that checks them).
    assert search.starts_from_readable(session, user=seller, matches=ltd) is postgresql
    assert search.starts_from_readable(session, user=seller, matches=anna) is postgresql
    assert search.starts_from_readable(session, user=seller, matches=alderwood) is False  # one row: rare
    assert search.starts_from_readable(session, user=admin, matches=ltd) is False
    assert [hit.id for hit in everything(session, seller, "Ltd")["accounts"]] == [world["A"]["account"].id]


def test_the_readable_rows_are_read_once_and_their_count_decides(session, world, monkeypatch):
    """``first_of_few`` answers from the readable rows when they are no more than ``most``; past that (not every
    row checked) it answers None, and the search looks the text up in its index instead, finding the same."""
    seller, a = world["seller"], world["A"]
    readable = search.readable_account_ids(session, user=seller).with_only_columns(
        search.Account.id.label("id"), search.Account.name.label("title"))
    ltd = search.contains([search.Account.name], "Ltd")
    # Branch A holds one account: read to its end, it answers.
    assert [row.id for row in crmpm_search.first_of_few(session, readable, limit=6, matching=ltd, most=1)] == [
        a["account"].id]
    assert crmpm_search.first_of_few(session, readable, limit=6, matching=search.contains(
        [search.Account.name], "Birch"), most=1) == []
    # A second account in branch A: more rows than most=1 and fewer than CANDIDATES matches, so no answer.
    factories.account(session, actor=world["admin"], region=a["account"].region_node, name="Oak Ltd")
    assert crmpm_search.first_of_few(session, readable, limit=6, matching=ltd, most=1) is None
    # Enough matches (CANDIDATES of them) answer however many rows there are: the first of them are found.
    monkeypatch.setattr(crmpm_search, "CANDIDATES", 1)
    assert len(crmpm_search.first_of_few(session, readable, limit=6, matching=ltd, most=1)) == 1
    monkeypatch.undo()
    # The search, told the seller may read more than FEW_READABLE rows past the count, still finds both.
    monkeypatch.setattr(crmpm_search, "FEW_MATCHES", 1)
    monkeypatch.setattr(search, "FEW_READABLE", 1)
    monkeypatch.setattr(search, "readable_nodes_count", lambda session, *, user: 1)
    assert sorted(hit.title for hit in everything(session, seller, "Ltd")["accounts"]) == ["Alderwood Ltd",
                                                                                            "Oak Ltd"]


def test_a_rare_text_is_looked_up_in_its_index_without_counting_the_readable_rows(session, world, monkeypatch):
    def counted(*_args, **_kwargs):
        raise AssertionError("the readable rows were counted")

    monkeypatch.setattr(search, "readable_nodes_count", counted)
    ltd = search.select(search.Account.id).where(search.contains([search.Account.name], "Ltd"))
    assert search.starts_from_readable(session, user=world["seller"], matches=ltd) is False
    assert [hit.id for hit in everything(session, world["seller"], "Ltd")["accounts"]] == [world["A"]["account"].id]


def test_a_few_digits_are_not_a_phone(session, world):
    assert search.phone_digits("1234") == ""
    assert everything(session, world["admin"], "1234")["contacts"] == []


def test_the_seller_finds_nothing_of_the_branch_they_may_not_read(session, world):
    seller = world["seller"]
    assert all(hits == [] for hits in everything(session, seller, "Birchfield").values())
    assert everything(session, seller, "+7 (495) 777-88-99")["contacts"] == []
    assert everything(session, seller, "PR-B")["projects"] == []
    # ...while their own branch is found, kind by kind.
    assert all(len(hits) == 1 for hits in everything(session, seller, "Alderwood").values())


def test_the_limit_holds_and_blank_text_finds_nothing(session, world):
    admin = world["admin"]
    assert len(everything(session, admin, "a", limit=1)["accounts"]) == 1
    assert all(hits == [] for hits in everything(session, admin, "   ").values())


@pytest.fixture
def words(session):
    admin = factories.admin(session)
    return admin, search_world(session, admin)


@pytest.mark.parametrize("script,text", CASES)
def test_case_is_folded_in_every_script(session, words, script, text):
    admin, world = words
    word = world[script]
    found = everything(session, admin, text)
    titles = {kind: {hit.title for hit in hits} for kind, hits in found.items()}
    assert titles["accounts"] == {f"ООО {word}"}
    assert titles["contacts"] == {f"Мария {word}ина"}
    assert titles["leads"] == {f"{word} Сервис"}
    assert titles["deals"] == {f"Поставка {word}"}
    assert titles["projects"] == {f"Проект {word}"}
    hit = found["accounts"][0]
    assert hit.field == "name" and any(matched for _piece, matched in marked(hit.value, text))


def test_marked_pieces_put_the_value_back_together():
    for value, text, matched in (("Straße 5", "STRASSE", "Straße"), ("ООО Ладога", "адог", "адог"),
                                 ("ΟΔΟΣ", "οδος", "ΟΔΟΣ"), ("İSTANBUL", "ist", "İST")):
        pieces = marked(value, text)
        assert "".join(piece for piece, _ in pieces) == value
        assert [piece for piece, is_match in pieces if is_match] == [matched], (value, text)
    assert marked("Plain", "zzz") == [("Plain", False)]
    assert NAMES  # the scripts of test_search are the ones folded above


@pytest.mark.parametrize("who", ["admin", "seller"])
def test_frequent_texts_find_what_rare_ones_would(session, world, monkeypatch, who):
    """Every text counted as frequent (each kind's other way: projects from those not deals, a seller's accounts
    and contacts from the readable rows) finds the same hits."""
    searches = ["Alderwood", "Birchfield", "supply", "plant", "anna", "a", "ltd", "d-a", "921", "b.home@", "example",
                "8 812 5551234"]
    user = world[who]
    expected = {typed: [(hit.kind, hit.id, hit.field, hit.value) for hits in everything(session, user, typed).values()
                        for hit in hits] for typed in searches}
    monkeypatch.setattr(crmpm_search, "FEW_MATCHES", 0)
    for typed, hits in expected.items():
        assert [(hit.kind, hit.id, hit.field, hit.value) for hits_ in everything(session, user, typed).values()
                for hit in hits_] == hits, typed
    assert [kind for kind, *_ in expected["plant"]] == (["projects", "projects"] if who == "admin" else ["projects"])
    assert expected["supply"] and {kind for kind, *_ in expected["supply"]} == {"deals"}
