package io.centrigate.tls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import io.centrigate.loop.Connection;

/**
 * A server-side TLS connection over a connected, non-blocking {@link Connection}, driven on the event loop
 * that owns the socket: it reads and writes plaintext like the raw channel it replaces, never blocks, and
 * never starts a thread.
 *
 * <h2>Contract</h2>
 * <ul>
 * <li>{@link #read(ByteBuffer)}: decrypted application bytes ({@code > 0}); {@code 0} when none are available
 *     yet (handshake in progress, partial record, handshake output waiting for the socket); {@code -1} at the
 *     peer's close_notify or TCP EOF (a truncated stream is reported as -1 too; {@link #closeNotifyReceived()}
 *     tells them apart). Drives the handshake as needed.</li>
 * <li>{@link #write(ByteBuffer)}: encrypts and writes as much as the socket takes and returns the plaintext
 *     bytes consumed (may be 0). Encrypted bytes the socket did not take stay here: they belong to the channel
 *     now, and {@link #flushPending()} sends them. At most one record is encrypted ahead of the socket.</li>
 * <li>{@link #interestOps(int)}: given what the application wants ({@code OP_READ} to read, {@code OP_WRITE}
 *     when it has bytes to write) returns the selector interest to register. It adds what TLS needs by itself
 *     (write while encrypted output is pending, read while the handshake waits for the peer) and holds back the
 *     application's interest during the handshake, when app writes cannot progress and {@code OP_WRITE}
 *     would spin.</li>
 * <li>{@link #hasBufferedInput()}: whether {@link #read} would return non-zero right now without the socket
 *     becoming readable: records already taken off the socket (several can arrive in one segment, or with the
 *     client's Finished) are invisible to the selector.</li>
 * <li>{@link #shutdownOutput()}: queues close_notify; once it is written, the socket's output is shut (TCP FIN).
 *     {@link #close()}: closes the socket at once (no close_notify) and gives the buffers back.</li>
 * </ul>
 *
 * <h2>Use from an event loop</h2>
 * <pre>{@code
 * void onReady(SelectionKey key) throws IOException   // any readiness, or "run again" from the loop
 * {
 *     tls.flushPending();                              // 1. TLS's own work first: pending records, handshake
 *     if (out.hasRemaining())
 *     {
 *         tls.write(out);                              // 2. app output; 0 is fine, OP_WRITE brings us back
 *     }
 *     while (wantsInput() && in.hasRemaining())
 *     {
 *         final int n = tls.read(in);                  // 3. app input
 *         if (n < 0) { onEnd(); break; }
 *         if (n == 0 || !tls.hasBufferedInput()) break; // nothing more without the socket
 *     }
 *     key.interestOps(tls.interestOps((wantsInput() ? OP_READ : 0) | (out.hasRemaining() ? OP_WRITE : 0)));
 * }
 * }</pre>
 * When the application stops reading (back-pressure) and later wants input again, it must check
 * {@link #hasBufferedInput()} and, if true, run the connection again instead of only registering
 * {@code OP_READ}: the selector will not report bytes this channel already holds.
 *
 * <h2>Choices</h2>
 * <ul>
 * <li>Delegated tasks ({@code NEED_TASK}) run inline on the loop. With TLS 1.3 and 1.2 ECDHE they are a
 *     signature and a key agreement per full handshake (well under a millisecond with P-256 or Ed25519 keys,
 *     a few ms with RSA-4096 signing); a loop under a flood of handshakes spends its time here, which is the
 *     price of no hand-off thread.</li>
 * <li>Buffers: the ciphertext buffers (in and out) and the overflow plaintext buffer are direct buffers
 *     borrowed from the loop's {@link TlsBufferPool} only while they hold bytes, so an idle connection holds
 *     none (a partial record keeps its in-buffer until completed). The steady path allocates no buffers; the
 *     JDK engine itself allocates small objects per call ({@link SSLEngineResult}, wrapper arrays).</li>
 * <li>{@code BUFFER_OVERFLOW} on read (the caller's buffer is smaller than a record's plaintext, at most
 *     16 KiB): the record is decrypted into a pooled buffer and copied out over the following reads, never
 *     "return 0" (the bytes are already off the socket, so the selector would never wake the caller again).
 *     With the proxy's 32 KiB chunks this does not happen.</li>
 * <li>TLS 1.2 renegotiation is refused: a ClientHello after the handshake fails the connection with an
 *     {@link SSLHandshakeException} (RFC 5746 allows a server to refuse; the JDK would otherwise accept it
 *     and run a second full handshake on the loop). TLS 1.3 post-handshake messages are handled
 *     transparently: a client's KeyUpdate is answered when asked, our NewSessionTickets are sent after the
 *     handshake.</li>
 * <li>TLS 1.2 has no half-close: when the peer's close_notify arrives the engine answers with its own and
 *     closes our direction too, so later writes fail with {@link ClosedChannelException}. TLS 1.3 keeps our
 *     direction open (the JDK's default).</li>
 * <li>No timeouts here: a stalled handshake is the loop's timer wheel's business.</li>
 * </ul>
 * Single-threaded: all methods must be called on the loop that owns the socket.
 */
public final class TlsChannel implements ByteChannel
{
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);
    private static final int RECORD_HEADER_LENGTH = 5;

    private final Connection socket;
    private final SSLEngine engine;
    private final TlsBufferPool pool;
    /** Reused for the engine's array-taking methods, which the single-buffer overloads would allocate. */
    private final ByteBuffer[] one = new ByteBuffer[1];
    private int packetSize;

    /** Ciphertext read from the socket, not yet unwrapped: bytes [0, position). Null when empty. */
    private ByteBuffer netIn;
    /** Ciphertext waiting for the socket: bytes [position, limit). Null when empty. */
    private ByteBuffer netOut;
    /** Plaintext of a record that did not fit the caller's buffer: bytes [position, limit). Null when empty. */
    private ByteBuffer appIn;

    private boolean handshakeDone;
    private boolean tls13;
    /** The engine said NEED_WRAP and a wrap has not yet come back empty. */
    private boolean wrapWanted;
    private boolean socketEof;
    private boolean inboundDone;
    private boolean endReported;
    private boolean closeNotifyReceived;
    private boolean outputShutdown;
    private boolean socketOutputShut;

    /**
     * @param socket a connected socket of the loop.
     * @param engine a server-mode engine (see {@link TlsContexts#newServerEngine}); the handshake starts here.
     * @param pool   the owning loop's buffer pool.
     */
    public TlsChannel(final Connection socket, final SSLEngine engine, final TlsBufferPool pool) throws SSLException
    {
        if (engine.getUseClientMode())
        {
            throw new IllegalArgumentException("the engine must be in server mode");
        }
        this.socket = socket;
        this.engine = engine;
        this.pool = pool;
        this.packetSize = engine.getSession().getPacketBufferSize();
        // Explicit so that getHandshakeStatus() says NEED_UNWRAP (and interestOps() says OP_READ) from the start.
        engine.beginHandshake();
    }

    // ---------------------------------------------------------------- read

    /**
     * Bytes of the TLS stream that a layer under TLS already took off the socket: what followed a PROXY protocol
     * header in the same read (the start of the ClientHello). They are unwrapped before anything the socket gives,
     * and the caller drives the handshake on with {@link #read} at once (the selector will not report them).
     *
     * @throws SSLException when they do not fit one record buffer (a caller bounds its read so they always do).
     */
    public void unread(final ByteBuffer src) throws SSLException
    {
        if (netIn == null)
        {
            netIn = pool.acquire(packetSize);
        }
        if (src.remaining() > netIn.remaining())
        {
            throw new SSLException(src.remaining() + " bytes before the handshake do not fit a record buffer");
        }
        netIn.put(src);
    }

    @Override
    public int read(final ByteBuffer dst) throws IOException
    {
        final int n = readRecords(dst);
        if (n < 0)
        {
            endReported = true;
        }
        return n;
    }

    private int readRecords(final ByteBuffer dst) throws IOException
    {
        if (appIn != null)
        {
            return drainAppIn(dst);
        }
        if (inboundDone)
        {
            return -1;
        }
        if (!handshakeDone && !handshake())
        {
            return inboundDone ? -1 : 0;
        }
        int produced = 0;
        int idle = 0;
        while (dst.hasRemaining())
        {
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK)
            {
                runTasks();
            }
            final SSLEngineResult r = unwrap(dst);
            if (r == null)
            {
                if (socketEof)
                {
                    inboundDone = true;
                    releaseNetIn();
                    return produced > 0 ? produced : -1;
                }
                return produced;
            }
            switch (r.getStatus())
            {
                case OK:
                    produced += r.bytesProduced();
                    afterPostHandshakeUnwrap(r);
                    if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && ++idle > 1)
                    {
                        // The engine is waiting for something else (a wrap the socket cannot take yet).
                        return produced;
                    }
                    break;

                case BUFFER_OVERFLOW:
                    if (produced > 0)
                    {
                        return produced;
                    }
                    return unwrapIntoAppIn(dst);

                case CLOSED:
                    inboundDone = true;
                    closeNotifyReceived = true;
                    releaseNetIn();
                    // TLS 1.2: the engine answers with its own close_notify (NEED_WRAP).
                    wrapWanted |= r.getHandshakeStatus() == HandshakeStatus.NEED_WRAP;
                    flushPending();
                    return produced > 0 ? produced : -1;

                default:
                    throw new IllegalStateException("unexpected unwrap status " + r.getStatus());
            }
        }
        return produced;
    }

    private int unwrapIntoAppIn(final ByteBuffer dst) throws IOException
    {
        final ByteBuffer buffer = pool.acquire(engine.getSession().getApplicationBufferSize());
        final SSLEngineResult r;
        try
        {
            r = unwrap(buffer);
        }
        catch (final IOException | RuntimeException e)
        {
            pool.release(buffer);
            throw e;
        }
        buffer.flip();
        if (r == null)
        {
            // The engine says BUFFER_OVERFLOW from a record's header, before the whole record is in: the rest has
            // not arrived yet. Wait for it (the partial record stays in netIn), or end with the stream.
            pool.release(buffer);
            if (socketEof)
            {
                inboundDone = true;
                releaseNetIn();
                return -1;
            }
            return 0;
        }
        if (r.getStatus() != Status.OK)
        {
            pool.release(buffer);
            // Overflow into a buffer of the session's application size: an engine whose sizes lie.
            throw new SSLException("cannot decrypt record: " + r.getStatus());
        }
        appIn = buffer;
        afterPostHandshakeUnwrap(r);
        if (!appIn.hasRemaining())
        {
            pool.release(appIn);
            appIn = null;
            return 0;
        }
        return drainAppIn(dst);
    }

    private int drainAppIn(final ByteBuffer dst)
    {
        final int n = Math.min(dst.remaining(), appIn.remaining());
        final int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        if (!appIn.hasRemaining())
        {
            pool.release(appIn);
            appIn = null;
        }
        return n;
    }

    /** Post-handshake messages in the application phase: TLS 1.3 KeyUpdate is answered, TLS 1.2 renegotiation refused. */
    private void afterPostHandshakeUnwrap(final SSLEngineResult r) throws IOException
    {
        HandshakeStatus hs = r.getHandshakeStatus();
        if (hs == HandshakeStatus.NOT_HANDSHAKING || hs == HandshakeStatus.FINISHED)
        {
            return;
        }
        if (!tls13 && !outputShutdown && (hs == HandshakeStatus.NEED_TASK || hs == HandshakeStatus.NEED_WRAP))
        {
            // RFC 5746 §4.4 lets a server refuse renegotiation; we do by failing the connection.
            throw new SSLHandshakeException("TLS renegotiation refused");
        }
        if (hs == HandshakeStatus.NEED_TASK)
        {
            runTasks();
            hs = engine.getHandshakeStatus();
        }
        if (hs == HandshakeStatus.NEED_WRAP)
        {
            wrapWanted = true;
            flushPending();
        }
    }

    /**
     * Whether {@link #read} would return non-zero now without the socket becoming readable: decrypted bytes
     * held back, a complete record already off the socket, or an end of stream not yet reported.
     */
    public boolean hasBufferedInput()
    {
        if (appIn != null)
        {
            return true;
        }
        if (inboundDone)
        {
            // The end arrived with the last bytes: -1 is still owed, and the selector may not ask again.
            return !endReported;
        }
        return handshakeDone && (socketEof || hasCompleteRecord());
    }

    private boolean hasCompleteRecord()
    {
        if (netIn == null || netIn.position() < RECORD_HEADER_LENGTH)
        {
            return false;
        }
        final int length = ((netIn.get(3) & 0xFF) << 8) | (netIn.get(4) & 0xFF);
        return netIn.position() >= RECORD_HEADER_LENGTH + length;
    }

    // ---------------------------------------------------------------- write

    @Override
    public int write(final ByteBuffer src) throws IOException
    {
        if (outputShutdown || engine.isOutboundDone())
        {
            throw new ClosedChannelException();
        }
        if (!flushPending() || !handshakeDone)
        {
            return 0;
        }
        int consumed = 0;
        while (src.hasRemaining())
        {
            final SSLEngineResult r = wrap(src);
            consumed += r.bytesConsumed();
            if (r.getStatus() == Status.CLOSED)
            {
                if (consumed == 0)
                {
                    throw new ClosedChannelException();
                }
                break;
            }
            if (!writeNetOut())
            {
                break;
            }
        }
        return consumed;
    }

    /**
     * Writes encrypted bytes held here and advances the handshake (which may read handshake records from the
     * socket), queued close_notify, and post-handshake messages. Never blocks.
     *
     * @return true when no encrypted output is left waiting for the socket.
     */
    public boolean flushPending() throws IOException
    {
        while (true)
        {
            if (!writeNetOut())
            {
                return false;
            }
            if (!handshakeDone && !outputShutdown)
            {
                if (!handshake())
                {
                    return !hasPendingOutput();
                }
                continue;
            }
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK)
            {
                runTasks();
                continue;
            }
            if (wrapWanted)
            {
                final SSLEngineResult r = wrap(EMPTY);
                // An empty wrap ends the run: the JDK also says NEED_WRAP for a merely half-closed engine.
                wrapWanted = r.bytesProduced() > 0;
                continue;
            }
            if (engine.isOutboundDone() && !socketOutputShut && socket.isOpen())
            {
                // RFC 8446 §6.1: close_notify first, then the transport's end of stream.
                socketOutputShut = true;
                socket.shutdownOutput();
            }
            return true;
        }
    }

    /** Whether encrypted bytes (or records the engine still has to produce) wait for the socket. */
    public boolean hasPendingOutput()
    {
        return (netOut != null && netOut.hasRemaining()) || wrapWanted;
    }

    /**
     * The selector interest to register: what TLS needs by itself plus, once the handshake is done, what the
     * application wants.
     *
     * @param appOps {@link SelectionKey#OP_READ} if the application wants to read, {@link SelectionKey#OP_WRITE}
     *               if it has bytes to write, or both, or 0.
     */
    public int interestOps(final int appOps)
    {
        if (hasPendingOutput())
        {
            // Nothing else can progress before the socket takes these bytes: the peer waits for them.
            return SelectionKey.OP_WRITE | (handshakeDone && !inboundDone ? appOps & SelectionKey.OP_READ : 0);
        }
        if (!handshakeDone)
        {
            if (inboundDone)
            {
                return 0;
            }
            switch (engine.getHandshakeStatus())
            {
                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                    return SelectionKey.OP_READ;
                case NEED_WRAP:
                case NEED_TASK:
                    return SelectionKey.OP_WRITE;
                default:
                    return appOps;
            }
        }
        int ops = appOps & SelectionKey.OP_WRITE;
        if (!inboundDone)
        {
            ops |= appOps & SelectionKey.OP_READ;
        }
        return ops;
    }

    /** Read interest needed by TLS itself, independent of the application: the handshake waits for the peer. */
    public boolean needsRead()
    {
        return (interestOps(0) & SelectionKey.OP_READ) != 0;
    }

    /** Write interest needed by TLS itself, independent of the application: encrypted output or a handshake wrap. */
    public boolean needsWrite()
    {
        return (interestOps(0) & SelectionKey.OP_WRITE) != 0;
    }

    // ---------------------------------------------------------------- close

    /** Queues close_notify; the socket's output is shut once it has been written (see {@link #flushPending()}). */
    public void shutdownOutput() throws IOException
    {
        if (outputShutdown)
        {
            return;
        }
        outputShutdown = true;
        engine.closeOutbound();
        wrapWanted = true;
        flushPending();
    }

    /** Closes the socket at once, without close_notify, and gives every buffer back to the pool. */
    @Override
    public void close() throws IOException
    {
        releaseNetIn();
        if (netOut != null)
        {
            pool.release(netOut);
            netOut = null;
        }
        if (appIn != null)
        {
            pool.release(appIn);
            appIn = null;
        }
        wrapWanted = false;
        socket.close();
    }

    @Override
    public boolean isOpen()
    {
        return socket.isOpen();
    }

    public boolean isHandshakeComplete()
    {
        return handshakeDone;
    }

    /** Whether the input ended with the peer's close_notify rather than a bare TCP EOF (truncation). */
    public boolean closeNotifyReceived()
    {
        return closeNotifyReceived;
    }

    /** Pooled buffers this connection holds now (0 when idle): for tests and accounting. */
    int buffersHeld()
    {
        return (netIn != null ? 1 : 0) + (netOut != null ? 1 : 0) + (appIn != null ? 1 : 0);
    }

    public Connection socket()
    {
        return socket;
    }

    public SSLEngine engine()
    {
        return engine;
    }

    // ---------------------------------------------------------------- engine driving

    /**
     * Advances the initial handshake as far as it goes without blocking.
     *
     * @return true when it is complete.
     */
    private boolean handshake() throws IOException
    {
        try
        {
            return handshakeSteps();
        }
        catch (final SSLException e)
        {
            // A failure found by a delegated task surfaces from the next wrap: the alert is still worth sending.
            sendAlertQuietly();
            throw e;
        }
    }

    private boolean handshakeSteps() throws IOException
    {
        while (!handshakeDone)
        {
            if (!writeNetOut())
            {
                return false;
            }
            switch (engine.getHandshakeStatus())
            {
                case NEED_TASK:
                    runTasks();
                    break;

                case NEED_WRAP:
                {
                    final SSLEngineResult r = wrap(EMPTY);
                    if (r.getStatus() == Status.CLOSED && !handshakeDone)
                    {
                        writeNetOut();
                        throw new SSLHandshakeException("handshake aborted");
                    }
                    break;
                }

                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                {
                    final SSLEngineResult r = unwrap(EMPTY);
                    if (r == null)
                    {
                        if (socketEof)
                        {
                            // EOF mid-handshake: nothing more will come, the caller sees -1 and closes.
                            inboundDone = true;
                            releaseNetIn();
                        }
                        return false;
                    }
                    if (r.getStatus() == Status.CLOSED)
                    {
                        inboundDone = true;
                        closeNotifyReceived = true;
                        releaseNetIn();
                        return false;
                    }
                    if (r.getStatus() == Status.BUFFER_OVERFLOW)
                    {
                        // Application data before our side finished: only possible from a broken peer.
                        throw new SSLHandshakeException("application data before the handshake completed");
                    }
                    break;
                }

                default: // NOT_HANDSHAKING
                    onHandshakeDone();
                    break;
            }
        }
        return true;
    }

    private void onHandshakeDone()
    {
        if (!handshakeDone)
        {
            handshakeDone = true;
            tls13 = "TLSv1.3".equals(engine.getSession().getProtocol());
            // TLS 1.3 servers send NewSessionTicket right after the handshake; a wrap that yields nothing costs
            // one engine call.
            wrapWanted = true;
        }
    }

    private void note(final SSLEngineResult r)
    {
        if (r.getHandshakeStatus() == HandshakeStatus.FINISHED)
        {
            onHandshakeDone();
        }
    }

    private void runTasks()
    {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null)
        {
            task.run();
        }
    }

    /**
     * Unwraps one record into {@code dst}, reading the socket when no complete record is buffered.
     *
     * @return the engine's result, or null when no record is available (socket empty, or at EOF: see socketEof).
     */
    private SSLEngineResult unwrap(final ByteBuffer dst) throws IOException
    {
        while (true)
        {
            if (netIn != null && netIn.position() > 0)
            {
                netIn.flip();
                final SSLEngineResult r;
                one[0] = dst;
                try
                {
                    r = engine.unwrap(netIn, one, 0, 1);
                }
                catch (final SSLException e)
                {
                    netIn.clear();
                    sendAlertQuietly();
                    throw e;
                }
                finally
                {
                    one[0] = null;
                }
                netIn.compact();
                if (r.getStatus() != Status.BUFFER_UNDERFLOW)
                {
                    if (netIn.position() == 0)
                    {
                        releaseNetIn();
                    }
                    note(r);
                    return r;
                }
                if (!netIn.hasRemaining())
                {
                    growNetIn();
                }
            }
            if (socketEof)
            {
                return null;
            }
            if (netIn == null)
            {
                netIn = pool.acquire(packetSize);
            }
            final int n = socket.read(netIn);
            if (n <= 0)
            {
                socketEof = n < 0;
                if (netIn.position() == 0)
                {
                    releaseNetIn();
                }
                return null;
            }
        }
    }

    private void growNetIn() throws SSLException
    {
        // The session's packet size can grow after negotiation (larger records accepted); cold path.
        packetSize = engine.getSession().getPacketBufferSize();
        if (packetSize <= netIn.capacity())
        {
            throw new SSLException("TLS record larger than " + netIn.capacity() + " bytes");
        }
        final ByteBuffer bigger = pool.acquire(packetSize);
        netIn.flip();
        bigger.put(netIn);
        pool.release(netIn);
        netIn = bigger;
    }

    private void releaseNetIn()
    {
        if (netIn != null)
        {
            pool.release(netIn);
            netIn = null;
        }
    }

    /** Wraps one record from {@code src} into the (empty) out-buffer, leaving it ready to write. */
    private SSLEngineResult wrap(final ByteBuffer src) throws SSLException
    {
        while (true)
        {
            if (netOut == null)
            {
                netOut = pool.acquire(packetSize);
            }
            netOut.clear();
            final SSLEngineResult r;
            one[0] = src;
            try
            {
                r = engine.wrap(one, 0, 1, netOut);
            }
            finally
            {
                one[0] = null;
                // Also when wrap throws: a cleared buffer's limit is its capacity, and writing it would send a
                // pooled buffer's stale bytes (another connection's, even) to this peer.
                netOut.flip();
            }
            if (r.getStatus() != Status.BUFFER_OVERFLOW)
            {
                note(r);
                if (handshakeDone && r.getHandshakeStatus() == HandshakeStatus.NEED_WRAP)
                {
                    // During the initial handshake its own loop asks the engine; afterwards this flag carries it.
                    wrapWanted = true;
                }
                return r;
            }
            final int size = engine.getSession().getPacketBufferSize();
            if (size <= netOut.capacity())
            {
                throw new SSLException("engine wants more than " + netOut.capacity() + " bytes for one record");
            }
            packetSize = size;
            pool.release(netOut);
            netOut = null;
        }
    }

    /** @return true when the out-buffer is empty (and given back). */
    private boolean writeNetOut() throws IOException
    {
        if (netOut == null)
        {
            return true;
        }
        if (netOut.hasRemaining())
        {
            socket.write(netOut);
            if (netOut.hasRemaining())
            {
                return false;
            }
        }
        pool.release(netOut);
        netOut = null;
        return true;
    }

    /** After a failed unwrap the engine holds a fatal alert: one best-effort attempt to tell the peer why. */
    private void sendAlertQuietly()
    {
        try
        {
            if (netOut == null || !netOut.hasRemaining())
            {
                wrap(EMPTY);
            }
            writeNetOut();
        }
        catch (final IOException | RuntimeException ignored)
        {
            // The connection is failing anyway; the original exception is what matters.
        }
        wrapWanted = false;
    }
}
