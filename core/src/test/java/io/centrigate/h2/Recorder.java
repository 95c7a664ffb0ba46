package io.centrigate.h2;

import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;

/** A frame listener that writes down every call as text, for tests to compare. */
class Recorder implements FrameListener
{
    final List<String> events = new ArrayList<>();

    @Override
    public void onData(final int streamId, final boolean endStream, final DirectBuffer buffer, final int offset,
        final int length, final int flowControlled)
    {
        events.add("DATA " + streamId + (endStream ? " END_STREAM" : "") + " '" + Bytes.text(buffer, offset, length) +
            "' flow=" + flowControlled);
    }

    @Override
    public void onHeaders(final int streamId, final boolean endStream, final boolean endHeaders,
        final DirectBuffer buffer, final int offset, final int length)
    {
        events.add("HEADERS " + streamId + (endStream ? " END_STREAM" : "") + (endHeaders ? " END_HEADERS" : "") +
            " " + Bytes.toHex(buffer, offset, length));
    }

    @Override
    public void onContinuation(final int streamId, final boolean endHeaders, final DirectBuffer buffer,
        final int offset, final int length)
    {
        events.add("CONTINUATION " + streamId + (endHeaders ? " END_HEADERS" : "") + " " +
            Bytes.toHex(buffer, offset, length));
    }

    @Override
    public void onPriority(final int streamId)
    {
        events.add("PRIORITY " + streamId);
    }

    @Override
    public void onRstStream(final int streamId, final long errorCode)
    {
        events.add("RST_STREAM " + streamId + " " + ErrorCode.name(errorCode));
    }

    @Override
    public void onSetting(final int id, final long value)
    {
        events.add("SETTING " + id + "=" + value);
    }

    @Override
    public void onSettingsEnd(final boolean ack)
    {
        events.add(ack ? "SETTINGS ACK" : "SETTINGS END");
    }

    @Override
    public void onPing(final boolean ack, final long opaqueData)
    {
        events.add("PING" + (ack ? " ACK " : " ") + Long.toHexString(opaqueData));
    }

    @Override
    public void onGoAway(final int lastStreamId, final long errorCode, final DirectBuffer buffer,
        final int debugOffset, final int debugLength)
    {
        events.add("GOAWAY " + lastStreamId + " " + ErrorCode.name(errorCode) + " '" +
            Bytes.text(buffer, debugOffset, debugLength) + "'");
    }

    @Override
    public void onWindowUpdate(final int streamId, final int increment)
    {
        events.add("WINDOW_UPDATE " + streamId + " " + increment);
    }

    @Override
    public void onUnknownFrame(final int type, final int streamId, final int length)
    {
        events.add("UNKNOWN " + type + " " + streamId + " " + length);
    }

    @Override
    public void onConnectionError(final int errorCode, final String reason)
    {
        events.add("CONNECTION ERROR " + ErrorCode.name(errorCode));
    }

    @Override
    public void onStreamError(final int streamId, final int errorCode, final String reason)
    {
        events.add("STREAM ERROR " + streamId + " " + ErrorCode.name(errorCode));
    }

    String last()
    {
        return events.get(events.size() - 1);
    }
}
