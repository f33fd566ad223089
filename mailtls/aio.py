"""The check's event loop: coroutines on non-blocking sockets, without asyncio (issue 8).

A one-host check is CPU-bound from start to end, and importing asyncio (with the logging,
subprocess, concurrent.futures and signal modules it pulls in) was about a tenth of its CPU
time: ~30 ms of a ~250 ms check on the benchmark machine, measured with the rest of the
check's imports already loaded. The probe needs a small part of asyncio: tasks, futures,
readiness of a few sockets, timers, timeouts, semaphores, a task group and waiting on a
thread. This module is that part, with asyncio's semantics where mailtls relies on them:

* a :class:`Task` runs a coroutine; ``cancel()`` throws :class:`CancelledError` into it at
  its current ``await`` (``finally`` blocks run), and ``uncancel()`` counts requests as
  Python 3.12's asyncio does;
* :func:`timeout` turns its own cancellation into ``TimeoutError`` and leaves anybody
  else's alone; :func:`wait_for` is a timeout around one awaitable;
* :func:`gather` waits for every awaitable (cancelling it cancels them all, and it never
  leaves one running behind a raised exception); :func:`wait`; :class:`Semaphore` (FIFO);
  :class:`TaskGroup` (a failing child cancels its siblings; errors are raised together as an
  ``ExceptionGroup``);
* :meth:`Loop.run_in_thread` runs blocking work (dnspython's resolver) on worker threads
  started as needed; :meth:`Loop.call_soon_threadsafe` wakes the loop from another thread;
* :func:`run` runs a coroutine to the end; Ctrl-C cancels it (its ``finally`` blocks close
  the sockets) and then raises ``KeyboardInterrupt``, as ``asyncio.run`` does.

Only what mailtls (and, for ``sleep``, its tests) uses is here; ``tests/test_aio.py`` holds
each behaviour. The TUI and the tests' servers still use asyncio (textual is built on it);
the check never does.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal without its enums (~1 ms)
import contextlib
import heapq
import os
import selectors
import socket
import threading
import time
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

FIRST_COMPLETED = "FIRST_COMPLETED"
ALL_COMPLETED = "ALL_COMPLETED"

#: Threads :meth:`Loop.run_in_thread` starts at most, as needed (DNS queries wait on the
#: network; a fleet resolves up to 2 x --concurrency names at once).
WORKERS = 128


class CancelledError(BaseException):
    """A task was cancelled (a BaseException, as asyncio's, so ``except Exception`` lets it by)."""


class InvalidStateError(Exception):
    """A future's result was set twice, or asked for before it was set."""


_running = threading.local()


def get_running_loop() -> Loop:
    """The loop running in this thread; RuntimeError outside one."""
    loop: Loop | None = getattr(_running, "loop", None)
    if loop is None:
        raise RuntimeError("no mailtls.aio loop is running in this thread")
    return loop


def current_task() -> Task[Any] | None:
    """The task whose coroutine is running now, or None."""
    loop: Loop | None = getattr(_running, "loop", None)
    return loop._current if loop is not None else None


def all_tasks() -> set[Task[Any]]:
    """The running loop's tasks that are not done yet."""
    return {task for task in get_running_loop()._tasks if not task.done()}


# --------------------------------------------------------------------------- futures


_PENDING, _CANCELLED, _FINISHED = 0, 1, 2


class Future(Generic[T]):
    """A result that will be set later; ``await`` it inside a task."""

    __slots__ = ("_callbacks", "_exception", "_loop", "_result", "_state")

    def __init__(self, loop: Loop) -> None:
        self._loop = loop
        self._state = _PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Any], object]] = []

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        if self._state == _CANCELLED:
            raise CancelledError()
        if self._state == _PENDING:
            raise InvalidStateError("result is not set yet")
        if self._exception is not None:
            raise self._exception
        result: T = self._result
        return result

    def exception(self) -> BaseException | None:
        if self._state == _CANCELLED:
            raise CancelledError()
        if self._state == _PENDING:
            raise InvalidStateError("exception is not set yet")
        return self._exception

    def set_result(self, result: T) -> None:
        if self._state != _PENDING:
            raise InvalidStateError("result already set")
        self._result = result
        self._state = _FINISHED
        self._schedule_callbacks()

    def set_exception(self, exception: BaseException) -> None:
        if self._state != _PENDING:
            raise InvalidStateError("result already set")
        self._exception = exception
        self._state = _FINISHED
        self._schedule_callbacks()

    def cancel(self) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._schedule_callbacks()
        return True

    def add_done_callback(self, callback: Callable[[Any], object]) -> None:
        if self._state != _PENDING:
            self._loop.call_soon(callback, self)
        else:
            self._callbacks.append(callback)

    def remove_done_callback(self, callback: Callable[[Any], object]) -> None:
        self._callbacks = [c for c in self._callbacks if c != callback]

    def _schedule_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._loop.call_soon(callback, self)

    def __await__(self) -> Generator[Any, None, T]:
        if self._state == _PENDING:
            yield self  # the task waits until this future is done
        return self.result()


class Task(Future[T]):
    """Runs a coroutine on the loop, one step per wake-up."""

    __slots__ = ("_coro", "_must_cancel", "_num_cancels", "_waiter")

    def __init__(self, coro: Coroutine[Any, Any, T], loop: Loop) -> None:
        super().__init__(loop)
        self._coro = coro
        self._waiter: Future[Any] | None = None
        self._must_cancel = False
        self._num_cancels = 0
        loop._tasks.add(self)
        loop.call_soon(self._step)

    def cancel(self) -> bool:
        """Ask the coroutine to stop: CancelledError at its current ``await``."""
        if self.done():
            return False
        self._num_cancels += 1
        if self._waiter is not None and self._waiter.cancel():
            return True  # the waiter's callback wakes the task with CancelledError
        self._must_cancel = True
        return True

    def uncancel(self) -> int:
        """Withdraw one cancellation request (a timeout that handled its own)."""
        if self._num_cancels > 0:
            self._num_cancels -= 1
            if self._num_cancels == 0:
                self._must_cancel = False
        return self._num_cancels

    def cancelling(self) -> int:
        return self._num_cancels

    def _step(self, exc: BaseException | None = None) -> None:
        if self.done():
            return
        if self._must_cancel:
            if not isinstance(exc, CancelledError):
                exc = CancelledError()
            self._must_cancel = False
        self._waiter = None
        loop = self._loop
        loop._current = self
        try:
            yielded = self._coro.send(None) if exc is None else self._coro.throw(exc)
        except StopIteration as stop:
            if self._must_cancel:  # cancelled while finishing: it is cancelled
                self._must_cancel = False
                Future.cancel(self)
            else:
                Future.set_result(self, stop.value)
        except CancelledError:
            Future.cancel(self)
        except (KeyboardInterrupt, SystemExit) as error:
            Future.set_exception(self, error)
            raise
        except BaseException as error:
            Future.set_exception(self, error)
        else:
            if isinstance(yielded, Future):
                self._waiter = yielded
                yielded.add_done_callback(self._wakeup)
                if self._must_cancel and yielded.cancel():
                    self._must_cancel = False
            elif yielded is None:  # a bare yield: another turn after the others
                loop.call_soon(self._step)
            else:
                bad = RuntimeError(f"a task yielded {yielded!r}, not a mailtls.aio Future")
                loop.call_soon(self._step, bad)
        finally:
            loop._current = None
            if self.done():
                loop._tasks.discard(self)

    def _wakeup(self, future: Future[Any]) -> None:
        try:
            future.result()
        except BaseException as error:
            self._step(error)
        else:
            self._step()


def ensure_future(awaitable: Awaitable[T]) -> Future[T]:
    """A future for ``awaitable``: itself when it is one, else a task running it."""
    if isinstance(awaitable, Future):
        return awaitable
    return get_running_loop().create_task(awaitable)  # type: ignore[arg-type]


@types.coroutine
def sleep0() -> Generator[None, None, None]:
    """Let every other ready task run once (asyncio.sleep(0))."""
    yield


async def sleep(delay: float) -> None:
    loop = get_running_loop()
    future: Future[None] = loop.create_future()
    handle = loop.call_later(delay, _set_result_unless_done, future, None)
    try:
        await future
    finally:
        handle.cancel()


def _set_result_unless_done(future: Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception_unless_done(future: Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


# --------------------------------------------------------------------------- combinators


async def _all_done(futures: Iterable[Future[Any]]) -> None:
    """Wait until every future is done (without cancelling any)."""
    pending = [f for f in futures if not f.done()]
    if not pending:
        return
    loop = pending[0]._loop
    waiter: Future[None] = loop.create_future()
    count = len(pending)

    def one_done(_future: Future[Any]) -> None:
        nonlocal count
        count -= 1
        if count == 0 and not waiter.done():
            waiter.set_result(None)

    for future in pending:
        future.add_done_callback(one_done)
    try:
        await waiter
    finally:
        for future in pending:
            future.remove_done_callback(one_done)


async def gather(*awaitables: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    """Every result, in order. Waits for all even when one fails; cancelling the gather
    cancels them all. Without ``return_exceptions`` the first failure (in order) is raised."""
    futures = [ensure_future(a) for a in awaitables]
    try:
        await _all_done(futures)
    except CancelledError:
        for future in futures:
            future.cancel()
        await _shielded_all_done(futures)
        raise
    results: list[Any] = []
    for future in futures:
        if future.cancelled():
            error: BaseException | None = CancelledError()
        else:
            error = future.exception()
        if error is not None:
            if not return_exceptions:
                raise error
            results.append(error)
        else:
            results.append(future.result())
    return results


async def _shielded_all_done(futures: Iterable[Future[Any]]) -> None:
    """Wait for cancelled futures to finish, even if this task is cancelled again meanwhile."""
    futures = list(futures)
    while True:
        try:
            await _all_done(futures)
            return
        except CancelledError:
            for future in futures:
                future.cancel()


async def wait(
    futures: Iterable[Future[Any]],
    timeout: float | None = None,
    return_when: str = ALL_COMPLETED,
) -> tuple[set[Future[Any]], set[Future[Any]]]:
    """(done, pending) once all are done, or the first when ``FIRST_COMPLETED``, or when
    ``timeout`` seconds have passed. Nothing is cancelled."""
    futures = set(futures)
    if not futures:
        raise ValueError("wait() needs at least one future")
    loop = get_running_loop()
    waiter: Future[None] = loop.create_future()
    remaining = len([f for f in futures if not f.done()])

    def one_done(_future: Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if (remaining == 0 or return_when == FIRST_COMPLETED) and not waiter.done():
            waiter.set_result(None)

    handle = None
    if remaining and not (return_when == FIRST_COMPLETED and remaining < len(futures)):
        if timeout is not None:
            handle = loop.call_later(timeout, _set_result_unless_done, waiter, None)
        for future in futures:
            if not future.done():
                future.add_done_callback(one_done)
        try:
            await waiter
        finally:
            if handle is not None:
                handle.cancel()
            for future in futures:
                future.remove_done_callback(one_done)
    done = {f for f in futures if f.done()}
    return done, futures - done


class timeout:  # used as asyncio.timeout is: ``async with timeout(s):``
    """Cancel the current task after ``delay`` seconds (None: never); the cancellation it
    caused leaves the block as ``TimeoutError``."""

    __slots__ = ("_cancelling", "_delay", "_expired", "_handle", "_task")

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._expired = False
        self._handle: Handle | None = None
        self._task: Task[Any] | None = None
        self._cancelling = 0

    async def __aenter__(self) -> timeout:
        task = current_task()
        if task is None:
            raise RuntimeError("timeout() must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()  # requests made before the block are not ours
        if self._delay is not None:
            if self._delay <= 0:  # at the first suspension, before any timer
                self._handle = task._loop.call_soon(self._expire)
            else:
                self._handle = task._loop.call_later(self._delay, self._expire)
        return self

    def _expire(self) -> None:
        assert self._task is not None
        if not self._task.done():
            self._expired = True
            self._task.cancel()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired:
            assert self._task is not None
            left = self._task.uncancel()
            if (
                left <= self._cancelling
                and exc_type is not None
                and issubclass(exc_type, CancelledError)
            ):
                raise TimeoutError from exc


async def wait_for(awaitable: Awaitable[T], delay: float | None) -> T:
    """``awaitable``'s result, or TimeoutError after ``delay`` seconds (it is cancelled)."""
    async with timeout(delay):
        return await awaitable


class Semaphore:
    """At most ``value`` holders at once; waiters are served first come, first served."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("a semaphore's value cannot be negative")
        self._value = value
        self._waiters: deque[Future[None]] = deque()

    def locked(self) -> bool:
        return self._value == 0

    async def acquire(self) -> bool:
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        future: Future[None] = get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future
        except CancelledError:
            if future.done() and not future.cancelled():
                self._value += 1  # handed a slot, then cancelled: pass it on
                self._wake_next()
            raise
        finally:
            if future in self._waiters:
                self._waiters.remove(future)
        return True

    def release(self) -> None:
        self._value += 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters and self._value > 0:
            future = self._waiters.popleft()
            if not future.done():
                self._value -= 1
                future.set_result(None)
                return

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.release()


class TaskGroup:
    """Tasks that end together: the block waits for all of them; the first failure cancels
    the others (and the block's own task, if it is still inside the block) and every failure
    is raised at the end in one ``ExceptionGroup``."""

    def __init__(self) -> None:
        self._tasks: set[Task[Any]] = set()
        self._errors: list[BaseException] = []
        self._parent: Task[Any] | None = None
        self._waiter: Future[None] | None = None
        self._exiting = False
        self._aborting = False
        self._parent_cancelled = False

    async def __aenter__(self) -> TaskGroup:
        self._parent = current_task()
        if self._parent is None:
            raise RuntimeError("TaskGroup must be used inside a task")
        return self

    def create_task(self, coro: Coroutine[Any, Any, T]) -> Task[T]:
        task = get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        if self._aborting:
            task.cancel()
        return task

    def _abort(self) -> None:
        self._aborting = True
        for task in self._tasks:
            task.cancel()

    def _on_task_done(self, task: Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            error = task.exception()
            if error is not None:
                self._errors.append(error)
                if not self._aborting:
                    self._abort()
                    if not self._exiting and self._parent is not None:
                        self._parent_cancelled = True
                        self._parent.cancel()  # stop the block's own work too
        if not self._tasks and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        self._exiting = True
        cancelled = exc_type is not None and issubclass(exc_type, CancelledError)
        if exc_type is not None and not cancelled:
            self._errors.append(exc)
        if exc_type is not None:
            self._abort()
        while self._tasks:
            self._waiter = get_running_loop().create_future()
            try:
                await self._waiter
            except CancelledError:
                cancelled = True
                self._abort()
        assert self._parent is not None
        if self._parent_cancelled:
            self._parent.uncancel()
            if self._parent.cancelling() == 0:
                cancelled = False  # the cancellation was ours, raised as the errors below
        errors, self._errors = self._errors, []
        if errors:
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors)
        if cancelled:
            raise CancelledError()


# --------------------------------------------------------------------------- the loop


class Handle:
    """A callback scheduled on the loop; ``cancel()`` before it runs skips it."""

    __slots__ = ("_args", "_callback", "_cancelled")

    def __init__(self, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self._callback = callback
        self._args = args
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        # What the callback holds (a task, its coroutine, sockets) is let go now, not when
        # the handle would have run: a fleet's probes cancel thousands of long timeouts.
        self._callback = _nothing
        self._args = ()

    def _run(self) -> None:
        if not self._cancelled:
            self._callback(*self._args)


def _nothing(*_args: Any) -> None:
    pass


class TimerHandle(Handle):
    """A callback due at ``when`` (time.monotonic() seconds)."""

    __slots__ = ("_loop", "when")

    def __init__(
        self, when: float, callback: Callable[..., object], args: tuple[Any, ...], loop: Loop
    ) -> None:
        super().__init__(callback, args)
        self.when = when
        self._loop: Loop | None = loop  # None once the loop has taken it off its heap

    def cancel(self) -> None:
        if not self._cancelled:
            super().cancel()
            if self._loop is not None:
                self._loop._cancelled_timers += 1

    def __lt__(self, other: TimerHandle) -> bool:
        return self.when < other.when


class Loop:
    """One thread's event loop: ready callbacks, timers and socket readiness (selectors)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._ready: deque[Handle] = deque()
        self._timers: list[TimerHandle] = []  # a heap; cancelled ones are dropped lazily
        self._cancelled_timers = 0  # cancelled timers still on the heap
        self._tasks: set[Task[Any]] = set()
        self._current: Task[Any] | None = None
        self._closed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(
            self._wake_r.fileno(), selectors.EVENT_READ, (Handle(self._drain, ()), None)
        )
        self._jobs: deque[Callable[[], None]] = deque()
        self._jobs_ready = threading.Condition(threading.Lock())
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0

    # callbacks and timers

    def call_soon(self, callback: Callable[..., object], *args: Any) -> Handle:
        handle = Handle(callback, args)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay, callback, args, self)
        heapq.heappush(self._timers, handle)
        return handle

    def _pop_timer(self) -> TimerHandle:
        handle = heapq.heappop(self._timers)
        handle._loop = None
        if handle._cancelled:
            self._cancelled_timers -= 1
        return handle

    def _prune_timers(self) -> None:
        """Drop cancelled timers: from the front of the heap, and all of them once they are
        most of it (each probe wait cancels a timer due seconds later; without this a
        fleet's heap would hold thousands)."""
        timers = self._timers
        if self._cancelled_timers > 64 and self._cancelled_timers * 2 > len(timers):
            kept = []
            for handle in timers:
                if handle._cancelled:
                    handle._loop = None
                else:
                    kept.append(handle)
            heapq.heapify(kept)
            self._timers = kept
            self._cancelled_timers = 0
            return
        while timers and timers[0]._cancelled:
            self._pop_timer()

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> Handle:
        """Schedule from another thread (the loop wakes up); ignored once the loop closed."""
        handle = Handle(callback, args)
        if self._closed:
            return handle
        self._ready.append(handle)
        # OSError: the wake-up pipe is full (the loop is waking anyway) or closed.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        return handle

    def _drain(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def create_future(self) -> Future[Any]:
        return Future(self)

    def create_task(self, coro: Coroutine[Any, Any, T]) -> Task[T]:
        return Task(coro, self)

    # sockets

    def _handles(self, fd: int) -> tuple[Handle | None, Handle | None]:
        key = self._selector.get_map().get(fd)
        return (None, None) if key is None else key.data  # type: ignore[no-any-return]

    def _update(self, fd: int, reader: Handle | None, writer: Handle | None) -> None:
        """Wait on ``fd`` for what its handles wait for (unregistered when for nothing)."""
        mask = (selectors.EVENT_READ if reader else 0) | (selectors.EVENT_WRITE if writer else 0)
        registered = fd in self._selector.get_map()
        if not mask:
            if registered:
                self._selector.unregister(fd)
        elif registered:
            self._selector.modify(fd, mask, (reader, writer))
        else:
            self._selector.register(fd, mask, (reader, writer))

    def add_reader(self, fd: int, callback: Callable[..., object], *args: Any) -> None:
        self._update(fd, Handle(callback, args), self._handles(fd)[1])

    def remove_reader(self, fd: int) -> None:
        self._update(fd, None, self._handles(fd)[1])

    def add_writer(self, fd: int, callback: Callable[..., object], *args: Any) -> None:
        self._update(fd, self._handles(fd)[0], Handle(callback, args))

    def remove_writer(self, fd: int) -> None:
        self._update(fd, self._handles(fd)[0], None)

    async def sock_recv(self, sock: socket.socket, size: int) -> bytes:
        """Up to ``size`` bytes once the socket is readable (b"" when the peer closed)."""
        try:
            return sock.recv(size)
        except (BlockingIOError, InterruptedError):
            pass
        future: Future[bytes] = self.create_future()
        fd = sock.fileno()

        def readable() -> None:
            if future.done():
                return
            try:
                data = sock.recv(size)
            except (BlockingIOError, InterruptedError):
                return
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(data)

        self.add_reader(fd, readable)
        try:
            return await future
        finally:
            self.remove_reader(fd)

    async def sock_sendall(self, sock: socket.socket, data: bytes) -> None:
        """Send all of ``data``, waiting for room as often as needed."""
        view = memoryview(data)
        try:
            sent = sock.send(view)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent == len(view):
            return
        future: Future[None] = self.create_future()
        fd = sock.fileno()
        offset = sent

        def writable() -> None:
            nonlocal offset
            if future.done():
                return
            try:
                offset += sock.send(view[offset:])
            except (BlockingIOError, InterruptedError):
                return
            except BaseException as error:
                future.set_exception(error)
                return
            if offset == len(view):
                future.set_result(None)

        self.add_writer(fd, writable)
        try:
            await future
        finally:
            self.remove_writer(fd)

    async def sock_connect(self, sock: socket.socket, address: tuple[Any, ...]) -> None:
        """Connect a non-blocking socket to an IP address; raises what connect() would."""
        try:
            sock.connect(address)
            return
        except (BlockingIOError, InterruptedError):
            pass
        await self.sock_connected(sock)

    async def sock_connected(self, sock: socket.socket) -> None:
        """Wait for a connect already under way on ``sock`` (started here or elsewhere, e.g.
        :mod:`mailtls.probe.preconnect`); raise its error as connect() would."""
        await self.wait_writable(sock)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, os.strerror(error))

    async def wait_writable(self, sock: socket.socket) -> None:
        future: Future[None] = self.create_future()
        fd = sock.fileno()
        self.add_writer(fd, _set_result_unless_done, future, None)
        try:
            await future
        finally:
            self.remove_writer(fd)

    # threads

    def run_in_thread(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run blocking ``function(*args)`` on a worker thread; its result as a future."""
        future: Future[T] = self.create_future()

        def job() -> None:
            if future.done():  # cancelled while queued
                return
            try:
                result = function(*args)
            except BaseException as error:
                self.call_soon_threadsafe(_set_exception_unless_done, future, error)
            else:
                self.call_soon_threadsafe(_set_result_unless_done, future, result)

        with self._jobs_ready:
            self._jobs.append(job)
            if self._idle_workers == 0 and len(self._workers) < WORKERS:
                worker = threading.Thread(target=self._work, name="mailtls-worker", daemon=True)
                self._workers.append(worker)
                worker.start()
            else:
                self._jobs_ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._jobs_ready:
                while not self._jobs and not self._closed:
                    self._idle_workers += 1
                    self._jobs_ready.wait()
                    self._idle_workers -= 1
                if not self._jobs:
                    return  # closed
                job = self._jobs.popleft()
            job()

    # running

    def _run_once(self) -> None:
        if self._cancelled_timers:
            self._prune_timers()
        timeout: float | None = 0.0
        if not self._ready:
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0].when - time.monotonic())
        for key, mask in self._selector.select(timeout):
            reader, writer = key.data
            if mask & selectors.EVENT_READ and reader is not None:
                self._ready.append(reader)
            if mask & selectors.EVENT_WRITE and writer is not None:
                self._ready.append(writer)
        if self._timers:
            now = time.monotonic()
            while self._timers and self._timers[0].when <= now:
                handle = self._pop_timer()
                if not handle._cancelled:
                    self._ready.append(handle)
        for _ in range(len(self._ready)):
            self._ready.popleft()._run()

    def run_until_complete(self, future: Future[Any]) -> None:
        previous = getattr(_running, "loop", None)
        _running.loop = self
        try:
            while not future.done():
                self._run_once()
        finally:
            _running.loop = previous

    def close(self) -> None:
        """Stop the worker threads and free the selector. Idle workers are joined; a busy one
        (a DNS query nobody waits for any more) ends on its own when its job returns."""
        with self._jobs_ready:
            self._closed = True
            self._jobs.clear()
            all_idle = self._idle_workers == len(self._workers)
            self._jobs_ready.notify_all()
        if all_idle:
            for worker in self._workers:
                worker.join()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new loop until it ends; its result or its exception.

    Ctrl-C (in the main thread) cancels ``main``; once it has finished (its ``finally``
    blocks ran), KeyboardInterrupt is raised. Tasks still running then are cancelled and
    waited for before the loop closes.
    """
    if getattr(_running, "loop", None) is not None:
        raise RuntimeError("run() cannot be called from a running loop")
    loop = Loop()
    task = loop.create_task(main)
    interrupted = 0
    previous_handler = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:

        def on_sigint(signum: int, frame: types.FrameType | None) -> None:
            nonlocal interrupted
            interrupted += 1
            if interrupted == 1 and not task.done():
                # Cancelled on the loop, not here: the handler may run in the middle of the
                # loop's own bookkeeping (a future half set).
                loop.call_soon_threadsafe(task.cancel)
                return
            raise KeyboardInterrupt()

        previous_handler = _signal.signal(_signal.SIGINT, on_sigint)
    try:
        loop.run_until_complete(task)
        if task.cancelled() and interrupted:
            raise KeyboardInterrupt()
        return task.result()
    finally:
        if previous_handler is not None:
            _signal.signal(_signal.SIGINT, previous_handler)
        try:
            _cancel_all(loop)
        finally:
            loop.close()


def _cancel_all(loop: Loop) -> None:
    left = [task for task in loop._tasks if not task.done()]
    if not left:
        return
    for task in left:
        task.cancel()
    gathered = loop.create_task(_shielded_all_done(left))
    loop.run_until_complete(gathered)
