package io.centrigate.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.http.HttpError;

/**
 * The full bytes of every answer centrigate generates, built once at start: the short {@code text/plain}
 * default, or an operator's page for that status ({@code --error-page 502=/path/50x.html}, like Nginx's
 * {@code error_page}). Always with {@code Content-Length} and {@code Connection: close}, since the connection
 * ends after an error.
 */
final class ErrorAnswers
{
    private static final byte[] RETRY_AFTER = "\r\nRetry-After: 1\r\n".getBytes(StandardCharsets.US_ASCII);

    private final DirectBuffer[] answers = new DirectBuffer[HttpError.values().length];
    /** Where the {@code 1} of an answer's {@code Retry-After: 1} is, to write another number there; -1: none. */
    private final int[] retryAfterAt = new int[HttpError.values().length];

    ErrorAnswers(final Map<Integer, Path> pages, final int maxBytes)
    {
        for (final HttpError error : HttpError.values())
        {
            final Path page = pages.get(error.status());
            answers[error.ordinal()] = page == null ? error.responseBuffer() : custom(error, page, maxBytes);
            retryAfterAt[error.ordinal()] = retryAfterDigit(answers[error.ordinal()]);
        }
    }

    private static int retryAfterDigit(final DirectBuffer answer)
    {
        outer:
        for (int i = 0; i + RETRY_AFTER.length <= answer.capacity(); i++)
        {
            for (int j = 0; j < RETRY_AFTER.length; j++)
            {
                if (answer.getByte(i + j) != RETRY_AFTER[j])
                {
                    continue outer;
                }
            }
            return i + RETRY_AFTER.length - 3;
        }
        return -1;
    }

    /**
     * Writes {@code error}'s answer into {@code dst} with {@code Retry-After: seconds} (1..99999999) instead of the
     * generated 1; an answer without the field is written as it is.
     *
     * @return the length written.
     */
    int write(final HttpError error, final long seconds, final org.agrona.MutableDirectBuffer dst)
    {
        final DirectBuffer answer = answers[error.ordinal()];
        final int at = retryAfterAt[error.ordinal()];
        if (at < 0 || seconds <= 1)
        {
            dst.putBytes(0, answer, 0, answer.capacity());
            return answer.capacity();
        }
        dst.putBytes(0, answer, 0, at);
        final int digits = dst.putLongAscii(at, Math.min(seconds, 99_999_999L));
        dst.putBytes(at + digits, answer, at + 1, answer.capacity() - at - 1);
        return answer.capacity() - 1 + digits;
    }

    private static DirectBuffer custom(final HttpError error, final Path page, final int maxBytes)
    {
        final byte[] body;
        try
        {
            body = Files.readAllBytes(page);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("error-page " + error.status() + ": " + e.getMessage(), e);
        }
        // The generated answer's own extra fields (Retry-After, Sec-WebSocket-Version) are kept.
        final String generated = new String(error.response(), StandardCharsets.ISO_8859_1);
        final int headEnd = generated.indexOf("\r\n\r\n");
        final StringBuilder head = new StringBuilder();
        for (final String line : generated.substring(0, headEnd).split("\r\n"))
        {
            if (!line.regionMatches(true, 0, "Content-Type:", 0, 13) && !line.regionMatches(true, 0, "Content-Length:", 0, 15))
            {
                head.append(line).append("\r\n");
            }
        }
        head.append("Content-Type: text/html; charset=utf-8\r\nContent-Length: ").append(body.length).append("\r\n\r\n");
        final byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (headBytes.length + body.length > maxBytes)
        {
            throw new IllegalArgumentException("error-page " + error.status() + ": " + page + " is larger than " +
                (maxBytes - headBytes.length) + " bytes (one chunk)");
        }
        final byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return new UnsafeBuffer(all);
    }

    DirectBuffer answer(final HttpError error)
    {
        return answers[error.ordinal()];
    }
}
