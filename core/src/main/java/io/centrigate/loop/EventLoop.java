package io.centrigate.loop;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.jctools.queues.MpscUnboundedArrayQueue;

import io.centrigate.config.ProxyContext.IdleMode;

/**
 * One event loop: one {@link Poller} (the transport's readiness engine), one timer wheel, one thread (run by an Agrona {@code AgentRunner}). Everything
 * registered here is touched only by this thread, so none of it needs a lock. Other threads reach the loop
 * only through {@link #execute(Runnable)}, a JCTools MPSC queue drained at the top of every duty cycle.
 * <p>
 * In {@link IdleMode#BLOCK} the loop blocks in {@link Poller#poll} (bounded by the next timer tick) and
 * {@link #execute} wakes it; in the other modes it polls with {@link Poller#pollNow} and the runner's idle strategy
 * spins, yields or backs off when a cycle did no work.
 */
public final class EventLoop implements Agent
{
    /** 2^24 ns (~16.8 ms): timeouts here are seconds, so finer ticks would only cost wake-ups. */
    static final long TICK_NS = 1L << 24;
    private static final int TICKS_PER_WHEEL = 512;
    private static final int COMMANDS_PER_CYCLE = 64;
    private static final int TIMERS_PER_POLL = 256;

    /** Receives the expiry of a timer scheduled with {@link #schedule}. */
    public interface TimerTarget
    {
        void onTimer(long nowNs);
    }

    /** Extra work for each duty cycle (e.g. draining handed-off sockets); returns the work done. */
    public interface Duty
    {
        int doDuty();
    }

    private final String name;
    private final IdleMode idleMode;
    private final Poller poller;
    private final DeadlineTimerWheel wheel;
    private final Long2ObjectHashMap<TimerTarget> timers = new Long2ObjectHashMap<>();
    private final MpscUnboundedArrayQueue<Runnable> commands = new MpscUnboundedArrayQueue<>(256);
    private final DeadlineTimerWheel.TimerHandler onTimerExpiry = this::onTimerExpiry;
    private Duty duty = () -> 0;
    private long nowNs;
    private boolean clockFresh;
    /** When the first ready key of the current select was handled (the clock read for it); 0 if none yet. */
    private long firstKeyNs;
    /** Duty cycles run, select calls that returned ready keys or woke from blocking, and time spent working. */
    private long iterations;
    private long wakeups;
    private long busyNs;
    private volatile Thread thread;
    private volatile boolean closing;

    public EventLoop(final String name, final IdleMode idleMode)
    {
        this(name, idleMode, NioPoller::new);
    }

    /** @param transport opens the loop's poller, given the hook it calls before dispatching readiness. */
    public EventLoop(final String name, final IdleMode idleMode, final Function<Poller.DispatchHook, Poller> transport)
    {
        this.name = name;
        this.idleMode = idleMode;
        this.poller = transport.apply(this::beforeDispatch);
        nowNs = System.nanoTime();
        wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, nowNs, TICK_NS, TICKS_PER_WHEEL);
    }

    public void duty(final Duty duty)
    {
        this.duty = duty;
    }

    /** The loop's clock, read once per duty cycle: cheap and the same for everything in one cycle. */
    public long nowNs()
    {
        return nowNs;
    }

    /** The loop's sockets are made here: connects, listeners, accepted connections. Loop thread only. */
    public Poller poller()
    {
        return poller;
    }

    public boolean inLoop()
    {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code command} on the loop thread; callable from any thread. Cold path only. */
    public void execute(final Runnable command)
    {
        commands.offer(command);
        if (idleMode == IdleMode.BLOCK)
        {
            poller.wakeup();
        }
    }

    /** Wakes a loop blocked in select, e.g. after a handed-off socket was queued for it. */
    public void wakeup()
    {
        if (idleMode == IdleMode.BLOCK)
        {
            poller.wakeup();
        }
    }

    /** Stops blocking in select so the runner can see it is being closed; any thread. */
    public void beginClose()
    {
        closing = true;
        poller.wakeup();
    }

    public long schedule(final TimerTarget target, final long deadlineNs)
    {
        final long id = wheel.scheduleTimer(deadlineNs);
        timers.put(id, target);
        return id;
    }

    public void cancel(final long timerId)
    {
        if (timerId != DeadlineTimerWheel.NULL_DEADLINE)
        {
            wheel.cancelTimer(timerId);
            timers.remove(timerId);
        }
    }

    /** Duty cycles run so far. Loop thread only (read it in a snapshot). */
    public long iterations()
    {
        return iterations;
    }

    /** Select calls that returned ready keys, or returned from blocking (woken, a timer tick). Loop thread only. */
    public long wakeups()
    {
        return wakeups;
    }

    /** Nanoseconds spent in cycles that did work (blocking in select excluded). Loop thread only. */
    public long busyNs()
    {
        return busyNs;
    }

    /** Commands queued by other threads and not yet run (approximate). */
    public int commandQueueDepth()
    {
        return commands.size();
    }

    public int timerCount()
    {
        return (int)wheel.timerCount();
    }

    @Override
    public void onStart()
    {
        thread = Thread.currentThread();
    }

    @Override
    public int doWork() throws IOException
    {
        final long startNs = System.nanoTime();
        nowNs = startNs;
        iterations++;
        int work = drainCommands();
        work += duty.doDuty();
        // A blocking select may return long after nowNs was read: the first ready key re-reads the clock,
        // or a deadline computed from it (e.g. a new connection's header timeout) would already be past.
        clockFresh = false;
        firstKeyNs = 0;
        final boolean blocked;
        final int selected;
        if (idleMode == IdleMode.BLOCK && work == 0 && !closing)
        {
            // Bounded by one tick while timers are pending so they fire on time; otherwise sleep until woken.
            final long timeoutMs = wheel.timerCount() > 0 ? TimeUnit.NANOSECONDS.toMillis(TICK_NS) : 0;
            selected = poller.poll(timeoutMs);
            blocked = true;
        }
        else
        {
            selected = poller.pollNow();
            blocked = false;
        }
        if (blocked || selected > 0)
        {
            wakeups++;
        }
        work += selected;
        nowNs = System.nanoTime();
        // Busy time from the clock reads the cycle makes anyway: a cycle that worked before selecting did not
        // block, so all of it was work; after a blocking select only the time from the first ready key on was.
        if (work > 0)
        {
            busyNs += nowNs - (blocked ? (firstKeyNs != 0 ? firstKeyNs : nowNs) : startNs);
        }
        work += pollTimers();
        return work;
    }

    private int drainCommands()
    {
        int n = 0;
        Runnable command;
        while (n < COMMANDS_PER_CYCLE && (command = commands.poll()) != null)
        {
            command.run();
            n++;
        }
        return n;
    }

    private void beforeDispatch()
    {
        if (!clockFresh)
        {
            nowNs = System.nanoTime();
            clockFresh = true;
            firstKeyNs = nowNs;
        }
    }

    private int pollTimers()
    {
        if (wheel.timerCount() == 0)
        {
            // Nothing pending: keep the wheel's clock current so a later timer is not behind by many ticks.
            wheel.currentTickTime(nowNs);
            return 0;
        }
        int expired = 0;
        // poll() advances one tick per call; catch up if the loop was busy or blocked longer than a tick.
        int rounds = 0;
        do
        {
            expired += wheel.poll(nowNs, onTimerExpiry, TIMERS_PER_POLL);
        }
        while (wheel.currentTickTime() <= nowNs && ++rounds < TICKS_PER_WHEEL && wheel.timerCount() > 0);
        if (wheel.timerCount() == 0)
        {
            wheel.currentTickTime(nowNs);
        }
        return expired;
    }

    private boolean onTimerExpiry(final TimeUnit unit, final long now, final long timerId)
    {
        final TimerTarget target = timers.remove(timerId);
        if (target != null)
        {
            target.onTimer(now);
        }
        return true;
    }

    @Override
    public void onClose()
    {
        poller.close();
    }

    @Override
    public String roleName()
    {
        return name;
    }
}
