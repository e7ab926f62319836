// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.DemoRestVerticle;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.support.Browsers;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A browser page with a DataSnap REST callback channel, through dstunnel, in a real browser
 * (Debian's chromium and chromedriver, which .ci/run installs): the page (the demo server's
 * {@code /app/channel.html}) loads through dstunnel's pass-through, registers its channel with a
 * GET, polls with POSTs, and shows the broadcasts a plain HTTP client sends through dstunnel.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RestChannelBrowserIT {

  private static final String ADMIN = basic("admin", "admin");

  private WebDriver driver;

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  @Test
  void aPageThroughDstunnelSeesTheBroadcastsOfItsChannel(io.vertx.core.Vertx vertx) {
    driver = Browsers.chromium();
    DemoServerVerticle tcp = new DemoServerVerticle("127.0.0.1", 0, "A");
    vertx.deployVerticle(tcp).await();
    DemoRestVerticle rest = new DemoRestVerticle("127.0.0.1", 0, "A");
    vertx.deployVerticle(rest).await();
    Proxies config = Proxies.config().backend("a", tcp.actualPort(), 0);
    config.json().getJsonArray("backends").getJsonObject(0).put("httpPort", rest.actualPort());
    Dstunnel proxy = config.start(vertx);

    driver.get("http://127.0.0.1:" + proxy.port() + "/app/channel.html");
    driver.findElement(By.id("user")).sendKeys("admin");
    driver.findElement(By.id("password")).sendKeys("admin");
    driver.findElement(By.id("connect")).click();
    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
    wait.ignoring(StaleElementReferenceException.class);
    wait.until(d -> "listening".equals(d.findElement(By.id("status")).getDomAttribute("data-state"))
        || "failed".equals(d.findElement(By.id("status")).getDomAttribute("data-state")));
    assertThat(driver.findElement(By.id("status")).getText()).startsWith("Listening");

    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer sent = http.get("/datasnap/rest/DSAdmin/BroadcastToChannel/news/%22hello%20browser%22",
        "Authorization", ADMIN);
    assertThat(sent.json().getJsonArray("result").getValue(0)).as(sent.body().toString()).isEqualTo(true);
    wait.until(d -> d.findElements(By.cssSelector("#messages li.broadcast")).stream()
        .anyMatch(li -> li.getText().equals("hello browser")));

    // The framework's form: a JSON object in a POST's body; the page's loop polled again for it.
    JsonObject value = new JsonObject().put("n", 2).put("list", new JsonArray().add("x"));
    Answer posted = http.send(HttpMethod.POST, "/datasnap/rest/DSAdmin/%22BroadcastToChannel%22/news/", value.toBuffer(),
        "Authorization", ADMIN, "Content-Type", "application/json");
    assertThat(posted.json().getJsonArray("result").getValue(0)).isEqualTo(true);
    wait.until(d -> d.findElements(By.cssSelector("#messages li.broadcast")).stream()
        .anyMatch(li -> new JsonObject().put("n", 2).put("list", new JsonArray().add("x")).encode().equals(li.getText())));
    assertThat(driver.findElements(By.cssSelector("#messages li"))).hasSize(2);
    assertThat(driver.findElement(By.id("status")).getDomAttribute("data-state")).isEqualTo("listening");
    // The registration, the two polls answered, and the next poll, waiting.
    wait.until(d -> rest.calls("DSAdmin.ConsumeClientChannel") == 4);
  }
}
