package io.centrigate.loop;

import java.io.IOException;

/**
 * A kernel pipe that moves bytes from one {@link Connection} to another with splice(2): socket to pipe, pipe to
 * socket, so the bytes never enter user space. Only a native transport makes them ({@link Poller#openPipe()}); both
 * connections must belong to the poller that made the pipe. Loop thread only.
 * <p>
 * The pipe is filled only while it is empty: a splice into a pipe that has room for fewer pages than asked comes
 * back short or would block exactly as an empty socket does, and on an edge-triggered transport the two must not
 * be confused (the socket's readiness would be forgotten while its bytes wait).
 */
public interface KernelPipe
{
    /**
     * Moves up to {@code max} bytes from {@code source} into this pipe, which must be empty.
     *
     * @return bytes moved, 0 when the source has none now, -1 at the source's FIN.
     * @throws IOException the source failed (reset).
     */
    long fill(Connection source, long max) throws IOException;

    /**
     * Moves what this pipe holds into {@code sink}, as much as the sink takes now.
     *
     * @return bytes moved, 0 when the sink takes none now.
     * @throws IOException the sink failed (reset, broken pipe) or its output was shut.
     */
    long drain(Connection sink) throws IOException;

    /** Bytes in the pipe now. */
    long buffered();

    /** Closes both ends; bytes still in the pipe are lost. Never throws. */
    void close();
}
