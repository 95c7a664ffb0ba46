package io.centrigate.h2;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * HPACK decoding (RFC 7541) of one connection's complete field blocks, in the order they arrive (the dynamic table
 * is shared by all of a connection's streams, so every block must go through, even of a stream being reset).
 * <p>
 * The dynamic table is bounded by the SETTINGS_HEADER_TABLE_SIZE we advertise: its entries' bytes live in one
 * preallocated ring of that many bytes (entries are added at one end and evicted at the other, so their bytes stay
 * contiguous modulo the ring, and the 32 octets of overhead each entry counts (§4.1) keep them from overlapping).
 * Decoded fields are written to a preallocated scratch buffer and handed to a {@link FieldListener}; nothing is
 * allocated per block.
 * <p>
 * Defences: integers beyond 2^31-1 or longer than 5 continuation bytes, strings running past the block, a Huffman
 * EOS or bad padding, a table size update after the first field (RFC 9113 §4.3.1) or above our setting, and index 0
 * or past the table are {@link #COMPRESSION_ERROR}s (a connection error). The header list size (§4.1 sizes: name +
 * value + 32) is counted as fields are decoded; once past SETTINGS_MAX_HEADER_LIST_SIZE no more fields are copied
 * or reported (the HPACK bomb: a few bytes naming a large table entry many times) but the block is still parsed
 * to the end so the table stays in step with the peer's encoder, and {@link #HEADER_LIST_TOO_LARGE} lets the
 * caller refuse just that request (431 or RST_STREAM).
 */
public final class HpackDecoder
{
    public static final int OK = 0;
    /** The block decoded, the table is in step, but the fields exceeded the header list size limit. */
    public static final int HEADER_LIST_TOO_LARGE = 1;
    /** The block is malformed: a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). */
    public static final int COMPRESSION_ERROR = 2;

    private static final int ENTRY_OVERHEAD = 32;
    /** A decoded integer never needs more than 5 continuation bytes to reach 2^31-1. */
    private static final int MAX_INTEGER_SHIFT = 28;

    private final int maxTableSizeSetting;
    private final int maxHeaderListSize;

    private final byte[] ring;
    private final int[] entryStart;
    private final int[] entryNameLength;
    private final int[] entryValueLength;
    private int newest = -1;
    private int count;
    private int ringWrite;
    private int tableSize;
    private int tableCapacity;

    private final byte[] scratchBytes;
    private final UnsafeBuffer scratch;

    private int cursor;
    private int end;
    private String errorReason;

    /**
     * @param maxTableSizeSetting the SETTINGS_HEADER_TABLE_SIZE we advertise (4,096 is the protocol default)
     * @param maxHeaderListSize   the SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce
     */
    public HpackDecoder(final int maxTableSizeSetting, final int maxHeaderListSize)
    {
        if (maxTableSizeSetting < 0 || maxHeaderListSize <= 0)
        {
            throw new IllegalArgumentException("table size " + maxTableSizeSetting + ", header list size " +
                maxHeaderListSize);
        }
        this.maxTableSizeSetting = maxTableSizeSetting;
        this.maxHeaderListSize = maxHeaderListSize;
        this.tableCapacity = maxTableSizeSetting;
        this.ring = new byte[Math.max(1, maxTableSizeSetting)];
        final int maxEntries = maxTableSizeSetting / ENTRY_OVERHEAD + 1;
        this.entryStart = new int[maxEntries];
        this.entryNameLength = new int[maxEntries];
        this.entryValueLength = new int[maxEntries];
        // any field worth copying fits: one within the list limit, or one small enough to enter the table
        this.scratchBytes = new byte[Math.max(maxHeaderListSize, maxTableSizeSetting)];
        this.scratch = new UnsafeBuffer(scratchBytes);
    }

    /**
     * Decodes one complete field block.
     *
     * @return {@link #OK}, {@link #HEADER_LIST_TOO_LARGE} or {@link #COMPRESSION_ERROR} ({@link #errorReason()})
     */
    public int decode(final DirectBuffer block, final int offset, final int length, final FieldListener listener)
    {
        cursor = offset;
        end = offset + length;
        errorReason = null;
        long listSize = 0;
        boolean fieldSeen = false;
        while (cursor < end)
        {
            final int first = block.getByte(cursor) & 0xff;
            if ((first & 0x80) != 0)
            {
                // §6.1 indexed field
                final int index = integer(block, 7);
                if (index < 0)
                {
                    return COMPRESSION_ERROR;
                }
                if (index == 0 || index > StaticTable.LENGTH + count)
                {
                    return error("index 0 or beyond the tables");
                }
                fieldSeen = true;
                final int nameLength = nameLengthAt(index);
                final int valueLength = valueLengthAt(index);
                listSize += nameLength + valueLength + ENTRY_OVERHEAD;
                if (listSize <= maxHeaderListSize)
                {
                    copyName(index);
                    copyValue(index, nameLength);
                    listener.onField(scratch, 0, nameLength, nameLength, valueLength, false);
                }
                continue;
            }
            if ((first & 0xe0) == 0x20)
            {
                // §6.3 dynamic table size update: RFC 9113 §4.3.1 allows it only before the first field
                if (fieldSeen)
                {
                    return error("table size update after a field");
                }
                final int size = integer(block, 5);
                if (size < 0)
                {
                    return COMPRESSION_ERROR;
                }
                if (size > maxTableSizeSetting)
                {
                    return error("table size update above SETTINGS_HEADER_TABLE_SIZE");
                }
                tableCapacity = size;
                evictTo(size);
                continue;
            }
            // §6.2: literal with incremental indexing (01), without indexing (0000) or never indexed (0001)
            final boolean indexing = (first & 0xc0) == 0x40;
            final boolean neverIndexed = !indexing && (first & 0x10) != 0;
            final int nameIndex = integer(block, indexing ? 6 : 4);
            if (nameIndex < 0)
            {
                return COMPRESSION_ERROR;
            }
            if (nameIndex > StaticTable.LENGTH + count)
            {
                return error("name index beyond the tables");
            }
            fieldSeen = true;
            final int nameLength;
            if (nameIndex == 0)
            {
                nameLength = string(block, 0);
                if (nameLength < 0)
                {
                    return COMPRESSION_ERROR;
                }
            }
            else
            {
                nameLength = nameLengthAt(nameIndex);
                // past the list limit a name is only worth copying to enter the table
                if (indexing || listSize + nameLength + ENTRY_OVERHEAD <= maxHeaderListSize)
                {
                    copyName(nameIndex);
                }
            }
            final int valueLength = string(block, Math.min(nameLength, scratchBytes.length));
            if (valueLength < 0)
            {
                return COMPRESSION_ERROR;
            }
            final long fieldSize = (long)nameLength + valueLength + ENTRY_OVERHEAD;
            listSize += fieldSize;
            if (listSize <= maxHeaderListSize && nameLength + (long)valueLength <= scratchBytes.length)
            {
                listener.onField(scratch, 0, nameLength, nameLength, valueLength, neverIndexed);
            }
            if (indexing)
            {
                insert(nameLength, valueLength, fieldSize);
            }
        }
        return listSize > maxHeaderListSize ? HEADER_LIST_TOO_LARGE : OK;
    }

    /** Why the last {@link #decode} returned {@link #COMPRESSION_ERROR}: a constant, for the log. */
    public String errorReason()
    {
        return errorReason;
    }

    /** The dynamic table's size as §4.1 counts it. */
    public int tableSize()
    {
        return tableSize;
    }

    public int tableCapacity()
    {
        return tableCapacity;
    }

    public int tableCount()
    {
        return count;
    }

    /** Entry {@code i} of the dynamic table, 1 being the newest, as "name: value" (cold path: tests, debugging). */
    public String tableEntry(final int i)
    {
        if (i < 1 || i > count)
        {
            throw new IndexOutOfBoundsException(i);
        }
        final int slot = slot(i);
        final byte[] bytes = new byte[entryNameLength[slot] + entryValueLength[slot]];
        for (int k = 0; k < bytes.length; k++)
        {
            bytes[k] = ring[(entryStart[slot] + k) % ring.length];
        }
        final String text = new String(bytes, StandardCharsets.ISO_8859_1);
        return text.substring(0, entryNameLength[slot]) + ": " + text.substring(entryNameLength[slot]);
    }

    /** §5.1: an N-bit prefix integer at the cursor; -1 (with the reason set) when truncated or above 2^31-1. */
    private int integer(final DirectBuffer block, final int prefixBits)
    {
        final int prefixMax = (1 << prefixBits) - 1;
        long value = block.getByte(cursor++) & prefixMax;
        if (value < prefixMax)
        {
            return (int)value;
        }
        int shift = 0;
        while (true)
        {
            if (cursor >= end)
            {
                error("integer truncated");
                return -1;
            }
            if (shift > MAX_INTEGER_SHIFT)
            {
                error("integer too long");
                return -1;
            }
            final int b = block.getByte(cursor++) & 0xff;
            value += (long)(b & 0x7f) << shift;
            if (value > Integer.MAX_VALUE)
            {
                error("integer above 2^31-1");
                return -1;
            }
            if ((b & 0x80) == 0)
            {
                return (int)value;
            }
            shift += 7;
        }
    }

    /**
     * §5.2: a string literal at the cursor decoded into the scratch buffer from {@code at} (bytes that do not fit
     * are counted but dropped). Returns its decoded length, or -1 with the reason set.
     */
    private int string(final DirectBuffer block, final int at)
    {
        if (cursor >= end)
        {
            error("string missing at the end of the block");
            return -1;
        }
        final boolean huffman = (block.getByte(cursor) & 0x80) != 0;
        final int length = integer(block, 7);
        if (length < 0)
        {
            return -1;
        }
        if (length > end - cursor)
        {
            error("string runs past the block");
            return -1;
        }
        final int decoded;
        if (huffman)
        {
            decoded = Huffman.decode(block, cursor, length, scratch, at, scratchBytes.length);
            if (decoded < 0)
            {
                error("invalid Huffman string");
                return -1;
            }
        }
        else
        {
            decoded = length;
            final int fits = Math.min(length, scratchBytes.length - at);
            if (fits > 0)
            {
                block.getBytes(cursor, scratchBytes, at, fits);
            }
        }
        cursor += length;
        return decoded;
    }

    private int nameLengthAt(final int index)
    {
        return index <= StaticTable.LENGTH ? StaticTable.NAME_LENGTH[index] :
            entryNameLength[slot(index - StaticTable.LENGTH)];
    }

    private int valueLengthAt(final int index)
    {
        return index <= StaticTable.LENGTH ? StaticTable.VALUE_LENGTH[index] :
            entryValueLength[slot(index - StaticTable.LENGTH)];
    }

    private void copyName(final int index)
    {
        if (index <= StaticTable.LENGTH)
        {
            StaticTable.BYTES.getBytes(StaticTable.NAME_OFFSET[index], scratchBytes, 0, StaticTable.NAME_LENGTH[index]);
        }
        else
        {
            final int slot = slot(index - StaticTable.LENGTH);
            fromRing(entryStart[slot], entryNameLength[slot], 0);
        }
    }

    private void copyValue(final int index, final int at)
    {
        if (index <= StaticTable.LENGTH)
        {
            StaticTable.BYTES.getBytes(StaticTable.VALUE_OFFSET[index], scratchBytes, at,
                StaticTable.VALUE_LENGTH[index]);
        }
        else
        {
            final int slot = slot(index - StaticTable.LENGTH);
            fromRing((entryStart[slot] + entryNameLength[slot]) % ring.length, entryValueLength[slot], at);
        }
    }

    private void fromRing(final int start, final int length, final int at)
    {
        final int first = Math.min(length, ring.length - start);
        System.arraycopy(ring, start, scratchBytes, at, first);
        System.arraycopy(ring, 0, scratchBytes, at + first, length - first);
    }

    /** The slot of dynamic entry {@code i}, 1 being the newest (§2.3.3). */
    private int slot(final int i)
    {
        final int slot = newest - (i - 1);
        return slot < 0 ? slot + entryStart.length : slot;
    }

    /** §4.4: evict until the new entry fits; an entry larger than the table empties it and is not added. */
    private void insert(final int nameLength, final int valueLength, final long size)
    {
        evictTo(size > tableCapacity ? 0 : (int)(tableCapacity - size));
        if (size > tableCapacity)
        {
            return;
        }
        final int length = nameLength + valueLength;
        newest = newest + 1 == entryStart.length ? 0 : newest + 1;
        entryStart[newest] = ringWrite;
        entryNameLength[newest] = nameLength;
        entryValueLength[newest] = valueLength;
        count++;
        tableSize += (int)size;
        final int first = Math.min(length, ring.length - ringWrite);
        System.arraycopy(scratchBytes, 0, ring, ringWrite, first);
        System.arraycopy(scratchBytes, first, ring, 0, length - first);
        ringWrite = (ringWrite + length) % ring.length;
    }

    private void evictTo(final int size)
    {
        while (tableSize > size)
        {
            final int oldest = slot(count);
            tableSize -= entryNameLength[oldest] + entryValueLength[oldest] + ENTRY_OVERHEAD;
            count--;
        }
    }

    private int error(final String reason)
    {
        errorReason = reason;
        return COMPRESSION_ERROR;
    }
}
