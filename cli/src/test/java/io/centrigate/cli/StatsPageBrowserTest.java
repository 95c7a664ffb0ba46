package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Test
    void eachNodeShowsItsTunnelsAndTheNumbersFollowOpensAndCloses() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
            "headless Chromium not installed (" + CHROMIUM + ", " + CHROMEDRIVER + "; Debian packages chromium and " +
            "chromium-driver, installed by scripts/install-test-deps.sh): stats page browser test skipped");
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
