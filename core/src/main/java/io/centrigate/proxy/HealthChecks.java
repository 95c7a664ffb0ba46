package io.centrigate.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.agrona.DeadlineTimerWheel;

import io.centrigate.config.ProxyContext;
import io.centrigate.loop.Connection;
import io.centrigate.loop.EventLoop;
import io.centrigate.loop.NoSocketException;
import io.centrigate.metrics.ErrorLog;
import io.centrigate.upstream.UpstreamGroup;

/**
 * Active health checks of the nodes one loop is responsible for (node number {@code k} over all groups is checked
 * by loop {@code k % loops}): no thread per node, one non-blocking {@code GET path HTTP/1.1} with the node's
 * {@code Host} and {@code Connection: close} per interval. A 2xx status line within the timeout is a good check;
 * anything else (refused, reset, another status, no status line in time) a bad one. {@code fall} bad checks in a
 * row mark the node down in its {@link UpstreamGroup} (no new connection goes to it), {@code rise} good ones mark
 * it up again. Everything here runs on the loop thread; the only shared write is the state change itself.
 */
final class HealthChecks
{
    private static final int RESPONSE_PREFIX = 64;

    private final EventLoop loop;
    private final ErrorLog errorLog;
    private final List<Probe> probes = new ArrayList<>();

    HealthChecks(final EventLoop loop, final ErrorLog errorLog)
    {
        this.loop = loop;
        this.errorLog = errorLog;
    }

    /** Starts checking this loop's share of the nodes of {@code groups}; on the loop thread (or before it runs). */
    void start(final ProxyContext ctx, final UpstreamGroup[] groups, final int loopIndex, final int loops)
    {
        if (ctx.healthCheckPath() == null)
        {
            return;
        }
        int k = 0;
        for (final UpstreamGroup group : groups)
        {
            for (int i = 0; i < group.size(); i++, k++)
            {
                if (k % loops == loopIndex)
                {
                    final Probe probe = new Probe(ctx, group, i);
                    probes.add(probe);
                    // Spread the first checks over the interval so a loop does not open every probe at once.
                    probe.schedule(loop.nowNs() + ctx.healthCheckIntervalNs() * (probes.size() - 1) /
                        Math.max(1, group.size()) / 4);
                }
            }
        }
    }

    /** Stops every probe (a reload, or closing); on the loop thread. */
    void stop()
    {
        for (final Probe probe : probes)
        {
            probe.stop();
        }
        probes.clear();
    }

    private final class Probe implements Connection.Handler, EventLoop.TimerTarget
    {
        private final UpstreamGroup group;
        private final int node;
        private final ByteBuffer request;
        /**
         * Direct, as every buffer the loop's connections read into and write from: a heap buffer here, once a
         * second, showed the compiled read and write paths a second receiver class and threw them back to the
         * interpreter each time, until C2 gave up on the speculation (JFR of the cold bench, 2026-12-08).
         */
        private final ByteBuffer response = ByteBuffer.allocateDirect(RESPONSE_PREFIX);
        private final byte[] responseBytes = new byte[RESPONSE_PREFIX];
        private final long intervalNs;
        private final long timeoutNs;
        private final int rise;
        private final int fall;
        private Connection channel;
        private long timerId = DeadlineTimerWheel.NULL_DEADLINE;
        private long startNs;
        private int goodInARow;
        private int badInARow;
        private boolean stopped;

        Probe(final ProxyContext ctx, final UpstreamGroup group, final int node)
        {
            this.group = group;
            this.node = node;
            final byte[] head = ("GET " + ctx.healthCheckPath() + " HTTP/1.1\r\nHost: " +
                new String(group.hostPort(node), StandardCharsets.US_ASCII) +
                "\r\nUser-Agent: centrigate-health\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            this.request = ByteBuffer.allocateDirect(head.length).put(head).flip();
            this.intervalNs = ctx.healthCheckIntervalNs();
            this.timeoutNs = ctx.healthCheckTimeoutNs();
            this.rise = ctx.healthCheckRise();
            this.fall = ctx.healthCheckFall();
        }

        void schedule(final long deadlineNs)
        {
            timerId = loop.schedule(this, deadlineNs);
        }

        void stop()
        {
            stopped = true;
            loop.cancel(timerId);
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
            closeChannel();
        }

        @Override
        public void onTimer(final long nowNs)
        {
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
            if (stopped)
            {
                return;
            }
            if (channel != null)
            {
                done(UpstreamGroup.CHECK_TIMEOUT, "no 2xx answer within the health-check timeout");
                return;
            }
            begin();
        }

        private void begin()
        {
            startNs = loop.nowNs();
            request.clear();
            response.clear();
            try
            {
                channel = loop.poller().connect(group.address(node), this);
                if (!channel.isConnectionPending())
                {
                    channel.interest(Connection.OP_WRITE);
                }
            }
            catch (final NoSocketException e)
            {
                // Our own descriptors ran out (EMFILE): not the node's fault, so this round is skipped, not failed.
                errorLog.log("health-socket", "cannot open a socket to check " + group.name(node) + ": " + e.getMessage());
                timerId = loop.schedule(this, startNs + intervalNs);
                return;
            }
            catch (final IOException | RuntimeException e)
            {
                done(UpstreamGroup.CHECK_FAIL, "connect: " + e.getMessage());
                return;
            }
            timerId = loop.schedule(this, startNs + timeoutNs);
        }

        @Override
        public void onReady(final Connection connection, final int ready)
        {
            if (channel == null || connection != channel)
            {
                return;
            }
            try
            {
                if ((ready & Connection.OP_CONNECT) != 0)
                {
                    if (!channel.finishConnect())
                    {
                        return;
                    }
                    channel.interest(Connection.OP_WRITE);
                }
                if ((channel.interest() & Connection.OP_WRITE) != 0)
                {
                    channel.write(request);
                    if (request.hasRemaining())
                    {
                        return;
                    }
                    channel.interest(Connection.OP_READ);
                    return;
                }
                if ((ready & Connection.OP_READ) != 0)
                {
                    final int n = channel.read(response);
                    if (n < 0)
                    {
                        done(UpstreamGroup.CHECK_FAIL, "closed before a status line");
                        return;
                    }
                    judge();
                }
            }
            catch (final IOException e)
            {
                done(UpstreamGroup.CHECK_FAIL, e.getMessage());
            }
        }

        /** "HTTP/1.x 2" is enough to know: the rest of the answer is not needed. */
        private void judge()
        {
            final int have = response.position();
            if (have < 12)
            {
                return;
            }
            final byte[] b = responseBytes;
            response.get(0, b, 0, have);
            final boolean http = b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && b[8] == ' ';
            if (http && b[9] == '2')
            {
                done(UpstreamGroup.CHECK_OK, null);
            }
            else
            {
                final String line = new String(b, 0, have, StandardCharsets.US_ASCII);
                final int eol = line.indexOf('\r');
                done(UpstreamGroup.CHECK_FAIL, "answered " + (eol > 0 ? line.substring(0, eol) : line));
            }
        }

        private void done(final int result, final String why)
        {
            closeChannel();
            loop.cancel(timerId);
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
            group.checked(node, result);
            if (result == UpstreamGroup.CHECK_OK)
            {
                badInARow = 0;
                if (++goodInARow >= rise && group.checkedDown(node, false))
                {
                    errorLog.log("node-up", group.name(node) + " is up (" + goodInARow + " good checks)");
                }
            }
            else
            {
                goodInARow = 0;
                if (++badInARow >= fall && group.checkedDown(node, true))
                {
                    errorLog.log("node-down", group.name(node) + " is down (" + badInARow + " failed checks, last: " +
                        why + ")");
                }
            }
            if (!stopped)
            {
                // The next check one interval after this one began (not after it ended): a steady rate.
                final long next = startNs + intervalNs;
                timerId = loop.schedule(this, next - loop.nowNs() > 0 ? next : loop.nowNs() + intervalNs / 2);
            }
        }

        private void closeChannel()
        {
            if (channel != null)
            {
                channel.close();
                channel = null;
            }
        }
    }
}
