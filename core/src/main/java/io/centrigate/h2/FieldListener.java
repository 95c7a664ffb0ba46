package io.centrigate.h2;

import org.agrona.DirectBuffer;

/**
 * One decoded field of a field block (RFC 7541 §3). Name and value are offsets into the decoder's scratch buffer,
 * valid only during the call. {@code neverIndexed} marks a field sent as "never indexed" (§6.2.3), which an
 * intermediary must re-encode the same way (§7.1.3).
 */
@FunctionalInterface
public interface FieldListener
{
    void onField(DirectBuffer buffer, int nameOffset, int nameLength, int valueOffset, int valueLength,
        boolean neverIndexed);
}
