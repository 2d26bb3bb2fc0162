"""The in-memory unit of work keeps what the use-case tests rely on: a commit publishes,
leaving without one discards, a stale copy cannot overwrite a newer commit, and reads
honour the record scope as the SQL filters do."""

from __future__ import annotations

import pytest

from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope
from app.domain.audit.chain import ChainVerifier
from app.domain.change_requests.access import read_scope as cr_read_scope
from app.domain.change_requests.model import CRState
from app.domain.common.errors import WriteConflict
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.handovers.access import reach
from app.domain.handovers.model import HandoverReason
from app.services.handovers import NewHandover
from tests.usecases.world import World


async def test_staged_changes_are_seen_by_later_units_only_after_commit(world: World) -> None:
    customer = world.customer("am_east")
    everyone = RecordScope(Reach.ALL)
    async with world.uow(world.ctx("am_east")) as uow:
        await uow.customers.add(customer)
        uow.record("customer.created", "customer", customer.id, after={"name": customer.name})
        uow.emit(DomainEvent("customer.created", "customer", customer.id, world.clock.now(),
                             customer_id=customer.id))
        async with world.uow(world.ctx("admin"), write=False) as other:
            assert await other.customers.get(customer.id, everyone) is None
        assert await uow.customers.get(customer.id, everyone) is not None
        assert world.store.audited("customer.created") == []
        await uow.commit()
    async with world.uow(world.ctx("admin"), write=False) as later:
        assert await later.customers.get(customer.id, everyone) is not None
    assert [a.entity_id for a in world.store.audited("customer.created")] == [str(customer.id)]
    assert [e.type for e in world.store.outbox] == ["customer.created"]
    assert [t["type"] for t in world.store.timeline] == ["customer.created"]


async def test_leaving_without_commit_discards_rows_audit_and_events(world: World) -> None:
    customer = world.customer("am_east")
    with pytest.raises(RuntimeError):
        async with world.uow(world.ctx("am_east")) as uow:
            await uow.customers.add(customer)
            uow.record("customer.created", "customer", customer.id)
            raise RuntimeError("the use case failed half-way")
    async with world.uow(world.ctx("am_east")) as uow:
        await uow.customers.add(world.customer("am_east"))  # not committed either
    async with world.uow(world.ctx("admin"), write=False) as later:
        assert await later.customers.get(customer.id, RecordScope(Reach.ALL)) is None
    assert world.store.audit == [] and world.store.outbox == []
    assert world.store.tables.customers == {}


async def test_a_read_object_changed_but_not_saved_is_not_stored(world: World) -> None:
    customer = world.customer("am_east")
    await world.seed(customer)
    async with world.uow(world.ctx("admin")) as uow:
        found = await uow.customers.get(customer.id, RecordScope(Reach.ALL))
        assert found is not None
        found.name = "changed without save"
        await uow.commit()
    async with world.uow(world.ctx("admin"), write=False) as uow:
        again = await uow.customers.get(customer.id, RecordScope(Reach.ALL))
        assert again is not None and again.name == customer.name


async def test_a_commit_on_a_copy_older_than_the_last_commit_is_a_conflict(
        world: World) -> None:
    first, second = world.uow(world.ctx("admin")), world.uow(world.ctx("admin"))
    async with first, second:
        await first.customers.add(world.customer("am_east"))
        await second.customers.add(world.customer("am_west"))
        await first.commit()
        with pytest.raises(WriteConflict):
            await second.commit()
    assert len(world.store.tables.customers) == 1


async def test_reads_and_events_need_the_unit_they_were_opened_for(world: World) -> None:
    async with world.uow(world.ctx("admin"), write=False) as uow:
        with pytest.raises(RuntimeError):
            uow.record("x.done", "x", None)
        with pytest.raises(RuntimeError):
            uow.emit(DomainEvent("x.done", "x", new_id(), world.clock.now()))


async def test_the_audit_chain_it_writes_verifies(world: World) -> None:
    for name in ("a", "b", "c"):
        async with world.uow(world.ctx("admin")) as uow:
            uow.record(f"thing.{name}", "thing", name, after={"value": None})
            await uow.commit()
    verifier = ChainVerifier()
    async with world.uow(world.ctx("admin"), write=False) as uow:
        seq, head = await uow.audit_log.head()
        async for record in uow.audit_log.entries():
            verifier.feed([record])
    assert seq == 3
    assert verifier.finish(seq, head).intact
    assert world.store.audit[0].after == {"value": None}


async def test_customer_scope_is_owner_department_or_shared(world: World) -> None:
    mine, colleagues, shared = (world.customer("am_east"), world.customer("am_east2"),
                                world.customer("am_east2", shared_with_department=True))
    theirs = world.customer("am_west")
    await world.seed(mine, colleagues, shared, theirs)

    async def visible(who: str) -> set[str]:
        principal = world.ctx(who).actor
        async with world.uow(world.ctx(who), write=False) as uow:
            return {c.name for c in (mine, colleagues, shared, theirs)
                    if await uow.customers.get(c.id, read_scope(principal)) is not None}

    assert await visible("am_east") == {mine.name, shared.name}
    assert await visible("head_east") == {mine.name, colleagues.name, shared.name}
    assert await visible("executive") == {c.name for c in (mine, colleagues, shared, theirs)}
    assert await visible("finance") == set()  # no customer role: reaches none
    west_head = world.ctx("head_west").actor
    async with world.uow(world.ctx("head_west"), write=False) as uow:
        assert await uow.customers.get(mine.id, write_scope(west_head)) is None


async def test_change_request_scope_follows_the_customer_and_is_never_shared(
        world: World) -> None:
    shared = world.customer("am_east2", shared_with_department=True)
    cr = world.change_request(shared, "am_east2", CRState.DRAFT)
    await world.seed(shared, cr)

    async def sees(who: str) -> bool:
        async with world.uow(world.ctx(who), write=False) as uow:
            return await uow.change_requests.get(cr.id, cr_read_scope(
                world.ctx(who).actor)) is not None

    assert await sees("am_east2") and await sees("head_east") and await sees("finance")
    assert not await sees("am_east")  # shares the customer, not its changes
    assert not await sees("head_west") and not await sees("am_west")


async def test_a_handover_reaches_its_managers_a_head_of_its_department_and_admins(
        world: World) -> None:
    customer = world.customer("am_east")
    await world.seed(customer)
    view = await world.handovers.start(world.ctx("am_east"), customer.id, NewHandover(
        to_manager_id=world.id("am_east2"), reason=HandoverReason.REASSIGNMENT))
    for who, reached in (("am_east", True), ("am_east2", True), ("head_east", True),
                         ("admin", True), ("head_west", False), ("am_west", False),
                         ("executive", False)):
        async with world.uow(world.ctx(who), write=False) as uow:
            found = await uow.handovers.get(view.handover.id, reach(world.ctx(who).actor))
            assert (found is not None) is reached, who

