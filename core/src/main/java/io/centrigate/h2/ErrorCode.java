package io.centrigate.h2;

/**
 * HTTP/2 error codes (RFC 9113 §7), as the ints that go on the wire in RST_STREAM and GOAWAY. Ints rather than an
 * enum so that the reader and decoders can report them through listener callbacks and return values without boxing.
 */
public final class ErrorCode
{
    public static final int NO_ERROR = 0x0;
    public static final int PROTOCOL_ERROR = 0x1;
    public static final int INTERNAL_ERROR = 0x2;
    public static final int FLOW_CONTROL_ERROR = 0x3;
    public static final int SETTINGS_TIMEOUT = 0x4;
    public static final int STREAM_CLOSED = 0x5;
    public static final int FRAME_SIZE_ERROR = 0x6;
    public static final int REFUSED_STREAM = 0x7;
    public static final int CANCEL = 0x8;
    public static final int COMPRESSION_ERROR = 0x9;
    public static final int CONNECT_ERROR = 0xa;
    public static final int ENHANCE_YOUR_CALM = 0xb;
    public static final int INADEQUATE_SECURITY = 0xc;
    public static final int HTTP_1_1_REQUIRED = 0xd;

    private static final String[] NAMES = {
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};

    private ErrorCode()
    {
    }

    /** For logs and tests (cold path). RFC 9113 §7: an unknown code must not trigger special behaviour. */
    public static String name(final long code)
    {
        return code >= 0 && code < NAMES.length ? NAMES[(int)code] : "0x" + Long.toHexString(code);
    }
}
