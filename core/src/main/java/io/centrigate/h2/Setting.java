package io.centrigate.h2;

/** SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441 §3) with their initial values and limits. */
public final class Setting
{
    public static final int HEADER_TABLE_SIZE = 0x1;
    public static final int ENABLE_PUSH = 0x2;
    public static final int MAX_CONCURRENT_STREAMS = 0x3;
    public static final int INITIAL_WINDOW_SIZE = 0x4;
    public static final int MAX_FRAME_SIZE = 0x5;
    public static final int MAX_HEADER_LIST_SIZE = 0x6;
    /** RFC 8441 §3: extended CONNECT, what WebSocket over HTTP/2 needs. */
    public static final int ENABLE_CONNECT_PROTOCOL = 0x8;

    /** RFC 7541 §4.2 / RFC 9113 §6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE. */
    public static final int DEFAULT_HEADER_TABLE_SIZE = 4_096;
    /** RFC 9113 §6.9.2: the initial window of the connection and of every stream. */
    public static final int DEFAULT_INITIAL_WINDOW_SIZE = 65_535;
    /** RFC 9113 §6.9.1: flow-control windows never exceed 2^31-1. */
    public static final long MAX_WINDOW_SIZE = Integer.MAX_VALUE;

    private Setting()
    {
    }
}
