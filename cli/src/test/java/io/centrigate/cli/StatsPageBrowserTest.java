package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 12: the live stats page ({@code GET /} on the admin listener) in a real browser, Debian's headless Chromium
 * driven by Selenium, against the real {@code centrigate run} process in front of two WebSocket nodes with real
 * tunnels: each node's row shows its tunnel count, and the numbers follow tunnels as they open and close.
 * Chromium and chromedriver come from {@code scripts/install-test-deps.sh} (run by {@code .ci/run}).
 */
@Timeout(180)
class StatsPageBrowserTest
{
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    private static void assumeChromium()
    {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
            "headless Chromium not installed (" + CHROMIUM + ", " + CHROMEDRIVER + "; Debian packages chromium and " +
            "chromium-driver, installed by scripts/install-test-deps.sh): stats page browser test skipped");
    }

    @Test
    void eachNodeShowsItsTunnelsAndTheNumbersFollowOpensAndCloses() throws Exception
    {
        assumeChromium();
        try (WsEchoUpstream a = WsEchoUpstream.start(0); WsEchoUpstream b = WsEchoUpstream.start(0);
            // Weights 3 and 2 with least-conn (relative to weight): 5 tunnels opened one after another split 3 / 2.
            CentrigateProcess proxy = CentrigateProcess.start(Map.of("CENTRIGATE_DRAIN_TIMEOUT", "1s"), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + a.getPort() + "@3,127.0.0.1:" + b.getPort() + "@2",
                "--balance", "least-conn", "--admin-listen", "127.0.0.1:0", "--loops", "2"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final InetSocketAddress listen = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
            final int admin = port(ADMIN, line);
            final WebDriver browser = chromium();
            try
            {
                browser.get("http://127.0.0.1:" + admin + "/");
                final WebDriverWait wait = new WebDriverWait(browser, WAIT, Duration.ofMillis(100));
                wait.until(d -> tunnels(d, a).equals("0") && tunnels(d, b).equals("0"));
                assertEquals("version " + Main.version(), browser.findElement(By.id("version")).getText());
                assertEquals("ready", browser.findElement(By.id("state")).getText());
                assertEquals("up", cell(browser, a, "state"));
                assertEquals("3", cell(browser, a, "weight"));
                assertEquals("2", cell(browser, b, "weight"));

                // Open 5 tunnels one at a time, noting the node each one reached.
                final List<WsClient> onA = new ArrayList<>();
                final List<WsClient> onB = new ArrayList<>();
                for (int i = 0; i < 5; i++)
                {
                    final int before = a.opened();
                    final WsClient tunnel = WsClient.connect(http, listen, "/connection/websocket");
                    assertEquals("hi " + i, tunnel.echoText("hi " + i));
                    (a.opened() > before ? onA : onB).add(tunnel);
                }
                assertEquals(3, onA.size(), "least-conn with weights 3 and 2 splits 5 tunnels 3 / 2");
                assertEquals(2, onB.size());
                wait.until(d -> tunnels(d, a).equals("3") && tunnels(d, b).equals("2"));

                // Close 2 of node A's tunnels: A shows 1, B still 2.
                for (final WsClient tunnel : onA.subList(0, 2))
                {
                    tunnel.socket().sendClose(1000, "bye").get(20, TimeUnit.SECONDS);
                    tunnel.closed().get(20, TimeUnit.SECONDS);
                }
                poll(() -> a.openNow() == 1 && b.openNow() == 2);
                wait.until(d -> tunnels(d, a).equals("1") && tunnels(d, b).equals("2"));
                assertEquals("", browser.findElement(By.id("banner")).getText(), "no disconnected banner");
                final String process = browser.findElement(By.id("process")).getText();
                assertTrue(process.toLowerCase(java.util.Locale.ROOT).contains("connections open"), process);

                // Some traffic while the sparklines draw a few points, then keep the picture (docs/stats-page.png).
                for (int i = 0; i < 30; i++)
                {
                    for (final WsClient tunnel : List.of(onA.get(2), onB.get(0), onB.get(1)))
                    {
                        assertEquals("x".repeat(1000), tunnel.echoText("x".repeat(1000)));
                    }
                    Thread.sleep(100);
                }
                final Path shot = Path.of("target", "stats-page.png");
                Files.createDirectories(shot.getParent());
                Files.copy(((TakesScreenshot)browser).getScreenshotAs(OutputType.FILE).toPath(), shot,
                    StandardCopyOption.REPLACE_EXISTING);

                // The page ran under its Content-Security-Policy without a violation (inline script and style only).
                for (final LogEntry entry : browser.manage().logs().get(LogType.BROWSER))
                {
                    assertTrue(!entry.getMessage().contains("Content Security Policy"), entry.getMessage());
                }

                // The process goes away: the page says so instead of showing stale numbers as if live.
                proxy.terminate();
                assertEquals(0, proxy.exitCode(30));
                wait.until(d -> d.findElement(By.id("banner")).getText().startsWith("disconnected"));
            }
            finally
            {
                browser.quit();
            }
        }
    }

    /**
     * The page's own logic against a scripted {@code /status} (the page bytes from the jar, under the same policy):
     * per-node counters become rates, {@code tunnels} wins over {@code active_connections}, absent fields show a
     * dash, close codes are ranked, a slow {@code /status} never sees two fetches at once, an error shows the banner.
     */
    @Test
    void perNodeCountersBecomeRatesFetchesNeverOverlapAndErrorsShowTheBanner() throws Exception
    {
        assumeChromium();
        final byte[] page;
        try (var in = StatsPageBrowserTest.class.getResourceAsStream("/io/centrigate/admin/stats.html"))
        {
            page = in.readAllBytes();
        }
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicBoolean failing = new AtomicBoolean();
        final HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", exchange ->
        {
            final boolean status = exchange.getRequestURI().getPath().equals("/status");
            byte[] body = page;
            int code = 200;
            if (status)
            {
                maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                final int n = calls.incrementAndGet();
                try
                {
                    Thread.sleep(n <= 3 ? 1_500 : 0); // slower than the page's period: the next fetch must wait
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
                inFlight.decrementAndGet();
                code = failing.get() ? 500 : 200;
                body = scriptedStatus(n).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
            }
            else
            {
                exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; " +
                    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
            }
            exchange.sendResponseHeaders(code, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        final WebDriver browser = chromium();
        try
        {
            browser.get("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            final WebDriverWait wait = new WebDriverWait(browser, WAIT, Duration.ofMillis(100));
            final By a = By.cssSelector("tr[data-address='10.0.0.1:8000']");
            final By b = By.cssSelector("tr[data-address='10.0.0.2:8000']");
            // Two samples are needed for a rate: handshakes +10, requests +4, bytes up +512, down +2048 per second.
            wait.until(d -> !d.findElement(a).findElement(By.className("handshakes")).getText().equals("\u2013"));
            final var rowA = browser.findElement(a);
            assertEquals("7", rowA.findElement(By.className("tunnels")).getText(), "tunnels wins over active_connections");
            assertEquals("10.0", rowA.findElement(By.className("handshakes")).getText());
            assertEquals("4.00", rowA.findElement(By.className("requests")).getText());
            assertEquals("512 B", rowA.findElement(By.className("up")).getText());
            assertEquals("2.0 KiB", rowA.findElement(By.className("down")).getText());
            assertEquals("4", rowA.findElement(By.className("errors")).getText());
            assertEquals("3001\u00d712 1000\u00d75 1001\u00d71", rowA.findElement(By.className("codes")).getText());
            final var rowB = browser.findElement(b);
            assertEquals("2", rowB.findElement(By.className("tunnels")).getText(), "active_connections without tunnels");
            assertEquals("down", rowB.findElement(By.className("state")).getText());
            for (final String absent : List.of("handshakes", "requests", "up", "down", "errors", "codes"))
            {
                assertEquals("\u2013", rowB.findElement(By.className(absent)).getText(), absent);
            }
            assertEquals("draining", browser.findElement(By.id("state")).getText());
            assertEquals(1, maxInFlight.get(), "two /status fetches at once");

            failing.set(true);
            wait.until(d -> d.findElement(By.id("banner")).getText().startsWith("disconnected from /status (HTTP 500)"));
            failing.set(false);
            wait.until(d -> d.findElement(By.id("banner")).getText().isEmpty());
        }
        finally
        {
            browser.quit();
            server.stop(0);
            ((java.util.concurrent.ExecutorService)server.getExecutor()).shutdownNow();
        }
    }

    /** The n-th answer of the scripted /status: one second of server time per answer, counters growing steadily. */
    private static String scriptedStatus(final int n)
    {
        return "{\"version\":\"1.2.3\",\"uptime_seconds\":" + n + ".0,\"ready\":false,\"not_ready_reason\":\"draining\"," +
            "\"draining\":true,\"loops\":2,\"connections_open\":9,\"upstreams\":[{\"group\":\"default\",\"nodes\":[" +
            "{\"address\":\"10.0.0.1:8000\",\"weight\":3,\"state\":\"up\",\"active_connections\":9,\"connect_failures\":0," +
            "\"tunnels\":7,\"requests_active\":1,\"handshakes_total\":" + 10 * n + ",\"requests_total\":" + 4 * n + "," +
            "\"bytes_up_total\":" + 512 * n + ",\"bytes_down_total\":" + 2048 * n + ",\"errors_total\":4," +
            "\"close_codes\":{\"1000\":5,\"3001\":12,\"1001\":1,\"4000\":0}}," +
            "{\"address\":\"10.0.0.2:8000\",\"weight\":1,\"state\":\"down\",\"active_connections\":2,\"connect_failures\":3}" +
            "]}],\"totals\":{\"tunnels_open\":9,\"tunnels_opened\":" + 10 * n + ",\"requests\":" + 4 * n + "}}";
    }

    private WebDriver chromium()
    {
        final ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,720", "--user-data-dir=" + dir.resolve("chromium"));
        final LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        final ChromeDriverService service = new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
            .withLogFile(new File(dir.toFile(), "chromedriver.log")).build();
        return new ChromeDriver(service, options);
    }

    private static String cell(final WebDriver d, final WsEchoUpstream node, final String column)
    {
        return d.findElement(By.cssSelector("tr[data-address='127.0.0.1:" + node.getPort() + "'] td." + column)).getText();
    }

    /** The node's tunnel count as the page shows it; empty while its row is not there yet. */
    private static String tunnels(final WebDriver d, final WsEchoUpstream node)
    {
        final var found = d.findElements(By.cssSelector("tr[data-address='127.0.0.1:" + node.getPort() + "'] td.tunnels"));
        return found.isEmpty() ? "" : found.get(0).getText();
    }

    private static void poll(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "condition not met within " + WAIT);
            Thread.sleep(20);
        }
    }

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }
}
