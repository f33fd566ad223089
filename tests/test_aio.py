"""mailtls.aio, the check's event loop: each behaviour the module claims, black-box.

Every test runs its own loop with ``aio.run``. Waits are on futures and events, not on
sleeps, wherever the behaviour allows; the few timers are short (<= 0.1 s).
"""

from __future__ import annotations

import hashlib
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mailtls import aio


async def _forever(log: list[str] | None = None, name: str = "") -> None:
    """Wait on a future nobody sets; note ``name`` in ``log`` when cancelled."""
    try:
        await aio.get_running_loop().create_future()
    finally:
        if log is not None:
            log.append(name)


async def _turns(n: int) -> None:
    """Let the other ready tasks run ``n`` times."""
    for _ in range(n):
        await aio.sleep0()


# --------------------------------------------------------------------------- run


def test_run_returns_the_result() -> None:
    """run() hands back what the coroutine returned."""

    async def main() -> int:
        await aio.sleep0()
        return 42

    assert aio.run(main()) == 42


def test_run_raises_the_exception() -> None:
    """run() raises the coroutine's own exception object."""
    error = ValueError("boom")

    async def main() -> None:
        await aio.sleep0()
        raise error

    with pytest.raises(ValueError) as caught:
        aio.run(main())
    assert caught.value is error


def test_run_inside_a_running_loop_is_refused() -> None:
    """run() called from a coroutine on a running loop raises RuntimeError."""

    async def inner() -> None:
        pass

    async def main() -> str:
        coro = inner()
        try:
            aio.run(coro)
        except RuntimeError as error:
            return str(error)
        finally:
            coro.close()
        return "no error"

    assert "running loop" in aio.run(main())


def test_get_running_loop_outside_a_loop() -> None:
    """get_running_loop() outside run() raises RuntimeError; inside it is the loop."""
    with pytest.raises(RuntimeError):
        aio.get_running_loop()

    async def main() -> aio.Loop:
        return aio.get_running_loop()

    assert isinstance(aio.run(main()), aio.Loop)
    with pytest.raises(RuntimeError):
        aio.get_running_loop()


def test_run_cancels_tasks_left_behind() -> None:
    """Tasks still running when main returns are cancelled (their finally blocks run)."""
    log: list[str] = []

    async def main() -> None:
        aio.get_running_loop().create_task(_forever(log, "orphan"))
        await _turns(2)

    aio.run(main())
    assert log == ["orphan"]


# --------------------------------------------------------------------------- tasks


def test_cancel_throws_at_the_await_and_finally_runs() -> None:
    """cancel() raises CancelledError at the task's current await; finally runs; the task
    ends cancelled and awaiting it raises CancelledError."""
    log: list[str] = []

    async def victim() -> None:
        log.append("started")
        try:
            await aio.get_running_loop().create_future()
            log.append("resumed")
        except aio.CancelledError:
            log.append("cancelled at the await")
            raise
        finally:
            log.append("finally")

    async def main() -> None:
        task = aio.get_running_loop().create_task(victim())
        await _turns(2)
        assert task.cancel() is True
        with pytest.raises(aio.CancelledError):
            await task
        assert task.cancelled()
        assert task.cancel() is False  # done: nothing to cancel

    aio.run(main())
    assert log == ["started", "cancelled at the await", "finally"]


def test_task_that_swallows_cancellation_is_not_cancelled() -> None:
    """A task that catches CancelledError and returns ends with its result (asyncio does
    the same)."""

    async def stubborn() -> str:
        try:
            await aio.get_running_loop().create_future()
        except aio.CancelledError:
            return "kept going"
        return "not cancelled"

    async def main() -> None:
        task = aio.get_running_loop().create_task(stubborn())
        await _turns(2)
        task.cancel()
        assert await task == "kept going"
        assert not task.cancelled()

    aio.run(main())


def test_cancel_before_the_first_step() -> None:
    """A task cancelled before it ever ran is cancelled without running its body."""
    ran: list[bool] = []

    async def body() -> None:
        ran.append(True)

    async def main() -> None:
        task = aio.get_running_loop().create_task(body())
        task.cancel()
        with pytest.raises(aio.CancelledError):
            await task
        assert task.cancelled()

    aio.run(main())
    assert ran == []


def test_cancelling_and_uncancel_count_requests() -> None:
    """cancelling() counts cancel() calls; uncancel() withdraws one and returns the rest."""

    async def main() -> None:
        task = aio.get_running_loop().create_task(_forever())
        await aio.sleep0()
        assert task.cancelling() == 0
        task.cancel()
        task.cancel()
        assert task.cancelling() == 2
        assert task.uncancel() == 1
        assert task.cancelling() == 1
        with pytest.raises(aio.CancelledError):
            await task
        assert task.cancelled()

    aio.run(main())


def test_self_cancel_lands_at_the_next_await() -> None:
    """A task cancelling itself gets CancelledError at its next await, not before."""
    log: list[str] = []

    async def main() -> None:
        task = aio.current_task()
        assert task is not None
        task.cancel()
        log.append("still running")
        try:
            await aio.sleep0()
        except aio.CancelledError:
            log.append("cancelled")
            return
        log.append("not cancelled")

    aio.run(main())
    assert log == ["still running", "cancelled"]


def test_yielding_something_else_than_a_future_is_an_error() -> None:
    """A coroutine that yields a foreign object gets RuntimeError back at that yield."""

    class Foreign:
        def __await__(self) -> Any:
            yield 42

    async def main() -> str:
        try:
            await Foreign()
        except RuntimeError as error:
            return str(error)
        return "no error"

    assert "42" in aio.run(main())


def test_future_result_before_and_after() -> None:
    """A future's result is refused before it is set and cannot be set twice."""

    async def main() -> None:
        future = aio.get_running_loop().create_future()
        with pytest.raises(aio.InvalidStateError):
            future.result()
        future.set_result(1)
        with pytest.raises(aio.InvalidStateError):
            future.set_result(2)
        assert await future == 1

    aio.run(main())


def test_all_tasks_and_current_task() -> None:
    """current_task() is the task running now (None outside a task); all_tasks() lists
    the tasks not done yet."""
    seen: dict[str, Any] = {}

    async def child() -> None:
        seen["child"] = aio.current_task()
        await aio.sleep0()

    def callback() -> None:
        seen["callback"] = aio.current_task()

    async def main() -> None:
        me = aio.current_task()
        assert me is not None
        assert aio.all_tasks() == {me}
        task = aio.get_running_loop().create_task(child())
        assert aio.all_tasks() == {me, task}
        aio.get_running_loop().call_soon(callback)
        await task
        assert seen["child"] is task
        assert aio.all_tasks() == {me}

    assert aio.current_task() is None
    aio.run(main())
    assert seen["callback"] is None


# --------------------------------------------------------------------------- timeout


def test_timeout_expires() -> None:
    """A body outlasting its timeout leaves the block as TimeoutError (body cancelled)."""
    log: list[str] = []

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with aio.timeout(0.01):
                await _forever(log, "body")
        assert aio.current_task().cancelling() == 0  # type: ignore[union-attr]

    aio.run(main())
    assert log == ["body"]


def test_timeout_in_time_leaves_no_stray_cancellation() -> None:
    """A body finishing in time: no error, and nothing cancels the task after the block."""

    async def main() -> str:
        async with aio.timeout(0.02):
            await aio.sleep0()
        await aio.sleep(0.05)  # past the deadline: a stray cancel would land here
        return "done"

    assert aio.run(main()) == "done"


def test_nested_timeout_inner_expires() -> None:
    """The inner timeout expiring raises TimeoutError from the inner block only."""
    log: list[str] = []

    async def main() -> None:
        async with aio.timeout(5):
            try:
                async with aio.timeout(0.01):
                    await _forever()
            except TimeoutError:
                log.append("inner")
            await aio.sleep0()  # the outer block carries on
            log.append("outer body went on")

    aio.run(main())
    assert log == ["inner", "outer body went on"]


def test_nested_timeout_outer_expires_while_inner_active() -> None:
    """The outer timeout expiring inside an inner block: the inner block lets the
    cancellation through and the outer one raises TimeoutError."""
    log: list[str] = []

    async def main() -> None:
        try:
            async with aio.timeout(0.01):
                try:
                    async with aio.timeout(5):
                        await _forever()
                except TimeoutError:
                    log.append("inner raised TimeoutError")
                    raise
                except aio.CancelledError:
                    log.append("inner let CancelledError by")
                    raise
        except TimeoutError:
            log.append("outer")

    aio.run(main())
    assert log == ["inner let CancelledError by", "outer"]


def test_external_cancel_inside_timeout_stays_cancelled() -> None:
    """Someone else's cancel() during a timeout block is CancelledError, not TimeoutError."""
    log: list[str] = []

    async def worker() -> None:
        try:
            async with aio.timeout(5):
                await _forever()
        except TimeoutError:
            log.append("TimeoutError")
        except aio.CancelledError:
            log.append("CancelledError")
            raise

    async def main() -> None:
        task = aio.get_running_loop().create_task(worker())
        await _turns(2)
        task.cancel()
        with pytest.raises(aio.CancelledError):
            await task

    aio.run(main())
    assert log == ["CancelledError"]


def test_external_cancel_and_expiry_together_stay_cancelled() -> None:
    """Expiry and an outside cancel() before the body resumes: the outside request wins
    (CancelledError, not TimeoutError)."""
    log: list[str] = []

    async def main() -> None:
        loop = aio.get_running_loop()
        waited = loop.create_future()
        worker: list[aio.Task[None]] = []
        # Runs when the expiry cancels ``waited``, before the worker resumes.
        waited.add_done_callback(lambda _: worker[0].cancel())

        async def body() -> None:
            try:
                async with aio.timeout(0.01):
                    await waited
            except TimeoutError:
                log.append("TimeoutError")
            except aio.CancelledError:
                log.append("CancelledError")
                raise

        worker.append(loop.create_task(body()))
        with pytest.raises(aio.CancelledError):
            await worker[0]

    aio.run(main())
    assert log == ["CancelledError"]


def test_timeout_none_never_fires() -> None:
    """timeout(None) never cancels the body."""

    async def main() -> str:
        async with aio.timeout(None):
            await aio.sleep(0.02)
        return "done"

    assert aio.run(main()) == "done"


def test_timeout_zero_fires_at_a_timer_wait() -> None:
    """timeout(0) cancels the body at its first wait on the loop (here a sleep(0))."""
    log: list[str] = []

    async def main() -> None:
        try:
            async with aio.timeout(0):
                log.append("entered")
                await aio.sleep(0)
                log.append("passed the await")
        except TimeoutError:
            log.append("TimeoutError")

    aio.run(main())
    assert log == ["entered", "TimeoutError"]


def test_timeout_zero_fires_at_the_first_suspension() -> None:
    """timeout(0) cancels the body at its first suspension, even a sleep0() (as
    asyncio.timeout(0) does at asyncio.sleep(0))."""
    log: list[str] = []

    async def main() -> None:
        try:
            async with aio.timeout(0):
                await aio.sleep0()
                log.append("passed the first suspension")
        except TimeoutError:
            log.append("TimeoutError")

    aio.run(main())
    assert log == ["TimeoutError"]


def test_timeout_after_a_swallowed_cancellation_is_timeout_error() -> None:
    """A task that earlier caught a CancelledError (and went on) still gets TimeoutError
    from a later timeout of its own (asyncio >= 3.12 semantics), not CancelledError."""
    log: list[str] = []

    async def worker() -> str:
        try:
            await _forever()
        except aio.CancelledError:
            log.append("abandoned the first wait")
        try:
            async with aio.timeout(0.01):
                await _forever()
        except TimeoutError:
            return "TimeoutError"
        return "no error"

    async def main() -> None:
        task = aio.get_running_loop().create_task(worker())
        await _turns(2)
        task.cancel()
        try:
            log.append(await task)
        except aio.CancelledError:
            log.append("worker ended cancelled")

    aio.run(main())
    assert log == ["abandoned the first wait", "TimeoutError"]


def test_wait_for_result_and_timeout() -> None:
    """wait_for returns the result in time; past the delay it cancels the awaitable
    (a coroutine or a task) and raises TimeoutError."""
    log: list[str] = []

    async def quick() -> int:
        await aio.sleep0()
        return 7

    async def main() -> None:
        assert await aio.wait_for(quick(), 5) == 7
        assert await aio.wait_for(quick(), None) == 7
        with pytest.raises(TimeoutError):
            await aio.wait_for(_forever(log, "coroutine"), 0.01)
        task = aio.get_running_loop().create_task(_forever(log, "task"))
        with pytest.raises(TimeoutError):
            await aio.wait_for(task, 0.01)
        assert task.cancelled()

    aio.run(main())
    assert log == ["coroutine", "task"]


# --------------------------------------------------------------------------- gather, wait


def test_gather_keeps_argument_order() -> None:
    """gather's results follow the arguments' order, not the order of finishing."""

    async def after(turns: int, value: str) -> str:
        await _turns(turns)
        return value

    async def main() -> list[Any]:
        done = aio.get_running_loop().create_future()
        done.set_result("future")
        return await aio.gather(after(3, "slow"), after(0, "fast"), done, after(1, "mid"))

    assert aio.run(main()) == ["slow", "fast", "future", "mid"]


def test_gather_return_exceptions() -> None:
    """return_exceptions=True puts each failure in its place among the results."""
    error = KeyError("k")

    async def fail() -> None:
        await aio.sleep0()
        raise error

    async def ok() -> int:
        return 1

    async def main() -> list[Any]:
        return await aio.gather(ok(), fail(), ok(), return_exceptions=True)

    assert aio.run(main()) == [1, error, 1]


def test_gather_raises_first_failure_in_order_after_all_finished() -> None:
    """Without return_exceptions: the first failure in argument order, raised only once
    every awaitable finished (none left running)."""

    async def fail_late() -> None:
        await _turns(3)
        raise ValueError("first argument, fails last")

    async def fail_early() -> None:
        raise KeyError("second argument, fails first")

    async def slow() -> str:
        await _turns(6)
        return "slow"

    async def main() -> None:
        loop = aio.get_running_loop()
        tasks = [loop.create_task(c) for c in (fail_late(), fail_early(), slow())]
        with pytest.raises(ValueError, match="fails last"):
            await aio.gather(*tasks)
        assert all(t.done() for t in tasks)
        assert tasks[2].result() == "slow"
        assert aio.all_tasks() == {aio.current_task()}

    aio.run(main())


def test_cancelling_gather_cancels_children() -> None:
    """Cancelling the task awaiting gather cancels every child, which finish first."""
    log: list[str] = []

    async def main() -> None:
        loop = aio.get_running_loop()
        children = [loop.create_task(_forever(log, name)) for name in ("a", "b")]
        outer = loop.create_task(aio.gather(*children))
        await _turns(3)
        outer.cancel()
        with pytest.raises(aio.CancelledError):
            await outer
        assert all(c.cancelled() for c in children)
        assert sorted(log) == ["a", "b"]

    aio.run(main())


def test_wait_first_completed() -> None:
    """FIRST_COMPLETED returns once one is done; the others stay pending, not cancelled."""

    async def main() -> None:
        loop = aio.get_running_loop()
        first = loop.create_future()
        second = loop.create_task(_forever())
        loop.call_soon(first.set_result, 1)
        done, pending = await aio.wait({first, second}, return_when=aio.FIRST_COMPLETED)
        assert done == {first}
        assert pending == {second}
        await aio.sleep0()
        assert not second.done()
        second.cancel()

    aio.run(main())


def test_wait_timeout_and_all_completed() -> None:
    """wait(timeout=) returns when time is up and cancels nothing; ALL_COMPLETED waits
    for all."""

    async def main() -> None:
        loop = aio.get_running_loop()
        stuck = loop.create_task(_forever())
        done, pending = await aio.wait({stuck}, timeout=0.01)
        assert (done, pending) == (set(), {stuck})
        await aio.sleep0()
        assert not stuck.done()
        stuck.cancel()
        a = loop.create_task(_turns(2))
        b = loop.create_task(_turns(4))
        done, pending = await aio.wait({a, b})
        assert (done, pending) == ({a, b}, set())

    aio.run(main())


def test_wait_all_completed_with_one_already_done() -> None:
    """ALL_COMPLETED with a future already done still waits for the pending one."""

    async def main() -> None:
        loop = aio.get_running_loop()
        finished = loop.create_future()
        finished.set_result(None)
        later = loop.create_task(_turns(3))
        done, pending = await aio.wait({finished, later})
        assert (done, pending) == ({finished, later}, set())

    aio.run(main())


def test_wait_timeout_with_one_already_done_waits_the_timeout() -> None:
    """wait(timeout=) with a future already done and one stuck waits for the timeout,
    and returns the pending one that finished meanwhile as done."""

    async def main() -> None:
        loop = aio.get_running_loop()
        finished = loop.create_future()
        finished.set_result(None)
        soon = loop.create_task(_turns(3))
        done, pending = await aio.wait({finished, soon}, timeout=5)
        assert (done, pending) == ({finished, soon}, set())

    aio.run(main())


# --------------------------------------------------------------------------- semaphore


def test_semaphore_bounds_holders() -> None:
    """No more than N tasks hold a Semaphore(N) at once; everybody gets a turn."""
    holding = 0
    peak = 0
    served: list[int] = []

    async def worker(n: int, sem: aio.Semaphore) -> None:
        nonlocal holding, peak
        async with sem:
            holding += 1
            peak = max(peak, holding)
            await _turns(3)
            holding -= 1
            served.append(n)

    async def main() -> None:
        sem = aio.Semaphore(2)
        await aio.gather(*(worker(n, sem) for n in range(7)))
        assert not sem.locked()

    aio.run(main())
    assert peak == 2
    assert sorted(served) == list(range(7))


def test_semaphore_serves_waiters_in_order() -> None:
    """Waiters get the semaphore first come, first served."""
    order: list[int] = []

    async def waiter(n: int, sem: aio.Semaphore) -> None:
        async with sem:
            order.append(n)
            await aio.sleep0()

    async def main() -> None:
        loop = aio.get_running_loop()
        sem = aio.Semaphore(1)
        await sem.acquire()
        tasks = []
        for n in range(5):
            tasks.append(loop.create_task(waiter(n, sem)))
            await aio.sleep0()  # n is queued before n + 1 starts
        sem.release()
        await aio.gather(*tasks)

    aio.run(main())
    assert order == [0, 1, 2, 3, 4]


def test_semaphore_cancelled_waiter_does_not_leak_a_slot() -> None:
    """A waiter cancelled while queued takes no slot: the next waiter is served, and
    afterwards exactly one slot is free."""

    async def main() -> None:
        loop = aio.get_running_loop()
        sem = aio.Semaphore(1)
        await sem.acquire()
        a = loop.create_task(sem.acquire())
        b = loop.create_task(sem.acquire())
        await _turns(2)
        a.cancel()  # its future is cancelled but still queued when the slot comes free
        sem.release()
        assert await aio.wait_for(b, 1) is True
        assert a.cancelled()
        assert sem.locked()
        sem.release()
        assert not sem.locked()
        await sem.acquire()
        assert sem.locked()  # one slot, not two

    aio.run(main())


def test_semaphore_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    """A waiter handed the slot and cancelled before it resumed passes the slot on."""

    async def main() -> None:
        loop = aio.get_running_loop()
        sem = aio.Semaphore(1)
        await sem.acquire()
        a = loop.create_task(sem.acquire())
        b = loop.create_task(sem.acquire())
        await _turns(2)
        sem.release()  # hands the slot to a ...
        a.cancel()  # ... which is cancelled before it runs again
        assert await aio.wait_for(b, 1) is True
        assert a.cancelled()
        assert sem.locked()
        sem.release()
        assert not sem.locked()
        await sem.acquire()
        assert sem.locked()

    aio.run(main())


# --------------------------------------------------------------------------- task group


def test_taskgroup_waits_for_all_children() -> None:
    """The block ends only when every child finished."""

    async def child(turns: int) -> int:
        await _turns(turns)
        return turns

    async def main() -> None:
        async with aio.TaskGroup() as group:
            tasks = [group.create_task(child(n)) for n in (5, 1, 3)]
        assert [t.result() for t in tasks] == [5, 1, 3]

    aio.run(main())


def test_taskgroup_failure_cancels_siblings_and_body() -> None:
    """A failing child cancels its siblings and the block's own await; the failure
    surfaces as an ExceptionGroup."""
    log: list[str] = []

    async def fail() -> None:
        await aio.sleep0()
        raise ValueError("child failed")

    async def main() -> None:
        try:
            async with aio.TaskGroup() as group:
                sibling = group.create_task(_forever(log, "sibling"))
                group.create_task(fail())
                try:
                    await _forever()
                except aio.CancelledError:
                    log.append("body")
                    raise
        except* ValueError as caught:
            log.append(f"group: {[str(e) for e in caught.exceptions]}")
        assert sibling.cancelled()
        assert aio.current_task().cancelling() == 0  # type: ignore[union-attr]
        await aio.sleep0()  # and the task itself is not cancelled afterwards

    aio.run(main())
    assert sorted(log[:2]) == ["body", "sibling"]
    assert log[2:] == ["group: ['child failed']"]


def test_taskgroup_failure_while_exiting() -> None:
    """A child failing after the body finished still cancels its siblings and is raised."""
    log: list[str] = []

    async def fail() -> None:
        await _turns(2)
        raise OSError("late")

    async def main() -> None:
        try:
            async with aio.TaskGroup() as group:
                group.create_task(_forever(log, "sibling"))
                group.create_task(fail())
        except* OSError as caught:
            log.append(str(caught.exceptions[0]))

    aio.run(main())
    assert log == ["sibling", "late"]


def test_cancelling_the_parent_cancels_children() -> None:
    """Cancelling the task inside a TaskGroup block cancels the children; the parent ends
    cancelled."""
    log: list[str] = []

    async def parent() -> None:
        async with aio.TaskGroup() as group:
            group.create_task(_forever(log, "a"))
            group.create_task(_forever(log, "b"))
            await _forever(log, "body")

    async def main() -> None:
        task = aio.get_running_loop().create_task(parent())
        await _turns(3)
        task.cancel()
        with pytest.raises(aio.CancelledError):
            await task
        assert task.cancelled()

    aio.run(main())
    assert sorted(log) == ["a", "b", "body"]


# --------------------------------------------------------------------------- sockets


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def test_sock_recv_waits_for_data_and_sees_close() -> None:
    """sock_recv waits until data arrives and returns b"" once the peer closed."""
    a, b = _pair()

    async def main() -> list[bytes]:
        loop = aio.get_running_loop()
        got: list[bytes] = []

        async def reader() -> None:
            got.append(await loop.sock_recv(a, 100))
            got.append(await loop.sock_recv(a, 100))

        task = loop.create_task(reader())
        await _turns(3)
        assert got == []  # nothing to read yet: still waiting
        await loop.sock_sendall(b, b"hello")
        await _turns(3)
        b.close()
        await aio.wait_for(task, 2)
        return got

    try:
        assert aio.run(main()) == [b"hello", b""]
    finally:
        a.close()
        b.close()


def test_sock_sendall_larger_than_the_buffer() -> None:
    """sock_sendall delivers 4 MiB, far more than the socket buffer, to a slow reader."""
    a, b = _pair()
    payload = bytes(range(256)) * (4 * 1024 * 1024 // 256)

    async def main() -> bytes:
        loop = aio.get_running_loop()
        received = bytearray()

        async def slow_reader() -> None:
            while len(received) < len(payload):
                chunk = await loop.sock_recv(b, 65536)
                if not chunk:
                    return
                received.extend(chunk)
                await aio.sleep0()

        reader = loop.create_task(slow_reader())
        async with aio.timeout(2):
            await loop.sock_sendall(a, payload)
            await reader
        return bytes(received)

    try:
        assert a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < len(payload)
        got = aio.run(main())
    finally:
        a.close()
        b.close()
    assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()


def test_sock_connect_loopback() -> None:
    """sock_connect reaches a listening loopback socket and raises ConnectionRefusedError
    for a closed port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = listener.getsockname()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()  # bound, never listening: refused

            async def main() -> None:
                loop = aio.get_running_loop()
                with socket.socket() as client:
                    client.setblocking(False)
                    await aio.wait_for(loop.sock_connect(client, address), 2)
                    assert client.getpeername() == address
                with socket.socket() as client:
                    client.setblocking(False)
                    with pytest.raises(ConnectionRefusedError):
                        await aio.wait_for(loop.sock_connect(client, closed), 2)

            aio.run(main())
            accepted, _ = listener.accept()
            accepted.close()


def test_sock_read_and_write_on_one_socket_at_once() -> None:
    """One task sends 1 MiB on a socket while another reads the echo from the same
    socket: a reader and a writer on one fd do not displace each other."""
    a, b = _pair()
    payload = bytes(range(251)) * (1024 * 1024 // 251)

    async def pump(loop: aio.Loop, source: socket.socket, sink: socket.socket | None) -> bytes:
        got = bytearray()
        while len(got) < len(payload):
            chunk = await loop.sock_recv(source, 65536)
            if not chunk:
                break
            got.extend(chunk)
            if sink is not None:
                await loop.sock_sendall(sink, chunk)
        return bytes(got)

    async def main() -> bytes:
        loop = aio.get_running_loop()
        echo = loop.create_task(pump(loop, b, b))
        back = loop.create_task(pump(loop, a, None))
        async with aio.timeout(2):
            await loop.sock_sendall(a, payload)
            await echo
            return await back

    try:
        got = aio.run(main())
    finally:
        a.close()
        b.close()
    assert got == payload


def test_cancelled_sock_recv_removes_its_reader() -> None:
    """Cancelling a task blocked in sock_recv unregisters the socket; it can be waited on
    again afterwards."""
    a, b = _pair()

    async def main() -> bytes:
        loop = aio.get_running_loop()
        task = loop.create_task(loop.sock_recv(a, 10))
        await _turns(2)
        task.cancel()
        with pytest.raises(aio.CancelledError):
            await task
        selector: selectors.BaseSelector = loop._selector  # white-box: no reader left
        assert a.fileno() not in selector.get_map()
        again = loop.create_task(loop.sock_recv(a, 10))
        await _turns(2)
        b.send(b"again")
        return await aio.wait_for(again, 2)

    try:
        assert aio.run(main()) == b"again"
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------- callbacks


def test_call_later_order_and_handle_cancel() -> None:
    """call_later callbacks run in time order; a cancelled handle never runs; call_soon
    callbacks run in the order scheduled."""
    order: list[str] = []

    async def main() -> None:
        loop = aio.get_running_loop()
        done = loop.create_future()
        loop.call_later(0.03, order.append, "30ms")
        loop.call_later(0.01, order.append, "10ms")
        loop.call_later(0.02, order.append, "20ms").cancel()
        loop.call_later(0.015, order.append, "15ms")
        loop.call_later(0.04, done.set_result, None)
        loop.call_soon(order.append, "soon 1")
        loop.call_soon(order.append, "soon 2").cancel()
        loop.call_soon(order.append, "soon 3")
        await done

    aio.run(main())
    assert order == ["soon 1", "soon 3", "10ms", "15ms", "30ms"]


@pytest.mark.timeout(10)
def test_call_soon_threadsafe_wakes_a_blocked_loop() -> None:
    """A callback from another thread wakes a loop waiting with no timers at all."""

    async def main() -> str:
        loop = aio.get_running_loop()
        future: aio.Future[str] = loop.create_future()

        def other_thread() -> None:
            time.sleep(0.02)  # let the loop block in select() first
            loop.call_soon_threadsafe(future.set_result, "woken")

        thread = threading.Thread(target=other_thread)
        thread.start()
        try:
            return await future
        finally:
            thread.join()

    assert aio.run(main()) == "woken"


# --------------------------------------------------------------------------- threads


def test_run_in_thread_result_and_exception() -> None:
    """run_in_thread delivers the function's result, or raises its exception."""

    def boom() -> None:
        raise LookupError("from the thread")

    async def main() -> None:
        loop = aio.get_running_loop()
        assert await loop.run_in_thread(pow, 2, 10) == 1024
        ident = await loop.run_in_thread(threading.get_ident)
        assert ident != threading.get_ident()
        with pytest.raises(LookupError, match="from the thread"):
            await loop.run_in_thread(boom)

    aio.run(main())


def test_run_in_thread_uses_at_most_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With more blocking jobs than WORKERS, no more than WORKERS threads are started,
    and every job still runs."""
    monkeypatch.setattr(aio, "WORKERS", 3)
    go = threading.Event()
    peak = 0

    def job(n: int) -> int:
        go.wait(5)
        return n

    async def main() -> list[int]:
        nonlocal peak
        loop = aio.get_running_loop()
        futures = [loop.run_in_thread(job, n) for n in range(10)]
        peak = len(loop._workers)  # white-box: every thread it ever started
        go.set()
        return await aio.wait_for(aio.gather(*futures), 5)

    assert aio.run(main()) == list(range(10))
    assert peak == 3


def test_no_worker_left_after_run() -> None:
    """Once run() returns, no idle worker thread is left alive."""
    started: list[threading.Thread] = []

    async def main() -> None:
        loop = aio.get_running_loop()
        await aio.gather(*(loop.run_in_thread(time.sleep, 0.001) for _ in range(4)))
        started.extend(loop._workers)
        for _ in range(2000):  # white-box: wait until every worker is idle again
            if loop._idle_workers == len(loop._workers):
                return
            await aio.sleep(0.001)
        raise AssertionError("workers never went idle")

    aio.run(main())
    assert started
    assert [t for t in started if t.is_alive()] == []


# --------------------------------------------------------------------------- Ctrl-C

_CTRL_C = """
from mailtls import aio

async def hang():
    await WAIT

async def main():
    sibling = aio.get_running_loop().create_task(hang())
    try:
        print("ready", flush=True)
        await hang()
    except aio.CancelledError:
        print("main cancelled", flush=True)
        raise
    finally:
        # Only main is cancelled at first; the others after it finished (as asyncio.run).
        print("cleaned, sibling cancelling:", sibling.cancelling(), flush=True)

aio.run(main())
print("returned normally", flush=True)
"""


@pytest.mark.parametrize(
    "wait",
    ["aio.sleep(30)", "aio.get_running_loop().create_future()"],
    ids=["timer", "no-timer"],
)
def test_ctrl_c_cancels_main_then_raises_keyboard_interrupt(wait: str) -> None:
    """SIGINT cancels the main coroutine alone (its finally runs, other tasks untouched
    yet), then run() raises KeyboardInterrupt."""
    with subprocess.Popen(
        [sys.executable, "-c", _CTRL_C.replace("WAIT", wait)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                assert selector.select(5), "the script never said ready"
            assert process.stdout.readline() == "ready\n"
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=5)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert out == "main cancelled\ncleaned, sibling cancelling: 0\n"
    assert process.returncode != 0
    assert "KeyboardInterrupt" in err


def test_cancelled_timers_do_not_pile_up_or_keep_what_they_hold() -> None:
    """A probe cancels a long timer at every wait; a fleet makes thousands. They leave the
    heap (not only when due, minutes later) and let go of their callback's objects at once."""
    import gc
    import weakref

    class Held:
        pass

    async def main() -> None:
        loop = aio.get_running_loop()
        held = Held()
        ref = weakref.ref(held)
        first = loop.call_later(3600, lambda _x: None, held)
        del held
        first.cancel()
        gc.collect()
        assert ref() is None  # cancelled: its argument is free now
        for _ in range(5000):
            async with aio.timeout(3600):
                await aio.sleep0()
        assert len(loop._timers) < 200  # private: the heap itself
        keep = loop.call_later(0.01, lambda: None)
        assert keep in loop._timers
        await aio.sleep(0.02)  # a live timer still fires after pruning

    aio.run(main())
