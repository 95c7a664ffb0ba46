package io.centrigate.proxy;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.ErrorLog;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.upstream.UpstreamGroup;
import io.centrigate.upstream.UpstreamNames;

/**
 * The running engine: loops started, listeners bound. {@link #close()} stops it in the order a user expects:
 * listeners first (no new clients), then the connections, then the threads.
 */
public final class Proxy implements AutoCloseable
{
    private volatile ProxyContext ctx;
    private final ProxyLoop[] loops;
    private final AgentRunner[] runners;
    private volatile UpstreamGroup[] groups;
    private final AtomicInteger openConnections = new AtomicInteger();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final List<InetSocketAddress> boundTls = new ArrayList<>();
    private final List<InetSocketAddress> boundRedirect = new ArrayList<>();
    /** Nodes a reload or a DNS change removed, while tunnels remain on them: drained at the rebalance rate. */
    private final java.util.Queue<io.centrigate.upstream.NodeTunnels> retiredNodes =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Every listener's bound address, by the index the loops count its connections under (metrics' label). */
    private final List<InetSocketAddress> listeners = new ArrayList<>();
    /** By listener index: whether it requires a PROXY protocol header (fixed at bind, like the addresses). */
    private final List<Boolean> listenerProxyProtocol = new ArrayList<>();
    private final io.centrigate.tls.ReloadableTlsContext tlsContext;
    private final Warmup.Result warmup;
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile boolean draining;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong reloadsOk = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong reloadsFailed = new java.util.concurrent.atomic.AtomicLong();
    private volatile ReloadResult lastReload;
    /** The last good addresses of every upstream name (DNS discovery); replaced, never changed. */
    private volatile java.util.Map<String, List<java.net.InetAddress>> resolved;
    private final UpstreamDiscovery discovery;
    private final Limits limits;

    /** How the last reload ended: when (epoch milliseconds), whether it was applied, and why not. */
    public record ReloadResult(long timeMillis, boolean ok, List<String> errors)
    {
    }
    /** Null unless {@code --access-log}: with it off nothing of the access log exists. */
    private final io.centrigate.metrics.AccessLog accessLog;

    /**
     * {@code warm}: with {@link ProxyContext#warmupNs()} above 0, run the {@link Warmup} before binding, against
     * {@code warmupUpstream} (null: its own in-process node).
     */
    private Proxy(final ProxyContext ctx, final PrintStream log, final boolean warm,
        final InetSocketAddress warmupUpstream) throws IOException
    {
        this.ctx = ctx.conclude();
        final ErrorLog errorLog = new ErrorLog(log);
        // First: a file that cannot be opened is a start-up error before anything else exists.
        accessLog = ctx.accessLog() == null ? null :
            new io.centrigate.metrics.AccessLog(ctx.accessLog(), ctx.accessLogQuery(), ctx.accessLogBuffer(), log);
        final io.centrigate.route.Router router = new io.centrigate.route.Router(ctx);
        tlsContext = ctx.tlsCert() == null ? null : new io.centrigate.tls.ReloadableTlsContext(ctx.tlsCert(), ctx.tlsKey());
        resolved = UpstreamNames.resolveAll(ctx, java.util.Map.of());
        groups = newGroups(ctx, resolved);
        limits = new Limits(this.ctx);
        loops = new ProxyLoop[ctx.loops()];
        for (int i = 0; i < loops.length; i++)
        {
            loops[i] = new ProxyLoop(i, ctx, groups, router, openConnections, errorLog, tlsContext, limits);
        }
        for (final ProxyLoop loop : loops)
        {
            loop.peers(loops);
            loop.retiredNodes(retiredNodes);
        }
        for (final ProxyLoop loop : loops)
        {
            loop.startHealthChecks();
        }
        runners = new AgentRunner[loops.length];
        for (final ProxyLoop loop : loops)
        {
            loop.accessLog(accessLog);
        }
        // Before the warm-up and the listeners: growing the table later stalls a loop at each doubling.
        io.centrigate.loop.DescriptorTable.reserve(this.ctx.fdTableSlots());
        // Before binding: in a handover the old process serves on until this one's listeners exist.
        warmup = warm && ctx.warmupNs() > 0 ? Warmup.run(ctx, ctx.warmupNs(), warmupUpstream) : null;
        try
        {
            bindListeners();
        }
        catch (final IOException | RuntimeException e)
        {
            for (final ProxyLoop loop : loops)
            {
                loop.stopAccepting();
                loop.loop().onClose();
            }
            if (accessLog != null)
            {
                accessLog.close();
            }
            throw e;
        }
        for (int i = 0; i < loops.length; i++)
        {
            runners[i] = new AgentRunner(idleStrategy(ctx.idleMode()),
                t -> errorLog.log("loop", String.valueOf(t)), null, loops[i].loop());
            AgentRunner.startOnThread(runners[i]);
        }
        discovery = new UpstreamDiscovery(this, log);
        discovery.startIfNeeded(ctx);
    }

    /** The groups of {@code c}, names expanded to the addresses of {@code names}, each with its slow start. */
    private static UpstreamGroup[] newGroups(final ProxyContext c, final java.util.Map<String, List<java.net.InetAddress>> names)
    {
        return c.groups().values().stream()
            .map(list -> new UpstreamGroup(UpstreamNames.expand(list, names), c.balance(), c.failTimeoutNs(),
                c.maxEjectedPercent()).slowStartNs(c.slowStartNs()))
            .toArray(UpstreamGroup[]::new);
    }

    /** Warms up if the context asks for it ({@link #warmup()}), then binds the listeners and starts the loops. */
    public static Proxy start(final ProxyContext ctx) throws IOException
    {
        return new Proxy(ctx, System.err, true, null);
    }

    public static Proxy start(final ProxyContext ctx, final PrintStream log) throws IOException
    {
        return new Proxy(ctx, log, true, null);
    }

    /** For tests: the warm-up runs against {@code warmupUpstream} instead of its own node. */
    static Proxy start(final ProxyContext ctx, final PrintStream log, final InetSocketAddress warmupUpstream)
        throws IOException
    {
        return new Proxy(ctx, log, true, warmupUpstream);
    }

    /** The warm-up's own temporary proxy: never warms up itself. */
    static Proxy startCold(final ProxyContext ctx, final PrintStream log) throws IOException
    {
        return new Proxy(ctx, log, false, null);
    }

    /** What the warm-up before binding did; null when {@link ProxyContext#warmupNs()} is 0. */
    public Warmup.Result warmup()
    {
        return warmup;
    }

    private void bindListeners() throws IOException
    {
        bindListeners(ctx.listen(), ProxyLoop.PLAIN, bound);
        bindListeners(ctx.tlsListen(), ProxyLoop.TLS, boundTls);
        if (!boundTls.isEmpty())
        {
            for (final ProxyLoop loop : loops)
            {
                loop.httpsPort(boundTls.get(0).getPort());
            }
        }
        bindListeners(ctx.redirectListen(), ProxyLoop.REDIRECT, boundRedirect);
        final InetSocketAddress[] all = listeners.toArray(new InetSocketAddress[0]);
        final boolean[] proxyProtocol = new boolean[all.length];
        for (int i = 0; i < proxyProtocol.length; i++)
        {
            proxyProtocol[i] = listenerProxyProtocol.get(i);
        }
        for (final ProxyLoop loop : loops)
        {
            loop.listenerAddresses(all, proxyProtocol);
        }
    }

    private void bindListeners(final List<InetSocketAddress> addresses, final int kind, final List<InetSocketAddress> bound)
        throws IOException
    {
        for (final InetSocketAddress requested : addresses)
        {
            final int index = listeners.size();
            listenerProxyProtocol.add(ctx.proxyProtocolOn(requested, kind == ProxyLoop.TLS, kind == ProxyLoop.REDIRECT));
            if (ctx.acceptMode() == ProxyContext.AcceptMode.ACCEPTOR || loops.length == 1)
            {
                final InetSocketAddress local = loops[0].listen(requested, true, true, kind, index);
                bound.add(local);
                listeners.add(local);
                continue;
            }
            // One listener per loop on the same port: the kernel spreads connections, no hand-off thread.
            InetSocketAddress address = requested;
            for (final ProxyLoop loop : loops)
            {
                final InetSocketAddress local = loop.listen(address, true, false, kind, index);
                if (address.getPort() == 0)
                {
                    address = new InetSocketAddress(requested.getAddress(), local.getPort());
                }
            }
            bound.add(address);
            listeners.add(address);
        }
    }

    static IdleStrategy idleStrategy(final ProxyContext.IdleMode mode)
    {
        switch (mode)
        {
            case SPIN: return new BusySpinIdleStrategy();
            case YIELD: return new YieldingIdleStrategy();
            case BACKOFF: return new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1),
                TimeUnit.MILLISECONDS.toNanos(1));
            default: return NoOpIdleStrategy.INSTANCE; // the loop blocks in select itself
        }
    }

    public ProxyContext context()
    {
        return ctx;
    }

    /** The addresses actually bound (port 0 resolved). */
    public List<InetSocketAddress> boundAddresses()
    {
        return List.copyOf(bound);
    }

    /** The Centrifugo nodes of {@code --upstream}. */
    public List<InetSocketAddress> boundTlsAddresses()
    {
        return List.copyOf(boundTls);
    }

    /** Every listener (plain, TLS, redirect, in that order) by the index its connections are counted under. */
    public List<InetSocketAddress> listenerAddresses()
    {
        return List.copyOf(listeners);
    }

    public List<InetSocketAddress> boundRedirectAddresses()
    {
        return List.copyOf(boundRedirect);
    }

    public UpstreamGroup upstreams()
    {
        return groups[0];
    }

    public int openConnections()
    {
        return openConnections.get();
    }

    /** What the client table holds (a walk over it: cold); null while no per-client limit was ever on. */
    public io.centrigate.limit.ClientTable.Census clientTableCensus()
    {
        final io.centrigate.limit.ClientTable table = limits.table();
        return table == null ? null : table.census(System.nanoTime());
    }

    /** About how many upgrades wait for admission ({@code --max-handshake-rate}) now. */
    public long admissionQueued()
    {
        return limits.admission().queued(System.nanoTime());
    }

    /** For tests: the table, null while no per-client limit was ever on. */
    io.centrigate.limit.ClientTable clientTable()
    {
        return limits.table();
    }

    /** Every upstream group by name, the default one ({@code --upstream}) first; reloads replace them. */
    public java.util.Map<String, UpstreamGroup> upstreamGroups()
    {
        final UpstreamGroup[] current = groups;
        final java.util.Map<String, UpstreamGroup> named = new java.util.LinkedHashMap<>();
        int i = 0;
        for (final String name : ctx.groups().keySet())
        {
            if (i < current.length)
            {
                named.put(name, current[i++]);
            }
        }
        return named;
    }

    /**
     * Runs an admin change of a node's state (drain, weight) so that no reload runs meanwhile: a reload copies that
     * state into the groups it builds, and a change made during the copy could be lost.
     */
    public synchronized <T> T adminChange(final java.util.function.Supplier<T> change)
    {
        return change.get();
    }

    /** When this proxy was started (wall clock, epoch milliseconds). */
    public long startedAtMillis()
    {
        return startedAtMillis;
    }

    /** True from the first step of {@link #shutdown(long)} (before the listeners close) or {@link #close()} on. */
    public boolean draining()
    {
        return draining;
    }

    /** True while the listeners are open: after start, before shutdown or close began. */
    public boolean accepting()
    {
        return !draining && !closed;
    }

    /**
     * The first step of a shutdown, also taken alone: readiness turns false (an admin {@code /ready} answers 503)
     * while the listeners still accept, so a load balancer stops sending new clients first.
     */
    public void beginDrain()
    {
        draining = true;
    }

    /** A snapshot of every loop, each taken on its own thread. */
    public List<LoopSnapshot> snapshot(final long timeout, final TimeUnit unit) throws Exception
    {
        final List<CompletableFuture<LoopSnapshot>> futures = new ArrayList<>();
        for (final ProxyLoop loop : loops)
        {
            futures.add(loop.snapshot());
        }
        final List<LoopSnapshot> result = new ArrayList<>();
        for (final CompletableFuture<LoopSnapshot> f : futures)
        {
            result.add(f.get(timeout, unit));
        }
        return result;
    }

    /**
     * Stops the way a restart without dropped WebSockets needs: listeners close first (what waits in the backlog is
     * still taken), idle keep-alive connections close, exchanges and tunnels run on for up to {@code drainTimeoutNs},
     * then every tunnel gets a WebSocket close 1001 at a frame boundary (both directions) and a short grace to
     * answer it, then whatever is left is closed and the loops stop.
     */
    public synchronized void shutdown(final long drainTimeoutNs)
    {
        if (closed)
        {
            return;
        }
        beginDrain();
        runOnEveryLoop(ProxyLoop::stopAccepting);
        runOnEveryLoop(ProxyLoop::drainSoft);
        awaitNoConnections(drainTimeoutNs);
        if (openConnections.get() > 0)
        {
            runOnEveryLoop(ProxyLoop::goAway);
            // Peers answer the close frames, and requests that were under way finish (bounded: whatever is left
            // after the grace is closed).
            awaitNoConnections(ProxyLoop.GOING_AWAY_GRACE_NS + TimeUnit.MILLISECONDS.toNanos(500));
        }
        close();
    }

    private void awaitNoConnections(final long timeoutNs)
    {
        final long deadline = System.nanoTime() + timeoutNs;
        while (openConnections.get() > 0 && System.nanoTime() - deadline < 0)
        {
            try
            {
                Thread.sleep(20); // a bounded poll on the shutdown thread, never on a loop
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Applies a new configuration to new connections and requests (upstream groups, routes, limits, timeouts);
     * established tunnels and running exchanges keep what they started with. Listen addresses, loops and buffer
     * sizes need a restart (a handover with SO_REUSEPORT, see README).
     */
    public synchronized void reload(final ProxyContext newCtx)
    {
        try
        {
            apply(newCtx);
        }
        catch (final RuntimeException e)
        {
            reloadFailed(List.of(String.valueOf(e.getMessage())));
            throw e;
        }
        reloadsOk.incrementAndGet();
        lastReload = new ReloadResult(System.currentTimeMillis(), true, List.of());
    }

    /** A reload that did not get as far as {@link #reload} (e.g. the CLI could not read the new configuration). */
    public void reloadFailed(final List<String> errors)
    {
        reloadsFailed.incrementAndGet();
        lastReload = new ReloadResult(System.currentTimeMillis(), false, List.copyOf(errors));
    }

    public long reloadsOk()
    {
        return reloadsOk.get();
    }

    public long reloadsFailed()
    {
        return reloadsFailed.get();
    }

    /** The last reload, or null when there was none. */
    public ReloadResult lastReload()
    {
        return lastReload;
    }

    private void apply(final ProxyContext newCtx)
    {
        newCtx.conclude();
        final io.centrigate.route.Router router = new io.centrigate.route.Router(newCtx);
        // Names new to this configuration are resolved now (a name that does not resolve fails the reload, as at
        // start); known names keep their last good set until the resolver's next round.
        final java.util.Map<String, List<java.net.InetAddress>> names = UpstreamNames.resolveAll(newCtx, resolved);
        final UpstreamGroup[] newGroups = newGroups(newCtx, names);
        if (tlsContext != null && newCtx.tlsCert() != null)
        {
            // Certificate renewal without restart, from the files the new configuration names; a broken new
            // pair throws before anything else changed, and the old one stays in use.
            tlsContext.reload(newCtx.tlsCert(), newCtx.tlsKey());
        }
        // A reload keeps the tunnels of nodes it removes: the configuration moved new clients elsewhere, and the
        // old node may well be serving on (reload and handover never drop a tunnel).
        limits.apply(newCtx);
        swapGroups(newCtx, newGroups, router, false);
        resolved = names;
        discovery.startIfNeeded(newCtx);
    }

    /**
     * New groups for new connections, the way a reload makes them: health, ejections and slow start carried over
     * by address; loops switch to them (running tunnels stay on the nodes they have). Holding this proxy's lock.
     */
    private void swapGroups(final ProxyContext newCtx, final UpstreamGroup[] newGroups,
        final io.centrigate.route.Router router, final boolean drainRemoved)
    {
        final UpstreamGroup[] oldGroups = groups;
        final java.util.Map<String, UpstreamGroup> oldByName = upstreamGroups();
        final long now = System.nanoTime();
        for (final UpstreamGroup fresh : newGroups)
        {
            for (final UpstreamGroup old : oldGroups)
            {
                fresh.inheritHealth(old, newCtx.healthCheckPath() != null); // a reload does not forget that a node is down
                fresh.inheritAdminState(old); // nor an admin drain or weight, unless the config changed the node
            }
            fresh.inheritSlowStart(oldGroups, now);
        }
        runOnEveryLoop(loop -> loop.reload(newCtx, newGroups, router));
        groups = newGroups;
        ctx = newCtx;
        final java.util.Map<String, UpstreamGroup> newByName = upstreamGroups();
        for (final var e : oldByName.entrySet())
        {
            final int[] removed = removedNodes(e.getValue(), newByName.get(e.getKey()));
            if (removed.length > 0)
            {
                onNodesRemoved(e.getKey(), e.getValue(), removed, drainRemoved);
            }
        }
    }

    /** The nodes of {@code old} whose address is not in {@code fresh} (all of them when the group is gone). */
    private static int[] removedNodes(final UpstreamGroup old, final UpstreamGroup fresh)
    {
        final java.util.List<Integer> removed = new ArrayList<>();
        for (int i = 0; i < old.size(); i++)
        {
            boolean kept = false;
            for (int j = 0; fresh != null && j < fresh.size() && !kept; j++)
            {
                kept = old.address(i).equals(fresh.address(j));
            }
            if (!kept)
            {
                removed.add(i);
            }
        }
        return removed.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Nodes left out of a group by a reload or a DNS change: they get no new connection from now on (the loops
     * pick from the new group). When {@code drain} (a DNS change: the address is gone, a pod that ended) their
     * tunnels are drained as an admin drain does: closed with 1012 at a frame boundary, at
     * {@code --rebalance-rate}, so their clients reconnect to the nodes that remain; after a reload they run on.
     * {@code old} is the group they were in (its node numbers, addresses and counts); called holding this proxy's
     * lock, off the loops.
     */
    void onNodesRemoved(final String group, final UpstreamGroup old, final int[] nodes, final boolean drain)
    {
        for (final int node : nodes)
        {
            final io.centrigate.upstream.NodeTunnels tunnels = old.tunnels(node);
            if (drain && tunnels.open() > 0 && !retiredNodes.contains(tunnels))
            {
                retiredNodes.add(tunnels);
            }
            discovery.log("node-removed", "group " + group + ": " + old.address(node).getAddress().getHostAddress() +
                ":" + old.address(node).getPort() + " removed (" + tunnels.open() + (drain ?
                " tunnels to drain with 1012, " : " tunnels left to end by themselves, ") + old.active(node) +
                " connections open)");
        }
    }

    /**
     * The resolver found another set of addresses for some name: the groups are rebuilt from the current
     * configuration with {@code names}, as a reload rebuilds them. Called on the resolver's thread.
     */
    synchronized void rediscovered(final java.util.Map<String, List<java.net.InetAddress>> names)
    {
        if (closed)
        {
            return;
        }
        final ProxyContext current = ctx;
        final java.util.Map<String, List<java.net.InetAddress>> merged = new java.util.HashMap<>(resolved);
        merged.putAll(names);
        swapGroups(current, newGroups(current, merged), new io.centrigate.route.Router(current), true);
        resolved = java.util.Map.copyOf(merged);
    }

    /** The last good addresses of every upstream name, sorted. */
    public java.util.Map<String, List<java.net.InetAddress>> resolvedNames()
    {
        return resolved;
    }

    /** Name resolutions of the DNS discovery so far: name to counts by {@link UpstreamDiscovery#RESULTS}. */
    public java.util.Map<String, long[]> resolutions()
    {
        return discovery.counts();
    }

    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        draining = true;
        closed = true;
        discovery.close();
        runOnEveryLoop(ProxyLoop::stopAccepting);
        runOnEveryLoop(ProxyLoop::closeAll);
        for (int i = 0; i < runners.length; i++)
        {
            loops[i].loop().beginClose();
            if (runners[i] != null)
            {
                runners[i].close();
            }
        }
        if (accessLog != null)
        {
            accessLog.close(); // after the loops: the lines of the connections closed above are written too
        }
    }

    /** The access log, null when it is off; {@link io.centrigate.metrics.AccessLog#reopen()} for SIGUSR1. */
    public io.centrigate.metrics.AccessLog accessLog()
    {
        return accessLog;
    }

    void runOnEveryLoop(final java.util.function.Consumer<ProxyLoop> action)
    {
        final List<CompletableFuture<Void>> done = new ArrayList<>();
        for (final ProxyLoop loop : loops)
        {
            final CompletableFuture<Void> f = new CompletableFuture<>();
            loop.loop().execute(() ->
            {
                try
                {
                    action.accept(loop);
                }
                finally
                {
                    f.complete(null);
                }
            });
            done.add(f);
        }
        for (final CompletableFuture<Void> f : done)
        {
            try
            {
                f.get(5, TimeUnit.SECONDS);
            }
            catch (final Exception e)
            {
                // A stuck loop must not stop shutdown; its runner is interrupted below.
            }
        }
    }
}
