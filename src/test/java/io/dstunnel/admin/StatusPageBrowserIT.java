// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.BackendMode;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Calls;
import io.dstunnel.support.Browsers;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page in a real browser ({@link Browsers#chromium}: Debian's chromium and chromedriver):
 * a demo server is killed and the page shows the backend down and the failover; the operator
 * drains a backend with the page's button (a same-origin action, on the audit trail); and a form on
 * another site, posting to the admin API with the browser's remembered credentials, changes nothing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatusPageBrowserIT {

  private WebDriver driver;

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  @Test
  void pageShowsTheBackendDownAndTheFailover(Vertx vertx) throws Exception {
    driver = Browsers.chromium();
    driver.manage().window().setSize(new Dimension(1280, 1000));
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("health", "intervalMs", 100).set("health", "fall", 1).start(vertx);
    Calls session = Calls.open(vertx, proxy);
    assertThat(session.server()).isEqualTo("A");

    // Credentials in the URL, as an operator types them: no DevTools, so any chromium version does,
    // and the page's own fetches must not carry the URL's credentials (fetch refuses those).
    driver.get("http://admin:admin@127.0.0.1:" + proxy.adminPort() + "/admin/");
    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
    // The page redraws its lists on every refresh: an element found just before a redraw is stale
    // by the time its text is read, and the condition is simply asked again.
    wait.ignoring(StaleElementReferenceException.class);
    wait.until(d -> "UP".equals(d.findElement(By.id("backend-a")).getDomAttribute("data-state")));
    wait.until(d -> d.findElement(By.id("backend-a")).getText().contains("UP"));

    a.kill();
    assertThat(session.server()).isEqualTo("B");

    wait.until(d -> "DOWN".equals(d.findElement(By.id("backend-a")).getDomAttribute("data-state")));
    wait.until(d -> d.findElements(By.cssSelector("#failovers li.failover")).stream()
        .anyMatch(li -> li.getText().contains("a → b")));
    wait.until(d -> d.findElement(By.id("backend-a")).getText().contains("DOWN"));
    wait.until(d -> d.findElement(By.id("health")).getText().contains("a DOWN"));
    // An action from the page itself: accepted, and shown on the audit trail. (Clicked inside the
    // wait: a redraw between finding the button and clicking it makes it stale, and it is found again.)
    wait.until(d -> {
      d.findElement(By.id("drain-b")).click();
      return true;
    });
    wait.until(d -> proxy.pool().byName("b").mode() == BackendMode.DRAIN);
    wait.until(d -> d.findElements(By.cssSelector("#audit tr.audit")).stream()
        .anyMatch(tr -> tr.getText().contains("admin drain backend b 127.0.0.1 ok")));

    // Another site's form posting to the admin API (cross-site request forgery): the browser sends
    // the credentials it remembers, the admin listener refuses the action.
    HttpServer evil = vertx.createHttpServer().requestHandler(req -> req.response()
        .putHeader("Content-Type", "text/html").end("<form id=f method=POST action='http://127.0.0.1:"
            + proxy.adminPort() + "/admin/backends/b/disable'></form><script>f.submit()</script>"))
        .listen(0, "127.0.0.1").await();
    String page = driver.getWindowHandle();
    driver.switchTo().newWindow(WindowType.TAB);
    driver.get("http://localhost:" + evil.actualPort() + "/");
    wait.until(d -> d.getCurrentUrl().endsWith("/admin/backends/b/disable"));
    // Chromium sends the remembered credentials and the guard refuses (403); a browser that did not
    // send them would get 401. Either way nothing changes (AdminRolesTest checks the guard itself).
    assertThat(driver.getPageSource()).containsAnyOf("Cross-site admin action refused", "Authentication failed");
    assertThat(proxy.pool().byName("b").mode()).isEqualTo(BackendMode.DRAIN);
    driver.switchTo().window(page);

    // The charts of the last minutes (a sample every 5 s, drawn as SVG by the page itself) and the
    // node panel: the failover is a bar, the requests and sessions are lines.
    wait.until(d -> points(d, "chart-requests") >= 2 && points(d, "chart-sessions") >= 2);
    wait.until(d -> !d.findElements(By.cssSelector("#chart-failovers svg rect.bar")).isEmpty());
    wait.until(d -> points(d, "chart-latency") >= 1);
    // (Each read inside a wait: the page redraws every few seconds, and an element read across a
    // redraw is stale; the wait finds it again.)
    for (String chart : new String[] {"chart-requests", "chart-sessions", "chart-latency"}) {
      wait.until(d -> String.valueOf(d.findElement(By.cssSelector("#" + chart + " svg path.line")).getDomAttribute("d"))
          .startsWith("M"));
    }
    wait.until(d -> d.findElement(By.cssSelector("#chart-sessions .now")).getText().startsWith("1"));
    wait.until(d -> d.findElement(By.id("node-0")).getText().contains("127.0.0.1:" + proxy.port()));
    wait.until(d -> String.valueOf(d.findElement(By.id("node-0")).getDomAttribute("class")).contains("node-self"));
    wait.until(d -> {
      String text = d.findElement(By.id("node-0")).getText();
      return text.contains("serving") && text.contains("development");
    });
    assertThat(driver.findElements(By.cssSelector("script[src^='http'], link[href^='http']")))
        .as("nothing fetched from elsewhere").isEmpty();

    // For a person to look at: target/status-page.png; with -Ddocs.screenshot=true also the one the
    // operations page shows (src/site/markdown/images/status-page.png).
    byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
    Files.write(Path.of("target", "status-page.png"), png);
    if (Boolean.getBoolean("docs.screenshot")) {
      Files.write(Path.of("src", "site", "markdown", "images", "status-page.png"), png);
    }
  }

  /** How many points chart {@code id} draws (the page writes it on the chart). */
  private static int points(WebDriver d, String id) {
    String n = d.findElement(By.id(id)).getDomAttribute("data-points");
    return n == null ? 0 : Integer.parseInt(n);
  }
}
