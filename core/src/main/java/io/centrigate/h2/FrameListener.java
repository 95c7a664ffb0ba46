package io.centrigate.h2;

import org.agrona.DirectBuffer;

/**
 * What {@link FrameReader} found, one call per frame (one per entry for SETTINGS). Payload arguments are offsets
 * into the buffer the reader was given and are valid only during the call: a listener that needs the bytes later
 * (a header block split over CONTINUATION frames) copies them. Padding and HEADERS priority fields are already
 * stripped; flow control counts the whole DATA payload, padding included (RFC 9113 §6.9.1), so it is passed apart.
 * <p>
 * Errors come as calls too, never as exceptions: {@link #onConnectionError} means the connection must end with a
 * GOAWAY carrying that code (the reader stops), {@link #onStreamError} means an RST_STREAM on that stream with that
 * code, and the reader goes on with the next frame.
 */
public interface FrameListener
{
    void onData(int streamId, boolean endStream, DirectBuffer buffer, int offset, int length, int flowControlled);

    /** One HEADERS frame's field block fragment; more follows in CONTINUATION frames unless {@code endHeaders}. */
    void onHeaders(int streamId, boolean endStream, boolean endHeaders, DirectBuffer buffer, int offset, int length);

    void onContinuation(int streamId, boolean endHeaders, DirectBuffer buffer, int offset, int length);

    /** RFC 9113 §5.3.2: priority signals are ignored; the call exists so frames can still be counted. */
    default void onPriority(final int streamId)
    {
    }

    void onRstStream(int streamId, long errorCode);

    /**
     * One entry of a SETTINGS frame that has been validated whole (§6.5.2 value ranges) before the first entry is
     * reported, so a frame is either applied entirely or refused. Unknown identifiers are passed on too (§6.5.2 says
     * to ignore them; a listener does so).
     */
    void onSetting(int id, long value);

    /** After the last entry of a SETTINGS frame (so the listener can apply them and send the ACK), or an ACK. */
    void onSettingsEnd(boolean ack);

    void onPing(boolean ack, long opaqueData);

    void onGoAway(int lastStreamId, long errorCode, DirectBuffer buffer, int debugOffset, int debugLength);

    void onWindowUpdate(int streamId, int increment);

    /** RFC 9113 §5.5: frames of unknown type are ignored; reported so floods of them can be counted. */
    default void onUnknownFrame(final int type, final int streamId, final int length)
    {
    }

    /** The connection is over: send GOAWAY with {@code errorCode}. {@code reason} is a constant, for the log. */
    void onConnectionError(int errorCode, String reason);

    /** Reset the stream with {@code errorCode}; the connection goes on. {@code reason} is a constant. */
    void onStreamError(int streamId, int errorCode, String reason);
}
