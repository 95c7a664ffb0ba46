package io.centrigate.bench.storm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;

/**
 * A reconnect storm: N threads, each in a loop for D seconds, open a TCP connection, send a WebSocket upgrade
 * request, read the response head, check it is a 101 with the right Sec-WebSocket-Accept, and close with
 * SO_LINGER 0 (RST, so no TIME_WAIT eats the ephemeral ports). A warm-up phase runs first and is not recorded.
 * Prints one line of JSON.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.storm.HandshakeStorm HOST:PORT THREADS SECONDS
 *     [WARMUP_SECONDS=2] [LABEL=-] [SOURCES=1]</pre>
 * SOURCES &gt; 1 binds the client side round-robin to 127.0.0.2 .. 127.0.0.(SOURCES+1) (more ephemeral ports).
 */
public final class HandshakeStorm
{
    private static final byte[] END = {'\r', '\n', '\r', '\n'};

    private HandshakeStorm()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 3)
        {
            System.err.println("usage: HandshakeStorm HOST:PORT THREADS SECONDS [WARMUP_SECONDS] [LABEL] [SOURCES]");
            System.exit(2);
        }
        final int colon = args[0].lastIndexOf(':');
        final InetSocketAddress target = new InetSocketAddress(args[0].substring(0, colon),
            Integer.parseInt(args[0].substring(colon + 1)));
        final int threads = Integer.parseInt(args[1]);
        final double seconds = Double.parseDouble(args[2]);
        final double warmup = args.length > 3 ? Double.parseDouble(args[3]) : 2;
        final String label = args.length > 4 ? args[4] : "-";
        final int sources = args.length > 5 ? Integer.parseInt(args[5]) : 1;

        final long start = System.nanoTime();
        final long measureFrom = start + (long)(warmup * 1e9);
        final long measureTo = measureFrom + (long)(seconds * 1e9);
        final Client[] clients = new Client[threads];
        final Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            clients[i] = new Client(target, measureFrom, measureTo, sources, i);
            ts[i] = new Thread(clients[i], "storm-" + i);
            ts[i].start();
        }
        for (final Thread t : ts)
        {
            t.join(TimeUnit.SECONDS.toMillis((long)(warmup + seconds) + 30));
        }
        final Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        long ok = 0, errors = 0, connectErrors = 0, timeouts = 0, badResponses = 0, warmupOk = 0;
        for (final Client c : clients)
        {
            all.add(c.histogram);
            ok += c.ok;
            errors += c.connectErrors + c.timeouts + c.badResponses + c.ioErrors;
            connectErrors += c.connectErrors;
            timeouts += c.timeouts;
            badResponses += c.badResponses;
            warmupOk += c.warmupOk;
        }
        System.out.println(String.format(Locale.ROOT,
            "{\"label\":\"%s\",\"target\":\"%s\",\"threads\":%d,\"seconds\":%.1f,\"warmup_seconds\":%.1f," +
            "\"handshakes\":%d,\"handshakes_per_s\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f," +
            "\"p999_us\":%.1f,\"max_us\":%.1f,\"errors\":%d,\"connect_errors\":%d,\"timeouts\":%d," +
            "\"bad_responses\":%d,\"warmup_handshakes\":%d}",
            label, args[0], threads, seconds, warmup, ok, ok / seconds,
            all.getValueAtPercentile(50) / 1e3, all.getValueAtPercentile(90) / 1e3,
            all.getValueAtPercentile(99) / 1e3, all.getValueAtPercentile(99.9) / 1e3, all.getMaxValue() / 1e3,
            errors, connectErrors, timeouts, badResponses, warmupOk));
        System.exit(0);
    }

    private static final class Client implements Runnable
    {
        final InetSocketAddress target;
        final long measureFrom;
        final long measureTo;
        final int sources;
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        final byte[] buf = new byte[4096];
        final byte[] keyBytes = new byte[16];
        final MessageDigest sha1;
        final InetAddress[] sourceAddresses;
        int nextSource;
        long ok, warmupOk, connectErrors, timeouts, badResponses, ioErrors;

        Client(final InetSocketAddress target, final long measureFrom, final long measureTo, final int sources,
            final int index) throws Exception
        {
            this.target = target;
            this.measureFrom = measureFrom;
            this.measureTo = measureTo;
            this.sources = sources;
            this.sha1 = MessageDigest.getInstance("SHA-1");
            sourceAddresses = new InetAddress[Math.max(1, sources)];
            for (int i = 0; i < sourceAddresses.length; i++)
            {
                sourceAddresses[i] = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte)(2 + i)});
            }
            nextSource = index % sourceAddresses.length;
        }

        @Override
        public void run()
        {
            final String host = target.getHostString() + ":" + target.getPort();
            while (true)
            {
                final long t0 = System.nanoTime();
                if (t0 >= measureTo)
                {
                    return;
                }
                ThreadLocalRandom.current().nextBytes(keyBytes);
                final String key = Base64.getEncoder().encodeToString(keyBytes);
                final byte[] request = ("GET /connection/websocket HTTP/1.1\r\nHost: " + host +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                    "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                final int result = handshake(request, key);
                final long t1 = System.nanoTime();
                if (t0 < measureFrom)
                {
                    if (result == 0)
                    {
                        warmupOk++;
                    }
                    continue;
                }
                if (t1 > measureTo)
                {
                    return; // finished after the window: neither counted nor recorded
                }
                switch (result)
                {
                    case 0:
                        ok++;
                        histogram.recordValue(Math.min(t1 - t0, histogram.getHighestTrackableValue()));
                        break;
                    case 1: connectErrors++; pause(); break;
                    case 2: timeouts++; break;
                    case 3: badResponses++; break;
                    default: ioErrors++; pause(); break;
                }
            }
        }

        private static void pause()
        {
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }

        /** 0 ok, 1 connect failed, 2 timeout, 3 bad response, 4 other I/O error. */
        private int handshake(final byte[] request, final String key)
        {
            final Socket s = new Socket();
            try
            {
                s.setSoLinger(true, 0);
                s.setTcpNoDelay(true);
                s.setSoTimeout(5000);
                if (sources > 1)
                {
                    s.bind(new InetSocketAddress(sourceAddresses[nextSource], 0));
                    nextSource = (nextSource + 1) % sourceAddresses.length;
                }
                try
                {
                    s.connect(target, 5000);
                }
                catch (final SocketTimeoutException e)
                {
                    return 2;
                }
                catch (final IOException e)
                {
                    return 1;
                }
                final OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                final InputStream in = s.getInputStream();
                int filled = 0;
                int end = -1;
                while (end < 0)
                {
                    if (filled == buf.length)
                    {
                        return 3;
                    }
                    final int n = in.read(buf, filled, buf.length - filled);
                    if (n < 0)
                    {
                        return 3;
                    }
                    filled += n;
                    end = indexOfEnd(buf, filled);
                }
                return valid101(buf, end, key) ? 0 : 3;
            }
            catch (final SocketTimeoutException e)
            {
                return 2;
            }
            catch (final IOException e)
            {
                return 4;
            }
            finally
            {
                try
                {
                    s.close();
                }
                catch (final IOException ignore)
                {
                    // RST anyway
                }
            }
        }

        private static int indexOfEnd(final byte[] b, final int len)
        {
            outer:
            for (int i = 0; i + 3 < len; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    if (b[i + j] != END[j])
                    {
                        continue outer;
                    }
                }
                return i + 4;
            }
            return -1;
        }

        private boolean valid101(final byte[] b, final int len, final String key)
        {
            final String head = new String(b, 0, len, StandardCharsets.US_ASCII);
            if (!head.startsWith("HTTP/1.1 101"))
            {
                return false;
            }
            sha1.reset();
            sha1.update(key.getBytes(StandardCharsets.US_ASCII));
            sha1.update(UpgradeResponder.GUID.getBytes(StandardCharsets.US_ASCII));
            final String expected = Base64.getEncoder().encodeToString(sha1.digest());
            final String lower = head.toLowerCase(Locale.ROOT);
            final int at = lower.indexOf("\r\nsec-websocket-accept:");
            if (at < 0)
            {
                return false;
            }
            final int eol = head.indexOf("\r\n", at + 2);
            return head.substring(at + 23, eol).trim().equals(expected) &&
                lower.contains("\r\nupgrade: websocket") && lower.contains("\r\nconnection: upgrade");
        }
    }
}
