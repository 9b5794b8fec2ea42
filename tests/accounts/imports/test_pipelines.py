"""A pipeline column splits a deals file; terminal stages in the pipeline's language; honest imported history."""

from __future__ import annotations

from sqlalchemy import select

from accounts import analytics, pipelines
from accounts.models import Deal, DealStageChange, Pipeline, StageKind
from tests import factories

# Bitrix24's directions (and an amoCRM pipeline) in one file, terminal stages named as those systems name them.
DEALS = {
    "columns": {"ID": "external_id", "Название": "title", "Компания": "account", "Направление": "pipeline",
                "Стадия": "stage", "Сумма": "amount"},
    "defaults": {"currency": "RUB", "lost_reason": "не указана"},
}
MIXED_CSV = (
    "ID,Название,Компания,Направление,Стадия,Сумма\n"
    "B1,Насосы,ACC-1,Продажи,Новая,100\n"
    "B2,Клапаны,ACC-1,Продажи,Сделка успешна,200\n"
    "B3,Трубы,ACC-1,Продажи,Сделка провалена,300\n"
    "B4,Экскаватор,ACC-1,Лизинг,Подготовка документов,400\n"
    "B5,Погрузчик,ACC-1,Лизинг,Успешно реализовано,500\n"
)


def _world(session, world):
    factories.account(session, actor=world["admin"], region=world["A"], name="ООО Насосы", external_id="ACC-1")
    session.commit()


def _stages(pipeline):
    return [(stage.name, stage.kind) for stage in pipeline.stages]


def test_a_pipeline_column_splits_the_file_with_terminal_stages_in_the_pipelines_language(session, world, run):
    _world(session, world)
    report = run(world["admin"], "deals", MIXED_CSV, DEALS)
    assert report.committed and report.created == 5
    sales = pipelines.get_by_name(session, name="Продажи")
    leasing = pipelines.get_by_name(session, name="Лизинг")
    # Bitrix24's own names for its terminal stages are kept; Лизинг names no lost stage: the Russian default.
    assert _stages(sales) == [("Новая", StageKind.open), ("Сделка успешна", StageKind.won),
                              ("Сделка провалена", StageKind.lost)]
    assert _stages(leasing) == [("Подготовка документов", StageKind.open),
                                ("Успешно реализовано", StageKind.won), ("Закрыто и не реализовано", StageKind.lost)]
    deals = {deal.external_id: deal for deal in session.scalars(select(Deal))}
    assert {key: (deal.pipeline.name, deal.stage.name) for key, deal in deals.items()} == {
        "B1": ("Продажи", "Новая"), "B2": ("Продажи", "Сделка успешна"), "B3": ("Продажи", "Сделка провалена"),
        "B4": ("Лизинг", "Подготовка документов"), "B5": ("Лизинг", "Успешно реализовано")}


def test_terminal_names_of_other_crms_find_an_existing_pipelines_won_and_lost_stages(session, world, run):
    _world(session, world)
    factories.pipeline(session, name="Продажи")  # Qualification ... Won, Lost
    session.commit()
    text = ("ID,Название,Компания,Направление,Стадия,Сумма\n"
            "B1,Насосы,ACC-1,Продажи,Сделка успешна,1\n"
            "B2,Клапаны,ACC-1,Продажи,Закрыто и не реализовано,1\n")
    report = run(world["admin"], "deals", text, DEALS)
    assert report.committed and report.created == 2
    kinds = {deal.external_id: deal.stage.kind for deal in session.scalars(select(Deal))}
    assert kinds == {"B1": StageKind.won, "B2": StageKind.lost}
    assert session.scalars(select(Pipeline.name)).all() == ["Продажи"]  # no stage added for them


def test_a_new_english_pipeline_gets_english_terminal_stages(session, world, run):
    _world(session, world)
    text = "ID,Название,Компания,Направление,Стадия,Сумма\nB1,Pumps,ACC-1,Sales,Discovery,1\n"
    assert run(world["admin"], "deals", text, DEALS).committed
    assert [stage.name for stage in pipelines.get_by_name(session, name="Sales").stages] == [
        "Discovery", "Won", "Lost"]


FUNNEL = {
    "columns": {"ID": "external_id", "Название": "title", "Компания": "account", "Этап": "stage", "Сумма": "amount"},
    "values": {"stage": {"Первичный контакт": "Первичный контакт", "Переговоры": "Переговоры",
                         "Договор": "Договор", "Успешно реализовано": "Успешно реализовано",
                         "Закрыто и не реализовано": "Закрыто и не реализовано"}},
    "defaults": {"currency": "RUB", "lost_reason": "цена"},
    "pipeline": "Воронка",
}
# (stage in the file, how many deals)
FILE_STAGES = [("Первичный контакт", 4), ("Переговоры", 3), ("Договор", 2), ("Успешно реализовано", 1),
               ("Закрыто и не реализовано", 2)]


def test_imported_deals_record_only_the_stage_the_file_shows(session, world, run):
    _world(session, world)
    rows = [f"F{n},Сделка {n},ACC-1,{stage},100" for n, stage in enumerate(
        stage for stage, count in FILE_STAGES for _ in range(count))]
    text = "ID,Название,Компания,Этап,Сумма\n" + "\n".join(rows) + "\n"
    assert run(world["admin"], "deals", text, FUNNEL).committed
    deals = session.scalars(select(Deal).order_by(Deal.id)).all()
    for deal in deals:
        history = session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal.id)).all()
        assert [(change.from_stage_id, change.to_stage_id) for change in history] == [(None, deal.stage_id)]
        assert deal.opened_stage_id == deal.stage_id

    pipeline = pipelines.get_by_name(session, name="Воронка")
    order = [stage.name for stage in pipeline.stages if stage.kind is not StageKind.lost]

    def expected(spans):
        # A deal counts at the stages from the one it opened in to the furthest it reached; a conversion is the
        # share of the deals at a stage that went on to the next.
        at = {name: sum(1 for start, end in spans if start <= i <= end) for i, name in enumerate(order)}
        went = {order[i]: sum(1 for start, end in spans if start <= i and end >= i + 1)
                for i in range(len(order) - 1)}
        return [(a, b, round(went[a] / at[a], 4) if at[a] else None) for a, b in zip(order, order[1:])]

    # Opened where the file shows them: open deals at their stage, the won one at the won stage; the lost ones
    # show no open stage at all, so they are counted nowhere in the progression.
    spans = [(order.index(stage), order.index(stage)) for stage, count in FILE_STAGES[:4] for _ in range(count)]
    result = analytics.funnel(session, user=None, pipeline=pipeline)
    assert [(c["from_stage"], c["to_stage"], c["rate"]) for c in result["conversion"]] == expected(spans)
    assert [c["rate"] for c in result["conversion"]] == [0.0, 0.0, 0.0]  # the file shows no deal moving
    assert (result["won"], result["lost"], result["open"]) == (1, 2, 9)

    # A move seen in crmpm counts: one deal of Переговоры signs a contract.
    moving = next(deal for deal in deals if deal.stage.name == "Переговоры")
    factories.move(session, actor=world["admin"], deal=moving, stage="Договор")
    session.commit()
    spans.remove((1, 1))
    spans.append((1, 2))
    result = analytics.funnel(session, user=None, pipeline=pipeline)
    assert [(c["from_stage"], c["to_stage"], c["rate"]) for c in result["conversion"]] == expected(spans)
    assert result["conversion"][1]["rate"] == round(1 / 3, 4)
