package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.http.HttpError;

class ErrorAnswersTest
{
    private static String written(final ErrorAnswers answers, final HttpError error, final long seconds)
    {
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[4096]);
        final int n = answers.write(error, seconds, dst);
        return dst.getStringWithoutLengthAscii(0, n);
    }

    @Test
    void theRetryAfterOfAnAnswerTakesTheWaitThatWasComputed(@TempDir final Path dir) throws Exception
    {
        final ErrorAnswers defaults = new ErrorAnswers(Map.of(), 32 * 1024);
        final String generated = new String(HttpError.CLIENT_HANDSHAKE_RATE.response(), StandardCharsets.US_ASCII);
        assertEquals(generated, written(defaults, HttpError.CLIENT_HANDSHAKE_RATE, 1));
        assertEquals(generated.replace("Retry-After: 1\r\n", "Retry-After: 57\r\n"),
            written(defaults, HttpError.CLIENT_HANDSHAKE_RATE, 57));
        assertEquals(generated.replace("Retry-After: 1\r\n", "Retry-After: 99999999\r\n"),
            written(defaults, HttpError.CLIENT_HANDSHAKE_RATE, Long.MAX_VALUE));
        assertEquals(new String(HttpError.MISSING_HOST.response(), StandardCharsets.US_ASCII),
            written(defaults, HttpError.MISSING_HOST, 30), "an answer without the field is written as it is");

        final Path page = Files.writeString(dir.resolve("503.html"), "<p>busy</p>\n");
        final ErrorAnswers custom = new ErrorAnswers(Map.of(503, page), 32 * 1024);
        final String answer = written(custom, HttpError.HANDSHAKE_ADMISSION, 12);
        assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), answer);
        assertTrue(answer.contains("\r\nRetry-After: 12\r\n"), answer);
        assertTrue(answer.endsWith("\r\n\r\n<p>busy</p>\n"), answer);
    }
}
